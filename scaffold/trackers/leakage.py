"""Identity leakage: does an agent speak as another persona of the same run (room, self-chat)?"""

from __future__ import annotations

import re
from typing import Any

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.registry import scorer
from scaffold.trackers.scoring import IdentityScore, ScorerContext

FIRST_PERSON = r"(?:\bi\s+am|\bi'm|\bi’m|\bmy\s+name\s+is|\bthis\s+is|\bit'?s\s+me,?)"
"""Openings of a claim about oneself."""
GAP = r"(?:[\w.,'’-]+\s+){0,3}?"
"""Up to three words between the opening and the name ("I am President John Kennedy")."""


def name_tokens(name: str) -> set[str]:
    """The distinctive words of a persona name (no initials, no short words)."""
    return {t for t in re.findall(r"[^\W_][\w'’-]*", name) if len(t) > 2}


def claimed(text: str, tokens: set[str]) -> str | None:
    """The first-person claim of a name made of `tokens` in `text`, if any."""
    if not tokens:
        return None
    names = "|".join(sorted((re.escape(t) for t in tokens), key=len, reverse=True))
    match = re.search(rf"{FIRST_PERSON}\s+{GAP}(?:{names})\b", text, re.IGNORECASE)
    return match.group(0) if match else None


class LeakageScorer:
    """1.0 unless the text claims, in the first person, a name that belongs to another persona
    of the run and not to its own; 0.0 with the claim quoted. Unscored without other personas.

    Args:
        personas: every persona of the run.
    """

    name = "leakage"
    version = "1"

    def __init__(self, personas: dict[str, PersonaSpec]):
        self.personas = personas

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score an answer or a memory text (`probe` None)."""
        own = {t.lower() for t in name_tokens(persona.name)}
        others = [p for p in self.personas.values() if p.name != persona.name]
        if not others:
            return IdentityScore(value=None, scorer=self.name, version=self.version,
                                 explanation="no other persona in this run")
        for other in others:
            tokens = {t for t in name_tokens(other.name) if t.lower() not in own}
            phrase = claimed(answer, tokens)
            if phrase:
                return IdentityScore(value=0.0, scorer=self.name, version=self.version,
                                     explanation=f"speaks as {other.name}: {phrase!r}")
        return IdentityScore(value=1.0, scorer=self.name, version=self.version,
                             explanation="claims no other persona's name")


@scorer("leakage")
def make_leakage(ctx: ScorerContext | None = None) -> LeakageScorer:
    """Factory for the registry."""
    return LeakageScorer(dict(ctx.personas) if ctx else {})
