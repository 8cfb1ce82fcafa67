"""Grading a coding reply: find the code in it, run the calls in the sandbox, compare here.

The solution runs under `_coding_harness` (see there for why a supervisor process): the sandbox
only ever gets the test *calls*; each call's return value comes back encoded as a built-in value
(`_coding_values`) and is compared here, in the runner, with the expected value. Expected
values are Python literals read with `ast.literal_eval`, or, for any other expression, computed
by a separate sandbox run that holds no solution (cached per problem). A test passes only with a
supervisor record carrying a value equal to the expected one: missing records (the code exited
early, was killed, or stopped the harness) are failures, and a results stream the code tampered
with voids every result of the run.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scaffold.config import SandboxLimits
from scaffold.tasks import _coding_values as values
from scaffold.tasks._coding_harness import LINE_CHARS, SPEC_FILE
from scaffold.tasks._problems import Problem
from scaffold.tasks.sandbox import SandboxResult, limit_reason, run_python

GRADING_OUTPUT_CHARS = 64_000
"""Output a grading run may produce besides its results (the agent sees only a summary)."""
STDERR_KEPT = 800
"""Characters of the grading run's stderr kept in a report."""
PYTHON_FENCES = {"", "python", "py", "python3"}

_FENCE = re.compile(r"```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


def defines(code: str, name: str) -> bool:
    """Whether `code` defines a function called `name` (a textual check, nothing is run)."""
    pattern = rf"^\s*(?:async\s+)?def\s+{re.escape(name)}\s*\("
    return re.search(pattern, code, re.MULTILINE) is not None


def extract_code(reply: str, entry: str) -> str | None:
    """The solution in a reply: the last Python code block defining `entry`, else the last
    Python code block (an unclosed block at the end counts: replies get cut off)."""
    blocks: list[str] = [body for lang, body in _FENCE.findall(reply)
              if lang.lower() in PYTHON_FENCES and body.strip()]
    if not blocks:
        return None
    defining = [b for b in blocks if defines(b, entry)]
    return (defining or blocks)[-1]


class TestReport(BaseModel):
    """How one solution fared against its problem's tests (JSON in the task state)."""

    __test__ = False  # not a pytest class
    model_config = ConfigDict(frozen=True, extra="forbid")

    passed: int = 0
    """Tests passed."""
    total: int
    """Tests run."""
    failures: list[str] = Field(default_factory=list)
    """One line per failed test: the call, what was expected and what came back."""
    load_error: str | None = None
    """The traceback when the solution could not even be loaded."""
    output: str = ""
    """What the solution printed (bounded)."""
    stderr: str = ""
    """The end of the grading run's stderr (interpreter crashes, sandbox messages)."""
    exit_code: int | None = None
    """The exit status of the process that ran the solution (-N: signal N ended it)."""
    killed_reason: str | None = None
    """The sandbox limit that stopped the grading run, if one did."""
    protections: list[str] = Field(default_factory=list)
    """The sandbox mechanisms that were active."""
    no_code: bool = False
    """The reply held no code to grade."""
    results_void: str | None = None
    """Why no result of the run counts: the code under test wrote to the harness's results
    channel (None: it did not)."""

    @property
    def solved(self) -> bool:
        """Every test passed."""
        return self.total > 0 and self.passed == self.total




@dataclass(frozen=True)
class Outcome:
    """One evaluated expression: a built-in value, or why there is none."""

    value: Any = None
    error: str | None = None


@dataclass
class HarnessRun:
    """What a harness run reported: one outcome per expression it got to, and how it ended."""

    sandbox: SandboxResult
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    load_error: str | None = None
    done: dict[str, Any] | None = None
    """The supervisor's closing record; None when the harness never got to write it."""

    @property
    def void(self) -> str | None:
        """Why no outcome counts (the code wrote to the results channel)."""
        violation = (self.done or {}).get("violation")
        return f"the code wrote to the grading harness's results pipe ({violation})" \
            if violation else None


@functools.cache
def _source(name: str) -> str:
    return resources.files("scaffold.tasks").joinpath(name).read_text("utf-8")


def _decoded(record: dict[str, Any]) -> Outcome:
    if "error" in record:
        return Outcome(error=str(record["error"]))
    try:
        return Outcome(value=values.decode(record.get("value")))
    except (ValueError, RecursionError) as exc:
        return Outcome(error=f"unreadable result ({exc})")


def parse_harness(result: SandboxResult) -> HarnessRun:
    """The supervisor's records in a harness run's stdout (it alone writes there)."""
    run = HarnessRun(result)
    for line in result.stdout.split("\n"):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue  # a cut marker, or a line the output limit cut
        if not isinstance(record, dict):
            continue
        if isinstance(record.get("done"), dict):
            run.done = record["done"]
        elif "load_error" in record:
            run.load_error = str(record["load_error"])
        elif type(record.get("i")) is int and record["i"] not in run.outcomes:
            run.outcomes[record["i"]] = _decoded(record)
    return run


async def run_harness(exprs: list[str], limits: SandboxLimits, *, entry: str | None = None,
                      code: str | None = None) -> HarnessRun:
    """Evaluate `exprs` in the sandbox, after loading `code` (which must define `entry`) if
    given, and read back what the harness's supervisor reported."""
    spec = {"entry": entry, "solution": "solution.py" if code is not None else None,
            "exprs": exprs}
    files = {SPEC_FILE: json.dumps(spec), "_coding_values.py": _source("_coding_values.py")}
    if code is not None:
        files["solution.py"] = code
    wide = limits.model_copy(update={
        "output_chars": max(limits.output_chars,
                            GRADING_OUTPUT_CHARS + len(exprs) * (LINE_CHARS + 100)),
        "processes": limits.processes + 1})  # the supervisor is one more process
    result = await run_python(_source("_coding_harness.py"), wide, files=files)
    return parse_harness(result)


_expected_cache: dict[tuple[str, ...], list[Outcome]] = {}


async def expected_values(problem: Problem, limits: SandboxLimits) -> list[Outcome]:
    """The value each test expects: literals read here, anything else computed in a sandbox
    run without the solution (cached once every value was computed)."""
    exprs = tuple(t.expect for t in problem.tests)
    try:
        return [Outcome(value=ast.literal_eval(e)) for e in exprs]
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if exprs in _expected_cache:
        return _expected_cache[exprs]
    run = await run_harness(list(exprs), limits)
    why = _missing_reason(run, limits)
    outcomes = [run.outcomes.get(i, Outcome(error=f"no value ({why})")) for i in range(len(exprs))]
    if run.done is not None and not run.void and all(o.error is None for o in outcomes):
        _expected_cache[exprs] = outcomes
    return outcomes


def _killed(run: HarnessRun, limits: SandboxLimits) -> str | None:
    if run.sandbox.killed_reason or run.done is None:
        return run.sandbox.killed_reason
    return limit_reason(run.done, str(run.done.get("last_words", "")), limits.cpu_s)


def _missing_reason(run: HarnessRun, limits: SandboxLimits) -> str:
    """Why a test has no result."""
    if run.void:
        return f"results void: {run.void}"
    killed = _killed(run, limits)
    if killed:
        return f"stopped by the {killed} limit"
    if run.done is None:
        return f"the grading harness did not finish ({run.sandbox.verdict()})"
    ended = run.done
    how = f"signal {ended['signal']}" if ended.get("signal") else f"exit {ended.get('exit')}"
    return f"the solution's process ended before this test ({how})"


def _failure(call: str, want: Outcome, got: Outcome | None, missing: str) -> str | None:
    """Why a test failed, or None when it passed."""
    if got is None:
        return f"{call} -> no result ({missing})"
    if want.error is not None:
        return f"{call} -> the expected value could not be computed ({want.error})"
    if got.error is not None:
        return f"{call} -> {got.error}"
    if got.value == want.value:  # both built-in values: no code of the solution runs here
        return None
    return f"{call} -> expected {values.show(want.value)}, got {values.show(got.value)}"


def _report(problem: Problem, expected: list[Outcome], run: HarnessRun,
            limits: SandboxLimits) -> TestReport:
    """Compare what the solution returned with what the tests expect."""
    passed, failures = 0, []
    missing = _missing_reason(run, limits)
    for i, test in enumerate(problem.tests):
        got = None if run.void else run.outcomes.get(i)
        if run.load_error is not None and got is None:
            continue  # the load error says it all
        failure = _failure(test.call, expected[i], got, missing)
        if failure is None:
            passed += 1
        else:
            failures.append(failure)
    done = run.done or {}
    signum = done.get("signal")
    exit_code = (-signum if signum else done.get("exit")) if run.done else run.sandbox.exit_code
    return TestReport(passed=passed, total=len(problem.tests), failures=failures,
                      load_error=run.load_error, output=str(done.get("output", "")),
                      stderr=run.sandbox.stderr[-STDERR_KEPT:], exit_code=exit_code,
                      killed_reason=_killed(run, limits), protections=_protections(run),
                      results_void=run.void)


def _protections(run: HarnessRun) -> list[str]:
    extra = ["harness-supervisor"] if (run.done or {}).get("protected") else []
    return [*run.sandbox.protections, *extra]


async def grade(problem: Problem, code: str, limits: SandboxLimits) -> TestReport:
    """Run `problem`'s test calls against `code` in the sandbox and compare the results here.

    Args:
        problem: the problem (its calls travel as data; the harness evaluates them).
        code: the solution's source.
        limits: the sandbox limits (output is raised so results are never cut, and processes
            by one for the harness's supervisor).

    Returns:
        The report; a solution that crashes, loops, floods or tampers is a failed report, not
        an error.
    """
    expected = await expected_values(problem, limits)
    calls = [t.call for t in problem.tests]
    run = await run_harness(calls, limits, entry=problem.entry, code=code)
    return _report(problem, expected, run, limits)
