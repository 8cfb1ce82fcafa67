"""An agent's identity curves in the TUI: the report's own functions on the kept events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from scaffold.events import Event
from scaffold.metrics import (
    INDEX,
    REPLY_BREAK_SCORERS,
    Breaks,
    CurvePoint,
    MetricsSettings,
    answer_scores,
    find_breaks,
    identity_curves,
    index_scores,
    probe_rounds,
    replies,
    reply_scores,
)

SMOOTH_STEPS = MetricsSettings().smooth_steps
"""Steps in the smoothing window (the report's default)."""
IDENTITY_SCORER = INDEX
"""The identity index (scaffold.metrics): the agent's headline score; the first scorer when
absent."""


@dataclass(frozen=True)
class Curves:
    """An agent's identity curves (the report's definitions) and break episodes: on probe
    rounds (`by_scorer`, `breaks`) and on its replies (`replies`, `reply_breaks`)."""

    by_scorer: dict[str, list[CurvePoint]]
    breaks: Breaks
    replies: dict[str, list[CurvePoint]] = field(default_factory=dict)
    reply_breaks: Breaks = field(default_factory=Breaks)

    @property
    def identity(self) -> str | None:
        """The scorer shown as the identity score."""
        if IDENTITY_SCORER in self.by_scorer:
            return IDENTITY_SCORER
        return next(iter(self.by_scorer), None)

    def latest(self, scorer: str) -> float | None:
        """The last round's value by `scorer`."""
        curve = self.by_scorer.get(scorer)
        return curve[-1].value if curve else None

    def latest_reply(self, scorer: str = INDEX) -> float | None:
        """The smoothed value of the last reply by `scorer` (one reply alone is noisy)."""
        curve = self.replies.get(scorer)
        return curve[-1].smoothed if curve else None


def compute_curves(agent_id: str, probe_events: Iterable[Event],
                   reply_events: Iterable[Event]) -> Curves:
    """Curves of one agent from its kept probe and score events (`probe_events`) and its kept
    replies with their scores (`reply_events`), in any order."""
    events = sorted(probe_events, key=lambda e: e.seq)
    scores = answer_scores(events)
    by_scorer = identity_curves(probe_rounds(events), scores + index_scores(scores),
                                SMOOTH_STEPS).get(agent_id, {})
    said_events = sorted(reply_events, key=lambda e: e.seq)
    said = reply_scores(said_events)
    by_reply = identity_curves(replies(said_events), said + index_scores(said),
                               SMOOTH_STEPS).get(agent_id, {})
    return Curves(by_scorer, find_breaks(by_scorer), by_reply,
                  find_breaks(by_reply, REPLY_BREAK_SCORERS))
