"""Grading a coding reply: find the code in it, run the problem's tests in the sandbox."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

from scaffold.config import SandboxLimits
from scaffold.tasks._coding_harness import MARK
from scaffold.tasks._problems import Problem
from scaffold.tasks.sandbox import SandboxResult, run_python

GRADING_OUTPUT_CHARS = 64_000
"""Output a grading run may produce (the runner reads it, the agent sees only a summary)."""
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
    blocks = [body for lang, body in _FENCE.findall(reply)
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
    """The grading run's exit status."""
    killed_reason: str | None = None
    """The sandbox limit that stopped the grading run, if one did."""
    protections: list[str] = Field(default_factory=list)
    """The sandbox mechanisms that were active."""
    no_code: bool = False
    """The reply held no code to grade."""

    @property
    def solved(self) -> bool:
        """Every test passed."""
        return self.total > 0 and self.passed == self.total


@functools.cache
def _harness() -> str:
    return resources.files("scaffold.tasks").joinpath("_coding_harness.py").read_text("utf-8")


def _report(problem: Problem, result: SandboxResult) -> TestReport:
    """Read the harness's result lines out of a grading run."""
    passed, failures, load_error, output = 0, [], None, ""
    for line in result.stdout.split("\n"):
        if not line.startswith(MARK):
            continue
        try:
            record = json.loads(line[len(MARK):])
        except json.JSONDecodeError:
            continue
        if "load_error" in record:
            load_error = str(record["load_error"])
        elif "output" in record:
            output = str(record["output"])
        elif record.get("ok"):
            passed += 1
        elif isinstance(record.get("i"), int) and 0 <= record["i"] < len(problem.tests):
            call = problem.tests[record["i"]].call
            failures.append(f"{call} -> {record['error']}" if "error" in record else
                            f"{call} -> expected {record.get('want')}, got {record.get('got')}")
    return TestReport(passed=min(passed, len(problem.tests)), total=len(problem.tests),
                      failures=failures, load_error=load_error, output=output,
                      stderr=result.stderr[-STDERR_KEPT:], exit_code=result.exit_code,
                      killed_reason=result.killed_reason, protections=result.protections)


async def grade(problem: Problem, code: str, limits: SandboxLimits) -> TestReport:
    """Run `problem`'s tests against `code`, inside the sandbox.

    Args:
        problem: the problem (its tests travel as data; the harness evaluates them).
        code: the solution's source.
        limits: the sandbox limits (output is raised so results are never cut).

    Returns:
        The report; a solution that crashes, loops or floods is a failed report, not an error.
    """
    tests = {"entry": problem.entry, "tests": [t.model_dump() for t in problem.tests]}
    files = {"solution.py": code, "tests.json": json.dumps(tests)}
    wide = limits.model_copy(
        update={"output_chars": max(limits.output_chars, GRADING_OUTPUT_CHARS)})
    result = await run_python(_harness(), wide, files=files)
    return _report(problem, result)
