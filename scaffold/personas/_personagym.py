"""PersonaGym sets: one question file per persona description, judge rubrics per task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.personas._source import SourceProblem, existing, json_files, read_json, slug

NO_SCORE_EXAMPLES = "(no score examples)"
"""Stands in for PersonaGym's generated per-question score examples, which are not shipped."""

RUBRIC_SCALE = (1, 5)
"""PersonaGym rubrics score 1-5 ('Therefore, the final score is N')."""


def _question_files(path: Path) -> tuple[list[Path], Path]:
    """The question files and the directory that holds them."""
    if existing(path).is_file():
        return [path], path.parent
    directory = path / "questions" if (path / "questions").is_dir() else path
    return json_files(directory), directory


def _rubric(directory: Path, task: str, description: str) -> str | None:
    """The task's rubric from a sibling rubrics/ dir, filled in for this persona.

    PersonaGym rubrics name {persona}, {question}, {response} and {score_example}; the
    persona is filled in, {response} becomes {answer}, and the score examples are absent.
    """
    path = directory.parent / "rubrics" / f"{task}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return (text.replace("{persona}", description).replace("{response}", "{answer}")
            .replace("{score_example}", NO_SCORE_EXAMPLES))


def _probes(path: Path, data: Any, tasks: list[str]) -> list[ProbeSpec]:
    if not isinstance(data, dict):
        raise SourceProblem("from", f"{path}: expected an object of task -> questions")
    probes = []
    for task in tasks:
        questions = data.get(task)
        if not isinstance(questions, list):
            known = ", ".join(map(repr, data))
            raise SourceProblem("tasks", f"{path.name} has no task {task!r} (tasks: {known})")
        probes += [ProbeSpec(id=f"{slug(task)}-{i}", question=str(q))
                   for i, q in enumerate(questions) if str(q).strip()]
    return probes


def _with_article_lowered(description: str) -> str:
    first, _, rest = description.partition(" ")
    return f"{first.lower()} {rest}" if first in ("A", "An", "The") and rest else description


def load_personagym(path: Path, tasks: list[str]) -> dict[str, PersonaSpec]:
    """Read PersonaGym question files; keys are slugs of the persona descriptions.

    Args:
        path: a question file, a questions/ directory, or its parent holding questions/.
        tasks: the tasks whose questions become probes.

    Raises:
        SourceProblem: a file is missing or unreadable, a task is absent, or keys repeat.
    """
    files, directory = _question_files(path)
    personas: dict[str, PersonaSpec] = {}
    for file in files:
        description = file.stem
        key = slug(description)
        if key in personas:
            raise SourceProblem("from", f"{file.name}: duplicate persona key {key!r}")
        who = _with_article_lowered(description)
        rubric = _rubric(directory, tasks[0], description) if len(tasks) == 1 else None
        personas[key] = PersonaSpec(
            name=description,
            identity=f"You are {who}. Answer every message as this person, in character.",
            anchors=[f"I am {who}."],
            probes=_probes(file, read_json(file), tasks),
            judge_rubric=rubric,
            judge_scale=RUBRIC_SCALE if rubric else None,
        )
    return personas
