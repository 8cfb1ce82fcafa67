"""Programming problems for the `coding` task: the schema, the built-in set, the user's file."""

from __future__ import annotations

import ast
import random
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, TypeAdapter, ValidationError, field_validator

from scaffold.config import CodingSpec, Spec, format_validation_error, parse_yaml, read_yaml_file
from scaffold.errors import ConfigError

BUILTIN_FILE = "problems.yaml"
"""The built-in set, package data of `scaffold.tasks`."""
PROBLEM_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def _expression(value: str) -> str:
    """Check (by parsing, never running) that `value` is one Python expression."""
    try:
        ast.parse(value, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not a Python expression: {exc.msg}") from None
    return value


class ProblemTest(Spec):
    """One check: `call` must evaluate to something equal to `expect` (both run in the sandbox)."""

    call: str = Field(min_length=1)
    """An expression calling the solution, e.g. `fizzbuzz(5)`."""
    expect: str = Field(min_length=1)
    """An expression for the expected value, e.g. `['1', '2', 'Fizz', '4', 'Buzz']`."""

    _check_call = field_validator("call", "expect")(_expression)


class Problem(Spec):
    """One programming problem."""

    id: str = Field(pattern=PROBLEM_ID)
    """Unique name, used in events."""
    title: str = Field(min_length=1)
    """A short human title."""
    prompt: str = Field(min_length=1)
    """What the agent is asked to write."""
    entry: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """The function the solution must define."""
    tests: list[ProblemTest] = Field(min_length=1)
    """The checks a solution must pass."""
    solution: str | None = None
    """A reference solution (never shown to the agent; checks the problem set is sane)."""


_PROBLEM_LIST = TypeAdapter(list[Problem])


def parse_problems(data: Any, source: str) -> list[Problem]:
    """Validate a loaded problem document (a list of problems, or {problems: [...]}).

    Raises:
        ConfigError: naming `source` and the path of each bad field.
    """
    if isinstance(data, dict) and set(data) == {"problems"}:
        data = data["problems"]
    if not isinstance(data, list):
        kind = type(data).__name__ if data is not None else "an empty document"
        raise ConfigError(source, [f"(top level): expected a list of problems, got {kind}"])
    try:
        problems = _PROBLEM_LIST.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(source, format_validation_error(exc)) from None
    _check_unique(problems, source)
    return problems


def _check_unique(problems: list[Problem], source: str) -> None:
    seen: dict[str, int] = {}
    for i, problem in enumerate(problems):
        if problem.id in seen:
            clash = f"[{i}].id: {problem.id!r} is already used by [{seen[problem.id]}]"
            raise ConfigError(source, [clash])
        seen[problem.id] = i


def builtin_problems() -> list[Problem]:
    """The bundled problem set."""
    text = resources.files("scaffold.tasks").joinpath(BUILTIN_FILE).read_text(encoding="utf-8")
    return parse_problems(parse_yaml(text, BUILTIN_FILE, "YAML/JSON"), BUILTIN_FILE)


def load_problem_file(path: Path) -> list[Problem]:
    """A user's YAML or JSON problem file.

    Raises:
        ConfigError: the file is missing, unreadable, not YAML/JSON, or invalid.
    """
    return parse_problems(read_yaml_file(path, "YAML/JSON"), str(path))


def load_problems(spec: CodingSpec, seed: int) -> list[Problem]:
    """The run's problems in the order every agent meets them.

    Args:
        spec: the task's settings (file, builtin, shuffle).
        seed: the run seed, for `shuffle`.

    Raises:
        ConfigError: a bad file, clashing ids, or no problems at all.
    """
    problems = builtin_problems() if spec.builtin else []
    if spec.problems:
        problems += load_problem_file(Path(spec.problems).expanduser())
    if not problems:
        hint = "problems: no problems (set `problems` to a file, or keep `builtin: true`)"
        raise ConfigError("task.coding", [hint])
    _check_unique(problems, "task.coding.problems")
    if spec.shuffle:
        random.Random(seed).shuffle(problems)
    return problems
