"""The scorer contract: a value in [0, 1] for a probe answer, with an explanation."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from scaffold.config import PersonaSpec, ProbeSpec


class IdentityScore(BaseModel):
    """How much an answer still speaks as the persona; None when it could not be scored."""

    model_config = ConfigDict(frozen=True)

    value: float | None
    scorer: str
    explanation: str = ""
    version: str = "1"


@runtime_checkable
class Scorer(Protocol):
    """Scores answers. `model_input` (the exact context of the probe) is optional to use."""

    name: str
    version: str

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score one answer (probe is None when scoring memory text)."""
        ...
