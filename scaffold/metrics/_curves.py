"""Identity curves per agent and scorer: smoothing, half-life, breaks and recovery."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from scaffold.metrics._answers import AnswerScore, ProbeRound
from scaffold.metrics._models import BreakEpisode, Breaks, CurvePoint, HalfLife

BREAK_THRESHOLD = 0.5
"""A round below this is a break (on the break scorer, else on rules)."""
BREAK_SCORERS = ("break", "rules")
"""Scorers a break in probe answers is judged on, in order of preference."""
REPLY_BREAK_SCORERS = ("break",)
"""Scorers a break in replies is judged on (rules never score replies)."""
NEVER_HELD_BELOW = 0.5
"""An initial smoothed score below this means the agent never held the persona."""
REPROBE_SUFFIX = " (reprobe)"
"""Rounds asked again by `scaffold rescore --reprobe` form their own curve per scorer."""


def smooth(values: list[float], window: int) -> list[float]:
    """Centred rolling mean over neighbouring items; windows shrink at the ends instead of
    dropping points (see `smooth_by_step` for curves, whose points are not evenly spaced)."""
    return smooth_by_step(list(range(len(values))), values, window)


def smooth_by_step(steps: list[int], values: list[float], window: int) -> list[float]:
    """Centred rolling mean over a window of `window` steps.

    A point at step s averages every point with a step in [s - (window - 1) // 2,
    s + window // 2], so a condition probed every 2 steps and one probed every 6 are smoothed
    over the same stretch of the run; points at one step (rounds before and after a memory
    event) share a window. Centring keeps a drop at the step where it happens.

    Args:
        steps: each point's step, in non-decreasing order.
        values: each point's value.
        window: steps in the window (>= 1).
    """
    if window < 1:
        raise ValueError("window must be >= 1")
    back, ahead = (window - 1) // 2, window // 2
    out = []
    lo = hi = 0
    for step in steps:
        while steps[lo] < step - back:
            lo += 1
        while hi < len(steps) and steps[hi] <= step + ahead:
            hi += 1
        part = values[lo:hi]
        out.append(sum(part) / len(part))
    return out


def identity_curves(rounds: dict[tuple[str, str], ProbeRound], scores: list[AnswerScore],
                    window: int) -> dict[str, dict[str, list[CurvePoint]]]:
    """Per agent, per scorer: one point per round that scorer scored, by step then log order.

    Re-probed rounds (trigger `reprobe`) are a separate measurement of recorded contexts, so
    they form their own curve, named `<scorer> (reprobe)`.

    Args:
        rounds: probe rounds (or replies) keyed by (agent id, round id).
        scores: per-answer scores; unscored answers (value None) are left out.
        window: steps in the smoothing window.

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
            smoothed = smooth_by_step([r.step for r, _ in items], means, window)
            out[agent][scorer] = [
                CurvePoint(step=r.step, value=m, smoothed=sm, round_id=r.round_id,
                           trigger=r.trigger, n=len(vals))
                for (r, vals), m, sm in zip(items, means, smoothed, strict=True)
            ]
    return out


def half_life(curve: list[CurvePoint], held: float = NEVER_HELD_BELOW) -> HalfLife:
    """First step where the smoothed score falls below half its initial value.

    An agent whose initial smoothed score is below `held` never held the persona: it has no
    half-life, is neither a survivor nor censored, and survival tables leave it out. An agent
    whose score never halved is censored at its last point.
    """
    if not curve:
        return HalfLife()
    initial = curve[0].smoothed
    last = curve[-1].step
    if initial < held:
        return HalfLife(censored=False, never_held=True, initial=initial, observed_until=last)
    threshold = initial / 2
    for point in curve:
        if point.smoothed < threshold:
            return HalfLife(step=point.step, censored=False, initial=initial,
                            threshold=threshold, observed_until=last)
    return HalfLife(initial=initial, threshold=threshold, observed_until=last)


def break_scorer(curves: dict[str, list[CurvePoint]],
                 preference: tuple[str, ...] = BREAK_SCORERS) -> str | None:
    """The scorer breaks are judged on: the first of `preference` with a curve, else None."""
    return next((name for name in preference if curves.get(name)), None)


def find_breaks(curves: dict[str, list[CurvePoint]],
                preference: tuple[str, ...] = BREAK_SCORERS) -> Breaks:
    """Break episodes on the raw round scores of the break scorer (the first of `preference`
    with a curve: `break`, else `rules` for probes; `break` for replies).

    A break starts at the first round below 0.5 and ends (recovery) at the first later round
    back at >= 0.5; steps to recover count agent steps between the two.
    """
    scorer = break_scorer(curves, preference)
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
