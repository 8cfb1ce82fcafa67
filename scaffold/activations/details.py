"""What an `activation` score rests on, carried as JSON in the score event's `raw` field."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from scaffold.activations.axis import Projection

SCORER = "activation"
ContextKind = Literal["model input", "persona prompt"]


class ActivationDetails(BaseModel):
    """The numbers behind one activation score (`ScoreEvent.raw`, parsed).

    The score's `value` is `value` here: from the persona axis when one was found for the
    persona, else from the assistant axis.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reader: str
    """The model that read the text (not necessarily the one that wrote it)."""
    reader_sha256: str
    context: ContextKind
    """`model input`: read after the exact context the text answered (live scoring, or the
    recorded context in rescore); `persona prompt`: after the persona's identity as system
    prompt and the question, when no context was available (memory text, old runs)."""
    axis: str
    """The axis `value`, `projection` and `z` come from (`assistant` or `persona:<name>`)."""
    layer: int
    projection: float
    z: float
    value: float
    assistant: Projection | None = None
    persona: Projection | None = None
    tokens: int
    """Tokens of the scored text (averaged)."""
    evaluated: int
    """Tokens run through the reader for this score (its cost; a cached prefix is free)."""
    truncated: int = 0
    """Context tokens dropped from the left to fit the reader's context."""
    seconds: float


def activation_details(raw: str | None) -> ActivationDetails | None:
    """Parse an activation score's `raw` field; None when it is absent or not one."""
    if not raw:
        return None
    try:
        return ActivationDetails.model_validate_json(raw)
    except ValidationError:
        return None


def activation_cost(events: Iterable[Any]) -> dict[tuple[str | None, int], tuple[int, float]]:
    """Tokens read and seconds spent by the activation scorer, per (agent id, step).

    Args:
        events: a run's events (ScoreEvent objects or anything with scorer/raw/agent_id/step).
    """
    cost: dict[tuple[str | None, int], list[float]] = defaultdict(lambda: [0, 0.0])
    for event in events:
        if getattr(event, "scorer", None) != SCORER:
            continue
        details = activation_details(getattr(event, "raw", None))
        if details is not None:
            entry = cost[(event.agent_id, event.step)]
            entry[0] += details.evaluated
            entry[1] += details.seconds
    return {key: (int(v[0]), float(v[1])) for key, v in cost.items()}
