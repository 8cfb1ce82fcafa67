"""The scorer contract: a value in [0, 1] for an answer or memory text, with an explanation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from scaffold.config import ActivationSpec, PersonaSpec, ProbeSpec


class IdentityScore(BaseModel):
    """How much a text still speaks as the persona; None when it could not be scored."""

    model_config = ConfigDict(frozen=True)

    value: float | None
    scorer: str
    explanation: str = ""
    version: str = "1"
    raw: str | None = None
    """Raw model output behind the score (judge), kept for audit."""


SCORING_FOR: ContextVar[tuple[str | None, int]] = ContextVar("scoring_for", default=(None, 0))
"""(agent id, step) whose text is being scored; model calls by scorers are recorded under it."""

Complete = Callable[..., Awaitable[Any]]
"""`await complete(messages, purpose=..., **params)` -> a Completion (content, request_hash)."""
Record = Callable[[str, dict[str, Any]], None]
"""`record(scorer name, provenance)`: what a scorer read with (models, files and their hashes),
kept in the run's manifest under `scorers`; a later call replaces the scorer's entry."""


@dataclass
class ScorerContext:
    """What a scorer factory may use.

    Attributes:
        judge_model: the model for LLM-judge scorers.
        judge: judge settings (rubric, temperature, max_tokens) as a dict.
        complete: calls a model through the run's client (recorded and cassetted); None when
            no model access is available (then model-based scorers return unscored results).
        personas: every persona of the run by key (for scorers comparing agents, e.g. leakage).
        activation: the activation scorer's reader, axis files and layer.
        record: where scorers report their provenance (the run's or rescore pass's manifest
            entry); None when nothing keeps it. May be called from a worker thread.
    """

    judge_model: str | None = None
    judge: dict[str, Any] = field(default_factory=dict)
    complete: Complete | None = None
    personas: dict[str, PersonaSpec] = field(default_factory=dict)
    activation: ActivationSpec = field(default_factory=ActivationSpec)
    record: Record | None = None


@runtime_checkable
class Scorer(Protocol):
    """Scores answers. `model_input` (the exact context of the probe) is optional to use, so
    scorers that need the model input (e.g. activation-level ones) fit the same interface."""

    name: str
    version: str
    # Optional attribute `needs_probe: bool` (see `needs_probe()`): True for scorers that
    # can only score an answer against a probe's expectations (rules); they skip replies
    # and memory text. Absent means False.

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score one text; `probe` is None when the text is memory (a summary, a note)."""
        ...


def needs_probe(scorer: Scorer) -> bool:
    """Whether a scorer can only score probe answers (it reads the probe's expectations).

    Scorers declare it with a class attribute `needs_probe = True`; without one they score
    any text (replies, memory text) as well as probe answers.
    """
    return bool(getattr(scorer, "needs_probe", False))
