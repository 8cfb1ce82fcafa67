"""The `personas: {from: ..., format: ...}` entry and helpers shared by the format readers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from scaffold.config import Spec

FORMATS = ("persona_drift", "personagym", "assistant_axis", "scaffold")
"""Supported external persona-set formats."""


class PersonaSource(Spec):
    """An external persona set, expanded into several personas when the config is loaded."""

    from_: Path = Field(alias="from")
    """File or directory to read; a relative path resolves against the experiment file's
    directory (or the working directory for configs given as data)."""
    format: Literal["persona_drift", "personagym", "assistant_axis", "scaffold"]
    """persona_drift: JSONL of system prompts, probe questions and checkers; personagym:
    per-persona question files (plus a sibling rubrics/ dir); assistant_axis: role files;
    scaffold: a persona YAML file (key: its stem) or a directory of them
    (examples/personas/)."""
    select: list[str] = Field(default_factory=list)
    """Persona keys to keep (e.g. pd-27, guru); empty keeps all."""
    limit: int | None = Field(default=None, ge=1)
    """Keep at most this many personas (after `select`), in file order."""
    max_probes: int | None = Field(default=None, ge=1)
    """Keep at most this many probes per persona (in file order)."""
    variant: int = Field(default=0, ge=0)
    """assistant_axis: which instruction variant becomes the identity text."""
    tasks: list[str] = Field(default_factory=lambda: ["Persona Consistency"], min_length=1)
    """personagym: the tasks whose questions become probes."""

    def resolve(self, base_dir: Path) -> Path:
        """The source path, made absolute against base_dir."""
        path = self.from_.expanduser()
        return path if path.is_absolute() else base_dir / path


class SourceProblem(Exception):
    """A problem with one field of a persona source.

    Attributes:
        field: the source's field the problem belongs to (e.g. 'from', 'variant').
        message: what is wrong, meant for the user.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def slug(text: str) -> str:
    """A lower-case identifier: runs of other characters become '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def existing(path: Path) -> Path:
    """The path itself, if it exists.

    Raises:
        SourceProblem: on `from` when it does not.
    """
    if not path.exists():
        raise SourceProblem("from", f"file not found: {path}")
    return path


def read_json(path: Path) -> Any:
    """Parse a JSON file.

    Raises:
        SourceProblem: on `from` when it cannot be read or parsed.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceProblem("from", f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceProblem("from", f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SourceProblem("from", f"{path}: invalid JSON: {exc}") from None


def json_files(directory: Path) -> list[Path]:
    """The *.json files of a directory, sorted by name.

    Raises:
        SourceProblem: on `from` when there are none.
    """
    files = sorted(p for p in directory.glob("*.json") if p.is_file())
    if not files:
        raise SourceProblem("from", f"no .json files in {directory}")
    return files
