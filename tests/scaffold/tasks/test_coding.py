"""The coding task on fixed replies: grading, feedback, attempts, tools, resume, problem files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold.config import CodingSpec, SandboxLimits
from scaffold.errors import ConfigError
from scaffold.tasks._grading import extract_code, grade
from scaffold.tasks._problems import Problem, builtin_problems, load_problems
from scaffold.tasks.base import AgentTurn, TaskContext, TaskOutcome
from scaffold.tasks.coding import CodingTask, make_coding
from tests.helpers import make_spec

LIMITS = {"wall_s": 5, "cpu_s": 2, "memory_mb": 256, "file_mb": 1, "processes": 16}
PROBLEMS = [
    {"id": "add", "title": "Add", "entry": "add", "prompt": "Write add(a, b) returning a + b.",
     "tests": [{"call": "add(1, 2)", "expect": "3"}, {"call": "add(-1, 1)", "expect": "0"},
               {"call": "add(2, 2)", "expect": "4"}],
     "solution": "def add(a, b):\n    return a + b\n"},
    {"id": "double", "title": "Double", "entry": "double", "prompt": "Write double(x).",
     "tests": [{"call": "double(2)", "expect": "4"}, {"call": "double('ab')", "expect": "'abab'"}]},
]
RIGHT = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\n"
WRONG = "```python\ndef add(a, b):\n    return a * b if a > 0 else a + b\n```"


def write_problems(tmp_path: Path, problems: Any = None, name: str = "problems.yaml") -> Path:
    path = tmp_path / name
    data = PROBLEMS if problems is None else problems
    text = json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data)
    path.write_text(text, encoding="utf-8")
    return path


def make_task(tmp_path: Path, agents: int = 1, **coding: Any) -> CodingTask:
    coding = {"builtin": False, "limits": LIMITS, **coding}
    if "problems" not in coding and not coding["builtin"]:
        coding["problems"] = str(write_problems(tmp_path))
    spec = make_spec(tmp_path, task={"kind": "coding", "coding": coding})
    ids = [f"a{i}" for i in range(agents)]
    return make_coding(TaskContext(spec=spec, agent_ids=ids, seed=7))


def act(task: CodingTask, step: int, reply: str) -> tuple[AgentTurn, list[TaskOutcome]]:
    """One step for one agent: the task's turn, then the reply recorded."""
    async def go() -> tuple[AgentTurn, list[TaskOutcome]]:
        turn = await task.next_turn(step)
        assert turn is not None
        return turn, await task.record(turn, step, reply)
    return asyncio.run(go())


def next_text(task: CodingTask, step: int) -> str:
    turn = asyncio.run(task.next_turn(step))
    assert turn is not None
    return turn.inputs[0].text


def test_a_correct_solution_passes_and_moves_to_the_next_problem(tmp_path: Path) -> None:
    task = make_task(tmp_path)
    turn, outcomes = act(task, 1, RIGHT)
    assert turn.inputs[0].author == "task" and "Problem 1 of 2: Add" in turn.inputs[0].text
    [tests] = outcomes
    assert tests.name == "tests" and tests.text == "add: 3/3 tests passed"
    assert tests.data["solved"] and tests.data["moved_on"] and tests.data["source"] == "reply"
    text = next_text(task, 2)
    assert 'passed all 3 tests' in text and "Problem 2 of 2: Double" in text
    assert task.state()["agents"]["a0"]["solved"] == ["add"]


def test_a_wrong_solution_gets_feedback_with_the_tests_it_failed(tmp_path: Path) -> None:
    task = make_task(tmp_path)
    _, [tests] = act(task, 1, WRONG)
    assert tests.text == "add: 2/3 tests passed"
    assert tests.data["passed"] == 2 and tests.data["total"] == 3 and not tests.data["moved_on"]
    turn = asyncio.run(task.next_turn(2))
    assert turn is not None and turn.inputs[0].kind == "feedback"
    text = turn.inputs[0].text
    assert "2/3 tests passed" in text and "Failed: add(2, 2) -> expected 4, got 4" not in text
    assert "Failed: add(1, 2) -> expected 3, got 2" in text and "attempt 2 of 3" in text


def test_max_attempts_moves_on_and_the_last_problem_finishes_the_agent(tmp_path: Path) -> None:
    task = make_task(tmp_path, max_attempts=2)
    act(task, 1, WRONG)
    _, [tests] = act(task, 2, "I am not sure how to do this.")
    assert tests.data["no_code"] and tests.data["moved_on"] and not tests.data["solved"]
    text = next_text(task, 3)
    assert "Moving on to the next problem" in text and "Problem 2 of 2" in text
    _, outcomes = act(task, 3, "```python\ndef double(x):\n    return x * 2\n```")
    assert [o.name for o in outcomes] == ["tests", "done"]
    assert outcomes[1].data == {"solved": ["double"], "unsolved": ["add"], "problems": 2}
    assert task.done() and asyncio.run(task.next_turn(4)) is None


def test_state_round_trips_to_an_identical_next_turn(tmp_path: Path) -> None:
    task = make_task(tmp_path, agents=2)
    act(task, 1, WRONG)  # a0
    act(task, 1, RIGHT)  # a1
    act(task, 2, RIGHT)  # a0, second attempt
    state = json.loads(json.dumps(task.state()))
    fresh = make_task(tmp_path, agents=2)
    fresh.load(state)
    assert fresh.state() == task.state()
    for step in (2, 3):
        assert asyncio.run(fresh.next_turn(step)) == asyncio.run(task.next_turn(step))


def test_the_python_tool_runs_code_and_a_codeless_reply_is_graded_from_it(
        tmp_path: Path) -> None:
    task = make_task(tmp_path)
    [tool] = task.tools("a0")
    assert tool.schema()["function"]["name"] == "python"
    text, outcome = asyncio.run(tool.run({"code": "def add(a, b):\n    return a + b\n"
                                                  "print(add(20, 22))"}))
    assert text.startswith("exit 0") and "42" in text
    assert outcome is not None and outcome.name == "sandbox"
    assert outcome.data["stdout"] == "42\n" and outcome.data["exit_code"] == 0
    asyncio.run(tool.run({"code": "print(add(1, 1))"}))  # fails, but does not define `add`
    with pytest.raises(ValueError):
        asyncio.run(tool.run({"code": 42}))
    _, [tests] = act(task, 1, "I tested it with the tool; it works.")
    assert tests.data["source"] == "tool" and tests.data["solved"]


def test_a_user_problem_file_in_json_joins_the_builtin_set_in_a_seeded_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_problems(tmp_path, name="mine.json")
    task = make_task(tmp_path, builtin=True, problems=str(path), shuffle=True)
    ids = [p.id for p in task.problems]
    assert len(ids) == len(builtin_problems()) + 2 and {"add", "double"} <= set(ids)
    monkeypatch.chdir(tmp_path)  # a spec built in code: a relative path is the process's
    relative = CodingSpec(problems="mine.json", shuffle=True)
    assert [p.id for p in load_problems(relative, seed=7)] == ids
    assert ids != [p.id for p in make_task(tmp_path, builtin=True, problems=str(path)).problems]


def test_a_malformed_problem_file_is_a_config_error_naming_file_and_field(
        tmp_path: Path) -> None:
    bad = [dict(PROBLEMS[0]), {**PROBLEMS[1], "tests": [{"call": "double(", "expect": "4"}]}]
    del bad[0]["entry"]
    path = write_problems(tmp_path, bad, name="bad.yaml")
    with pytest.raises(ConfigError) as info:
        make_task(tmp_path, problems=str(path))
    message = str(info.value)
    assert str(path) in message
    assert "[0].entry: required field is missing" in message
    assert "[1].tests[0].call: not a Python expression" in message
    path.write_text("- id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid YAML"):
        make_task(tmp_path, problems=str(path))
    with pytest.raises(ConfigError, match="no problems"):
        make_task(tmp_path, builtin=False, problems=None)


def test_hostile_code_in_a_reply_is_contained_and_the_task_goes_on(tmp_path: Path) -> None:
    task = make_task(tmp_path, limits={**LIMITS, "cpu_s": 1})
    hostile = "```python\nimport os\nopen('/etc/passwd', 'a')\n```\n```python\n" \
              "def add(a, b):\n    while True:\n        pass\n```"
    _, [tests] = act(task, 1, hostile)
    assert tests.data["passed"] == 0 and tests.data["killed_reason"] in {"cpu time", "wall time"}
    assert "stopped: " in tests.text and tests.data["protections"]
    assert "limit" in next_text(task, 2)
    _, [tests] = act(task, 2, RIGHT)
    assert tests.data["solved"]


def test_extract_code_prefers_the_block_defining_the_entry() -> None:
    reply = ("```python\ndef add(a, b):\n    return a + b\n```\nUsage:\n```python\n"
             "print(add(1, 2))\n```\n")
    assert extract_code(reply, "add") == "def add(a, b):\n    return a + b\n"
    assert extract_code("```py\nx = 1\n```", "add") == "x = 1\n"
    assert extract_code("cut off: ```python\ndef add(a, b):\n    return", "add") is not None
    assert extract_code("```text\ndef add(a, b): pass\n```", "add") is None
    assert extract_code("no code at all", "add") is None


def test_every_builtin_problem_has_a_passing_reference_solution() -> None:
    problems = builtin_problems()
    assert len(problems) >= 20 and len({p.id for p in problems}) == len(problems)
    assert all(p.solution for p in problems)
    limits = SandboxLimits(**LIMITS)
    do_nothing = "def {}(*args, **kwargs):\n    return None\n"

    async def grade_all() -> list[tuple[str, str, int, int]]:
        gate = asyncio.Semaphore(8)

        async def check(problem: Problem, kind: str, code: str) -> tuple[str, str, int, int]:
            async with gate:
                report = await grade(problem, code, limits)
            return problem.id, kind, report.passed, report.total

        jobs = [check(p, "reference", p.solution or "") for p in problems]
        jobs += [check(p, "do-nothing", do_nothing.format(p.entry)) for p in problems]
        return await asyncio.gather(*jobs)

    results = asyncio.run(grade_all())
    assert [r for r in results if r[1] == "reference" and r[2] != r[3]] == []
    assert [r for r in results if r[1] == "do-nothing" and r[2] == r[3]] == []
