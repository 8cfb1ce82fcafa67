"""Expanding `personas` entries that name an external set into ordinary personas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scaffold.config import PersonaSpec, format_validation_error
from scaffold.errors import ScaffoldError
from scaffold.personas._assistant_axis import load_assistant_axis
from scaffold.personas._files import load_persona_files
from scaffold.personas._persona_drift import load_persona_drift
from scaffold.personas._personagym import load_personagym
from scaffold.personas._source import PersonaSource, SourceProblem


class PersonaSourceError(ScaffoldError):
    """Persona sources that cannot be expanded.

    Attributes:
        problems: one line per problem, each starting with the field path
            (e.g. `personas.drift.from: file not found: ...`).
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def is_source(entry: Any) -> bool:
    """True for a `personas` entry that names an external set (it has a `from` key)."""
    return isinstance(entry, dict) and "from" in entry


def _read(source: PersonaSource, path: Path) -> dict[str, PersonaSpec]:
    try:
        if source.format == "persona_drift":
            return load_persona_drift(path)
        if source.format == "personagym":
            return load_personagym(path, source.tasks)
        if source.format == "scaffold":
            return load_persona_files(path)
        return load_assistant_axis(path, source.variant)
    except ValidationError as exc:
        first = format_validation_error(exc)[0]
        raise SourceProblem("from", f"{path}: unusable persona data: {first}") from None


def _select(personas: dict[str, PersonaSpec], source: PersonaSource) -> dict[str, PersonaSpec]:
    if source.select:
        unknown = [k for k in source.select if k not in personas]
        if unknown:
            known = ", ".join(list(personas)[:12]) + (", ..." if len(personas) > 12 else "")
            raise SourceProblem("select", f"unknown keys {', '.join(unknown)} (known: {known})")
        personas = {k: v for k, v in personas.items() if k in set(source.select)}
    kept = list(personas.items())[: source.limit]
    if source.max_probes is not None:
        kept = [(k, v.model_copy(update={"probes": v.probes[: source.max_probes]}))
                for k, v in kept]
    return dict(kept)


def load_source(source: PersonaSource, base_dir: Path) -> dict[str, PersonaSpec]:
    """Read an external persona set, then apply `select`, `limit` and `max_probes`.

    Args:
        source: the validated source entry.
        base_dir: the directory a relative `from` path resolves against.

    Returns:
        Personas by key within the set (e.g. pd-27, guru), in file order.

    Raises:
        SourceProblem: naming the source's field that is wrong.
    """
    path = source.resolve(base_dir)
    personas = _read(source, path)
    if not personas:
        raise SourceProblem("from", f"no personas in {path}")
    return _select(personas, source)


def _expand_entry(key: str, entry: dict[str, Any], base_dir: Path) -> dict[str, PersonaSpec]:
    try:
        source = PersonaSource.model_validate(entry)
    except ValidationError as exc:
        raise PersonaSourceError(
            [f"personas.{key}.{line}" for line in format_validation_error(exc)]) from None
    try:
        return load_source(source, base_dir)
    except SourceProblem as problem:
        raise PersonaSourceError([f"personas.{key}.{problem.field}: {problem.message}"]) from None


def expand_personas(personas: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Replace each source entry by its personas, keyed f"{entry_key}/{persona_key}".

    Ordinary entries pass through unchanged and keep their place.

    Args:
        personas: the `personas` mapping as loaded from YAML.
        base_dir: the directory relative `from` paths resolve against.

    Raises:
        PersonaSourceError: with one field-path line per problem, all sources checked.
    """
    out: dict[str, Any] = {}
    problems: list[str] = []
    for key, entry in personas.items():
        if not is_source(entry):
            out[key] = entry
            continue
        try:
            expanded = _expand_entry(key, entry, base_dir)
        except PersonaSourceError as exc:
            problems += exc.problems
            continue
        for sub, persona in expanded.items():
            full = f"{key}/{sub}"
            if full in out or full in personas:
                problems.append(f"personas.{key}: expanded key {full!r} is already used")
            out[full] = persona
    if problems:
        raise PersonaSourceError(problems)
    return out
