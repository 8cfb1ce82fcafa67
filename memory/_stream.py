"""The memory stream's entries and Generative Agents' retrieval score (recency, importance,
relevance, each min-max normalised, weighted and summed)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

WEIGHT_NAMES = ("recency", "importance", "relevance")


class StreamEntry(BaseModel):
    """One memory of the stream: an observation (a message) or a reflection."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """Memory id: the message id of an observation, `reflection-<n>` for a reflection."""
    kind: Literal["observation", "reflection"]
    step: int
    """Step it was stored at."""
    importance: int = Field(ge=1, le=10)
    """The rater's 1-10 (clamped; the default when the reply held no number)."""
    accessed: int
    """Step it was last retrieved at (its creation step until then): recency decays from it."""
    author: str = ""
    """Who wrote an observation (an agent id, 'user', 'task', 'tool'); 'reflector'."""
    message_id: str = ""
    """For observations: the message it holds."""
    text: str = ""
    """For reflections: the insight (an observation's text is its message's, in the store)."""
    question: str = ""
    """For reflections: the question it answers."""
    cites: list[str] = Field(default_factory=list)
    """For reflections: ids of the memories it rests on."""


def normalised(values: list[float]) -> list[float]:
    """Min-max scaled to [0, 1]; all equal: 0.5 each (as the paper's code does)."""
    lo, hi = min(values), max(values)
    if hi - lo <= 1e-12:
        return [0.5] * len(values)
    return [(v - lo) / (hi - lo) for v in values]


def scored(entries: list[StreamEntry], relevance: dict[str, float], now: int, decay: float,
           weights: dict[str, float]) -> list[dict[str, Any]]:
    """Every entry's three components (raw and normalised) and weighted score, best first.
    Ties (scores equal at 6 decimals) go to the more recent step, then the id.

    Args:
        entries: the memories to rank.
        relevance: cosine similarity of each entry (by id) to the query.
        now: the current step.
        decay: recency per step since last access.
        weights: weight of each of WEIGHT_NAMES.
    """
    if not entries:
        return []
    raw = {"recency": [decay ** max(0, now - e.accessed) for e in entries],
           "importance": [float(e.importance) for e in entries],
           "relevance": [relevance.get(e.id, 0.0) for e in entries]}
    norm = {name: normalised(values) for name, values in raw.items()}
    scores = [round(sum(weights.get(n, 0.0) * norm[n][i] for n in WEIGHT_NAMES), 6)
              for i in range(len(entries))]
    rows = [{"id": entry.id, "score": scores[i],
             **{n: round(norm[n][i], 6) for n in WEIGHT_NAMES},
             "raw": {n: round(raw[n][i], 6) for n in WEIGHT_NAMES}}
            for i, entry in enumerate(entries)]
    order = sorted(range(len(entries)),
                   key=lambda i: (-scores[i], -entries[i].step, entries[i].id))
    return [rows[i] for i in order]
