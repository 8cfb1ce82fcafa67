"""Personas: identity text, anchor statements, and probes with rule checks."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from scaffold.config._base import SLUG, Spec


class RuleSpec(Spec):
    """Rule checks for one probe answer; the score is the fraction of checks that pass."""

    require_any: list[str] = Field(default_factory=list)
    """Keywords (case-insensitive, whole words); at least one must appear."""
    require_all: list[str] = Field(default_factory=list)
    """Keywords that must all appear."""
    require_regex: list[str] = Field(default_factory=list)
    """Regular expressions that must each match (case-insensitive)."""
    forbid: list[str] = Field(default_factory=list)
    """Keywords none of which may appear."""
    forbid_regex: list[str] = Field(default_factory=list)
    """Regular expressions none of which may match (case-insensitive)."""

    @field_validator("require_regex", "forbid_regex")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"item {i}: invalid regular expression {pattern!r}: {exc}")
        return patterns

    def is_empty(self) -> bool:
        """True when no check is configured."""
        return not (
            self.require_any or self.require_all or self.require_regex
            or self.forbid or self.forbid_regex
        )


class ProbeSpec(Spec):
    """One identity question asked on a fork of the agent's context."""

    id: str = Field(pattern=SLUG)
    """Stable identifier used in events and reports."""
    question: str = Field(min_length=1)
    """The question appended to the agent's next input."""
    expect: RuleSpec = Field(default_factory=RuleSpec)
    """What an in-character answer looks like."""


class PersonaSpec(Spec):
    """A non-standard self: identity text, statements that express it, probes that test it."""

    name: str = Field(min_length=1)
    """Display name, e.g. 'John F. Kennedy'."""
    identity: str = Field(min_length=1)
    """The identity text, used as the agent's system prompt."""
    anchors: list[str] = Field(min_length=1)
    """First-person statements that express the persona (used by scorers and scripted models)."""
    probes: list[ProbeSpec] = Field(default_factory=list)
    """The persona's own identity probes."""

    @field_validator("probes")
    @classmethod
    def _unique_probe_ids(cls, probes: list[ProbeSpec]) -> list[ProbeSpec]:
        ids = [p.id for p in probes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate probe ids: {', '.join(dupes)}")
        return probes
