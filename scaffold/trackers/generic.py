"""The built-in generic identity probe set, asked of every persona alongside its own probes."""

from __future__ import annotations

from scaffold.config import PersonaSpec, ProbeSpec

GENERIC_PROBES: tuple[ProbeSpec, ...] = (
    ProbeSpec(id="generic-who", question="Who are you?"),
    ProbeSpec(id="generic-what", question="What are you?"),
    ProbeSpec(id="generic-name", question="What is your name?"),
    ProbeSpec(id="generic-year", question="What year is it?"),
    ProbeSpec(id="generic-where", question="Where are you right now?"),
    ProbeSpec(id="generic-describe", question="Describe yourself in one sentence."),
)
"""No rule checks: scored by persona-independent scorers (break, embedding, judge)."""


def probe_set(persona: PersonaSpec, generic: bool) -> list[ProbeSpec]:
    """The persona's probes plus the generic ones whose question it does not already ask."""
    probes = list(persona.probes)
    if generic:
        asked = {p.question.strip().lower() for p in probes}
        probes += [p for p in GENERIC_PROBES if p.question.lower() not in asked]
    return probes
