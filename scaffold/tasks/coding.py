"""Coding task: each agent solves programming problems, graded by a real sandboxed interpreter."""

from __future__ import annotations

from typing import Any

from scaffold.registry import task
from scaffold.tasks._grading import TestReport, defines, extract_code, grade
from scaffold.tasks._problems import Problem, load_problems
from scaffold.tasks.base import (
    AgentTurn,
    PerAgentTask,
    TaskContext,
    TaskOutcome,
    TaskTool,
    TaskTurn,
)
from scaffold.tasks.sandbox import SandboxResult, run_python

FAILURES_SHOWN = 3
"""Failed tests quoted in feedback."""
EXCERPT_CHARS = 600
"""Characters of output or errors quoted in feedback."""
PYTHON_TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"code": {"type": "string", "description": "Python source to run."}},
    "required": ["code"],
}


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else "..." + text[-EXCERPT_CHARS:]


def problem_text(problem: Problem, number: int, count: int) -> str:
    """The first message about a problem."""
    return (f"Problem {number} of {count}: {problem.title}\n\n{problem.prompt}\n\n"
            f"Reply with your complete solution, defining `{problem.entry}`, in a ```python "
            "code block. If you have a `python` tool, you may run code with it first.")


def report_text(problem: Problem, report: dict[str, Any]) -> str:
    """What an attempt achieved, in words for the agent."""
    if report.get("no_code"):
        return f"I found no ```python code block in your reply for \"{problem.title}\"."
    score = f"{report['passed']}/{report['total']}"
    lines = [f"Your solution to \"{problem.title}\": {score} tests passed."]
    if report.get("killed_reason"):
        lines.append(f"It was stopped by the sandbox's {report['killed_reason']} limit.")
    if report.get("results_void"):
        lines.append(f"No result counted: {report['results_void']}.")
    if report.get("load_error"):
        lines.append("It failed to load:\n" + _excerpt(report["load_error"]))
    failures = report.get("failures", [])
    for failure in failures[:FAILURES_SHOWN]:
        lines.append(f"Failed: {failure}")
    if len(failures) > FAILURES_SHOWN:
        lines.append(f"({len(failures) - FAILURES_SHOWN} more failed.)")
    for label, key in (("Your code printed", "output"), ("Errors", "stderr")):
        if report.get(key, "").strip():
            lines.append(f"{label}:\n{_excerpt(report[key])}")
    return "\n".join(lines)


def retry_text(problem: Problem, report: dict[str, Any], attempt: int, allowed: int) -> str:
    """Feedback on a failed attempt, asking for a fix."""
    return (f"{report_text(problem, report)}\n\nPlease fix it (attempt {attempt + 1} of "
            f"{allowed}) and reply with the complete corrected `{problem.entry}` in a ```python "
            "code block.")


def tool_text(result: SandboxResult) -> str:
    """A tool run's result, for the model."""
    parts = [result.verdict()]
    for label, text, cut in (("stdout", result.stdout, result.stdout_truncated),
                             ("stderr", result.stderr, result.stderr_truncated)):
        if text:
            parts.append(f"--- {label}{' (cut)' if cut else ''} ---\n{text.rstrip()}")
    return "\n".join(parts)


class CodingTask(PerAgentTask):
    """Every agent works through the same problems in order, one reply per step.

    A reply's last ```python block defining the entry function is graded (or, with no block,
    the last code the agent ran with the `python` tool since its previous reply). All tests
    passing, or `max_attempts` replies, moves the agent to the next problem; after the last it
    is finished.

    Per-agent state (JSON): `index` (current problem), `attempt` (replies on it so far),
    `last` (the latest test report, for feedback), `solved` (problem ids), `tool_code` (the
    code the `python` tool ran since the last reply; the tool sets it, `record` consumes it),
    `finished`.

    Args:
        ctx: the run context; settings come from `ctx.spec.task.coding`.

    Raises:
        ConfigError: the problems file is missing or invalid, or there are no problems.
    """

    name = "coding"

    def __init__(self, ctx: TaskContext):
        super().__init__(ctx)
        self.settings = ctx.spec.task.coding
        self.problems = load_problems(self.settings, ctx.seed)
        for agent_id in ctx.agent_ids:
            self.agent_state[agent_id] = {"index": 0, "attempt": 0, "last": None,
                                          "solved": [], "tool_code": None}

    def _current(self, agent_id: str) -> Problem | None:
        state = self.agent_state[agent_id]
        if state.get("finished") or state["index"] >= len(self.problems):
            return None
        return self.problems[state["index"]]

    async def inputs_for(self, agent_id: str, step: int) -> list[TaskTurn] | None:
        problem = self._current(agent_id)
        if problem is None:
            return None
        state = self.agent_state[agent_id]
        last = state.get("last")
        if last is not None and state["attempt"] > 0:
            text = retry_text(problem, last, state["attempt"], self.settings.max_attempts)
            return [TaskTurn(text=text, author="task", kind="feedback")]
        text = problem_text(problem, state["index"] + 1, len(self.problems))
        if last is not None:
            previous = self.problems[state["index"] - 1]
            verdict = (f"Your solution to \"{previous.title}\" passed all {last['total']} tests."
                       if last.get("solved") else
                       f"{report_text(previous, last)}\nMoving on to the next problem.")
            text = f"{verdict}\n\n{text}"
        return [TaskTurn(text=text, author="task")]

    def _solution(self, agent_id: str, problem: Problem, reply: str) -> tuple[str | None, str]:
        code = extract_code(reply, problem.entry)
        if code is not None:
            return code, "reply"
        return self.agent_state[agent_id].get("tool_code"), "tool"

    async def on_reply(self, agent_id: str, step: int, turn: AgentTurn,
                       reply: str) -> list[TaskOutcome]:
        problem = self._current(agent_id)
        if problem is None:
            return []
        state = self.agent_state[agent_id]
        code, source = self._solution(agent_id, problem, reply)
        state["tool_code"] = None
        state["attempt"] += 1
        report = (await grade(problem, code, self.settings.limits) if code is not None
                  else TestReport(total=len(problem.tests), no_code=True))
        move_on = report.solved or state["attempt"] >= self.settings.max_attempts
        state["last"] = {**report.model_dump(exclude={"protections"}), "solved": report.solved}
        outcomes = [self._tests_outcome(problem, state["attempt"], report, source, move_on)]
        if move_on:
            if report.solved:
                state["solved"].append(problem.id)
            state["index"] += 1
            state["attempt"] = 0
            if state["index"] >= len(self.problems):
                state["finished"] = True
                outcomes.append(self._done_outcome(agent_id))
        return outcomes

    def _tests_outcome(self, problem: Problem, attempt: int, report: TestReport,
                       source: str, move_on: bool) -> TaskOutcome:
        if report.no_code:
            text = f"{problem.id}: no code in the reply"
        else:
            text = f"{problem.id}: {report.passed}/{report.total} tests passed"
            text += f" (stopped: {report.killed_reason})" if report.killed_reason else ""
        data = {"problem": problem.id, "attempt": attempt, "passed": report.passed,
                "total": report.total, "solved": report.solved, "moved_on": move_on,
                "source": None if report.no_code else source, "no_code": report.no_code,
                "exit_code": report.exit_code, "killed_reason": report.killed_reason,
                "protections": report.protections, "failures": report.failures,
                "load_error": report.load_error, "results_void": report.results_void}
        return TaskOutcome(name="tests", text=text, data=data)

    def _done_outcome(self, agent_id: str) -> TaskOutcome:
        solved = list(self.agent_state[agent_id]["solved"])
        done = set(solved)
        unsolved = [p.id for p in self.problems if p.id not in done]
        return TaskOutcome(
            name="done", text=f"{agent_id}: {len(solved)}/{len(self.problems)} problems solved",
            data={"solved": solved, "unsolved": unsolved, "problems": len(self.problems)})

    def tools(self, agent_id: str) -> list[TaskTool]:
        """A `python` tool that runs code in the sandbox (a fresh interpreter per call)."""

        async def run(arguments: dict[str, Any]) -> tuple[str, TaskOutcome | None]:
            code = arguments.get("code")
            if not isinstance(code, str) or not code.strip():
                raise ValueError("`code` must be a non-empty string of Python source")
            result = await run_python(code, self.settings.limits)
            problem = self._current(agent_id)
            state = self.agent_state[agent_id]
            if problem is not None and (defines(code, problem.entry) or not state.get("tool_code")):
                state["tool_code"] = code
            data = {"problem": problem.id if problem else None, **result.model_dump()}
            outcome = TaskOutcome(name="sandbox", text=f"python: {result.verdict()}", data=data)
            return tool_text(result), outcome

        return [TaskTool(
            name="python", run=run, parameters=PYTHON_TOOL_SCHEMA,
            description="Run Python 3 code in a fresh sandboxed interpreter (no network, no "
                        "files kept between runs) and get its stdout, stderr and exit code.")]


@task("coding")
def make_coding(ctx: TaskContext) -> CodingTask:
    """Factory for the registry."""
    return CodingTask(ctx)
