"""Scaffold's own persona files: one PersonaSpec per YAML file, or a directory of them."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from scaffold.config import PersonaSpec, format_validation_error, read_yaml_file
from scaffold.errors import ConfigError
from scaffold.personas._source import SourceProblem, existing

SUFFIXES = (".yaml", ".yml")
"""File names read from a directory."""


def _one(path: Path) -> PersonaSpec:
    try:
        data = read_yaml_file(path)
    except ConfigError as exc:
        raise SourceProblem("from", f"{path}: {exc.problems[0]}") from None
    if not isinstance(data, dict):
        raise SourceProblem("from", f"{path}: a persona file is a mapping (name, identity, "
                                    "anchors)")
    try:
        return PersonaSpec.model_validate(data)
    except ValidationError as exc:
        raise SourceProblem("from", f"{path}: {format_validation_error(exc)[0]}") from None


def load_persona_files(path: Path) -> dict[str, PersonaSpec]:
    """A persona file keyed by its stem (`jfk.yaml` -> jfk), or every YAML file of a directory.

    Raises:
        SourceProblem: on `from` when a file is missing, not YAML or not a valid persona.
    """
    if existing(path).is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
    else:
        files = [path]
    return {p.stem: _one(p) for p in files}
