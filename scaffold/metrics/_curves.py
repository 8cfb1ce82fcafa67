"""Identity curves per agent and scorer: smoothing, half-life, breaks and recovery."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from scaffold.metrics._answers import AnswerScore, ProbeRound
from scaffold.metrics._models import BreakEpisode, Breaks, CurvePoint, HalfLife

BREAK_THRESHOLD = 0.5
"""A round below this is a break (on the break scorer, else on rules)."""
BREAK_SCORERS = ("break", "rules")
"""Scorers a break is judged on, in order of preference."""
REPROBE_SUFFIX = " (reprobe)"
"""Rounds asked again by `scaffold rescore --reprobe` form their own curve per scorer."""


def smooth(values: list[float], window: int) -> list[float]:
    """Centred rolling mean; windows shrink at the ends instead of dropping points.

    Centring keeps a drop at the step where it happens (a trailing mean would report it
    (window - 1) / 2 rounds late).
    """
    if window < 1:
        raise ValueError("window must be >= 1")
    back, ahead = (window - 1) // 2, window // 2
    out = []
    for i in range(len(values)):
        part = values[max(0, i - back):i + ahead + 1]
        out.append(sum(part) / len(part))
    return out


def identity_curves(rounds: dict[tuple[str, str], ProbeRound], scores: list[AnswerScore],
                    window: int) -> dict[str, dict[str, list[CurvePoint]]]:
    """Per agent, per scorer: one point per round that scorer scored, by step then log order.

    Re-probed rounds (trigger `reprobe`) are a separate measurement of recorded contexts, so
    they form their own curve, named `<scorer> (reprobe)`.

    Args:
        rounds: probe rounds keyed by (agent id, round id).
        scores: per-answer scores; unscored answers (value None) are left out.
        window: rounds in the smoothing window.

    Returns:
        agent id -> scorer -> curve points.
    """
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for s in scores:
        if s.value is not None and (s.agent_id, s.round_id) in rounds:
            values[(s.agent_id, s.scorer, s.round_id)].append(s.value)
    series: dict[str, dict[str, list[tuple[ProbeRound, list[float]]]]] = defaultdict(
        lambda: defaultdict(list))
    for (agent, scorer, round_id), vals in values.items():
        r = rounds[(agent, round_id)]
        name = scorer + REPROBE_SUFFIX if r.trigger == "reprobe" else scorer
        series[agent][name].append((r, vals))
    out: dict[str, dict[str, list[CurvePoint]]] = {}
    for agent, by_scorer in series.items():
        out[agent] = {}
        for scorer, items in by_scorer.items():
            items.sort(key=lambda item: (item[0].step, item[0].seq))
            means = [mean(vals) for _, vals in items]
            out[agent][scorer] = [
                CurvePoint(step=r.step, value=m, smoothed=sm, round_id=r.round_id,
                           trigger=r.trigger, n=len(vals))
                for (r, vals), m, sm in zip(items, means, smooth(means, window), strict=True)
            ]
    return out


def half_life(curve: list[CurvePoint]) -> HalfLife:
    """First step where the smoothed score falls below half its initial value.

    Censored when it never does, including when the initial value is 0 (nothing to halve).
    """
    if not curve:
        return HalfLife()
    initial = curve[0].smoothed
    threshold = initial / 2
    last = curve[-1].step
    for point in curve:
        if point.smoothed < threshold:
            return HalfLife(step=point.step, censored=False, initial=initial,
                            threshold=threshold, observed_until=last)
    return HalfLife(initial=initial, threshold=threshold, observed_until=last)


def break_scorer(curves: dict[str, list[CurvePoint]]) -> str | None:
    """The scorer breaks are judged on: `break` if present, else `rules`, else None."""
    return next((name for name in BREAK_SCORERS if curves.get(name)), None)


def find_breaks(curves: dict[str, list[CurvePoint]]) -> Breaks:
    """Break episodes on the raw round scores of the break scorer.

    A break starts at the first round below 0.5 and ends (recovery) at the first later round
    back at >= 0.5; steps to recover count agent steps between the two.
    """
    scorer = break_scorer(curves)
    if scorer is None:
        return Breaks()
    episodes: list[BreakEpisode] = []
    for point in curves[scorer]:
        broken = bool(episodes) and episodes[-1].recovery_step is None
        if not broken and point.value < BREAK_THRESHOLD:
            episodes.append(BreakEpisode(break_step=point.step, break_round=point.round_id))
        elif broken and point.value >= BREAK_THRESHOLD:
            ep = episodes[-1]
            ep.recovery_step, ep.recovery_round = point.step, point.round_id
            ep.steps_to_recover = point.step - ep.break_step
    first = episodes[0] if episodes else None
    return Breaks(scorer=scorer, break_step=first.break_step if first else None,
                  recovery_step=first.recovery_step if first else None,
                  steps_to_recover=first.steps_to_recover if first else None,
                  episodes=episodes)
