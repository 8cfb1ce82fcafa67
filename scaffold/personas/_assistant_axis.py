"""Assistant Axis sets: role files with instruction variants, questions and a 0-3 judge prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.personas._source import SourceProblem, existing, json_files, read_json


def _instruction(path: Path, data: dict[str, Any], variant: int) -> str:
    variants = data.get("instruction")
    if not isinstance(variants, list) or not variants:
        raise SourceProblem("from", f"{path.name}: no 'instruction' list")
    if variant >= len(variants):
        raise SourceProblem("variant", f"{path.name} has {len(variants)} instruction variants "
                                       f"(0-{len(variants) - 1}); {variant} is out of range")
    chosen = variants[variant]
    text = chosen.get("pos") if isinstance(chosen, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise SourceProblem("variant", f"{path.name}: instruction {variant} has no 'pos' text")
    return text


def persona_from_role(path: Path, data: Any, variant: int) -> PersonaSpec:
    """One persona from a role file.

    Args:
        path: the role file (its stem is the name).
        data: the parsed JSON.
        variant: which instruction variant is the identity.

    Raises:
        SourceProblem: the file lacks the fields or the variant.
    """
    if not isinstance(data, dict):
        raise SourceProblem("from", f"{path.name}: expected a JSON object")
    identity = _instruction(path, data, variant)
    questions = data.get("questions") or []
    rubric = data.get("eval_prompt")
    return PersonaSpec(
        name=path.stem,
        identity=identity,
        anchors=[identity],
        probes=[ProbeSpec(id=f"q{i}", question=str(q)) for i, q in enumerate(questions)
                if str(q).strip()],
        judge_rubric=rubric if isinstance(rubric, str) and rubric.strip() else None,
    )


def load_assistant_axis(path: Path, variant: int) -> dict[str, PersonaSpec]:
    """Read Assistant Axis role files; keys are the file stems.

    A directory yields its roles: files without questions (the study's `default.json`
    baseline of assistant prompts) are skipped; name such a file directly to load it.

    Raises:
        SourceProblem: a file is missing or unreadable, or lacks the chosen variant.
    """
    if existing(path).is_file():
        return {path.stem: persona_from_role(path, read_json(path), variant)}
    personas: dict[str, PersonaSpec] = {}
    for file in json_files(path):
        data = read_json(file)
        if isinstance(data, dict) and not data.get("questions"):
            continue
        personas[file.stem] = persona_from_role(file, data, variant)
    if not personas:
        raise SourceProblem("from", f"no role files with questions in {path}")
    return personas
