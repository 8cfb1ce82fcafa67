"""Per-condition aggregates across runs: mean curves with bootstrap intervals, survival."""

from __future__ import annotations

import warnings
from collections import defaultdict
from statistics import mean

import numpy as np

from scaffold.metrics._memory import delta_by_kind
from scaffold.metrics._models import (
    AgentMetrics,
    ConditionMetrics,
    ConditionScorer,
    CurvePoint,
    HalfLife,
    MeanPoint,
    MetricsSettings,
    SurvivalRow,
)


def bootstrap_interval(values: list[float], settings: MetricsSettings,
                       key: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, seeded by (settings.seed, key).

    With fewer than two values, or all equal, the interval collapses to the mean.
    """
    m = mean(values)
    if len(values) < 2 or min(values) == max(values):
        return m, m
    from scipy.stats import bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bootstrap((np.asarray(values, dtype=float),), np.mean, vectorized=True,
                        n_resamples=settings.resamples, confidence_level=settings.confidence,
                        method="percentile", rng=np.random.default_rng([settings.seed, key]))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return min(low, m), max(high, m)


def mean_curve(curves: list[list[CurvePoint]], settings: MetricsSettings) -> list[MeanPoint]:
    """Mean score by step across agents; each agent counts once per step (its rounds' mean)."""
    by_step: dict[int, list[float]] = defaultdict(list)
    for curve in curves:
        per_step: dict[int, list[float]] = defaultdict(list)
        for p in curve:
            per_step[p.step].append(p.value)
        for step, vals in per_step.items():
            by_step[step].append(mean(vals))
    out = []
    for step, vals in sorted(by_step.items()):
        low, high = bootstrap_interval(vals, settings, key=step)
        out.append(MeanPoint(step=step, mean=mean(vals), low=low, high=high, n=len(vals)))
    return out


def survival_table(half_lives: list[HalfLife]) -> list[SurvivalRow]:
    """Kaplan-Meier estimate of the fraction whose persona has not yet halved, by step.

    An agent whose score never halved is censored at the last step it was probed.
    """
    times = [(h.step, False) if not h.censored and h.step is not None
             else (h.observed_until, True) for h in half_lives if h.observed_until is not None]
    survival, rows = 1.0, []
    for step in sorted({t for t, _ in times}):
        at_risk = sum(t >= step for t, _ in times)
        events = sum(t == step and not c for t, c in times)
        censored = sum(t == step and c for t, c in times)
        survival *= 1 - events / at_risk
        rows.append(SurvivalRow(step=step, at_risk=at_risk, events=events, censored=censored,
                                survival=survival))
    return rows


def condition_scorer(agents: list[AgentMetrics], scorer: str,
                     settings: MetricsSettings) -> ConditionScorer:
    """Aggregates of one scorer over the agents of a condition that it scored."""
    scored = [a.scorers[scorer] for a in agents if scorer in a.scorers]
    survival = survival_table([s.half_life for s in scored])
    median = next((r.step for r in survival if r.survival <= 0.5), None)
    deltas = [d for s in scored for d in s.event_deltas]
    return ConditionScorer(scorer=scorer, n_agents=len(scored),
                           curve=mean_curve([s.curve for s in scored], settings),
                           survival=survival, median_half_life=median,
                           delta_by_kind=delta_by_kind(deltas))


def condition_metrics(agents: list[AgentMetrics],
                      settings: MetricsSettings) -> list[ConditionMetrics]:
    """Group agents by (memory condition, model) and aggregate each group."""
    groups: dict[tuple[str, str], list[AgentMetrics]] = defaultdict(list)
    for a in agents:
        groups[(a.condition, a.model)].append(a)
    out = []
    for (condition, model), members in sorted(groups.items()):
        scorers = list(dict.fromkeys(s for a in members for s in a.scorers))
        out.append(ConditionMetrics(
            condition=condition, model=model,
            agents=[f"{a.run_id}/{a.agent_id}" for a in members],
            broke=sum(a.breaks.break_step is not None for a in members),
            scorers={s: condition_scorer(members, s, settings) for s in scorers}))
    return out
