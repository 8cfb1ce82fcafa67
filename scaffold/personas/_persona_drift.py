"""persona_drift sets: JSONL rows of system prompt, probe question and checker expression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.personas._checkers import translate_checker
from scaffold.personas._source import SourceProblem, existing

REQUIRED = ("system_prompt", "probe_question")
"""Fields every row must have; `checker_expr` is optional (no rules without it)."""


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceProblem("from", f"cannot read {path}: {exc}") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceProblem("from", f"{path}: line {number}: invalid JSON: {exc}") from None
        missing = [k for k in REQUIRED if not isinstance(row, dict) or not row.get(k)]
        if missing:
            raise SourceProblem("from", f"{path}: line {number}: missing {', '.join(missing)}")
        rows.append((number, row))
    return rows


def persona_from_row(index: str, row: dict[str, Any]) -> PersonaSpec:
    """One persona: the system prompt as identity and anchor, one probe with translated rules.

    Args:
        index: the row's index in the original study (or its line number).
        row: the JSON object.
    """
    translation = translate_checker(str(row.get("checker_expr") or ""))
    # the study's checkers judge an instruction, not a self: no identity veto (an answer that
    # says 'As an AI' but contains 'lamp' passes the lamp check, as in the paper)
    rules = translation.rules.model_copy(update={"identity_veto": False})
    probe = ProbeSpec(id=f"pd-{index}", question=row["probe_question"], expect=rules,
                      note=translation.note)
    prompt = row["system_prompt"]
    return PersonaSpec(name=f"persona_drift #{index}", identity=prompt, anchors=[prompt],
                       probes=[probe])


def load_persona_drift(path: Path) -> dict[str, PersonaSpec]:
    """Read a persona_drift JSONL file; keys are f"pd-{index_in_run_py}".

    Raises:
        SourceProblem: the file is missing, a directory, not JSONL, or keys repeat.
    """
    if existing(path).is_dir():
        raise SourceProblem("from", f"persona_drift needs a .jsonl file, got a directory: {path}")
    personas: dict[str, PersonaSpec] = {}
    for number, row in _rows(path):
        index = str(row.get("index_in_run_py", number))
        key = f"pd-{index}"
        if key in personas:
            raise SourceProblem("from", f"{path}: line {number}: duplicate index {index}")
        personas[key] = persona_from_row(index, row)
    return personas
