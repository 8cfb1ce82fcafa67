"""Per-condition aggregates across runs: mean curves with bootstrap intervals, survival."""

from __future__ import annotations

import warnings
from collections import defaultdict
from statistics import mean
from typing import Literal

import numpy as np

from scaffold.metrics._activation import condition_activation, condition_activation_curves
from scaffold.metrics._drift import paired_drift
from scaffold.metrics._memory import delta_by_kind
from scaffold.metrics._models import (
    AgentMetrics,
    AgentOutcome,
    ConditionMetrics,
    ConditionScorer,
    CurvePoint,
    HalfLife,
    Level,
    MeanPoint,
    MetricsSettings,
    ScorerMetrics,
    SurvivalRow,
)


def bootstrap_interval(values: list[float], settings: MetricsSettings,
                       key: int = 0) -> tuple[float | None, float | None, str]:
    """Percentile bootstrap interval of the mean, seeded by (settings.seed, key).

    Returns:
        (low, high, kind): kind `too few` with no bounds when there are fewer than
        `settings.min_n` values (a bootstrap of 3 seeds mostly reflects those 3 values);
        `no spread` with low = high = mean when every value is equal (the sample shows no
        spread, which does not make the mean certain); else `bootstrap`.
    """
    m = mean(values)
    if len(values) < settings.min_n:
        return None, None, "too few"
    if min(values) == max(values):
        return m, m, "no spread"
    from scipy.stats import bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bootstrap((np.asarray(values, dtype=float),), np.mean, vectorized=True,
                        n_resamples=settings.resamples, confidence_level=settings.confidence,
                        method="percentile", rng=np.random.default_rng([settings.seed, key]))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return min(low, m), max(high, m), "bootstrap"


def mean_curve(curves: list[list[CurvePoint]], settings: MetricsSettings) -> list[MeanPoint]:
    """Mean score by step across agents; each agent counts once per step (its points' mean).

    Each point lists the per-agent values behind it and says whether its interval is a
    bootstrap interval, missing for too few agents, or zero-width for lack of spread.
    """
    by_step: dict[int, list[float]] = defaultdict(list)
    for curve in curves:
        per_step: dict[int, list[float]] = defaultdict(list)
        for p in curve:
            per_step[p.step].append(p.value)
        for step, vals in per_step.items():
            by_step[step].append(mean(vals))
    out = []
    for step, vals in sorted(by_step.items()):
        low, high, kind = bootstrap_interval(vals, settings, key=step)
        out.append(MeanPoint(step=step, mean=mean(vals), low=low, high=high, n=len(vals),
                             values=vals, interval=kind))  # type: ignore[arg-type]
    return out


def survival_table(half_lives: list[HalfLife]) -> list[SurvivalRow]:
    """Kaplan-Meier estimate of the fraction whose persona has not yet halved, by step.

    An agent whose score never halved is censored at the last step it was probed; an agent
    that never held the persona is left out (it had nothing to lose).
    """
    times = [(h.step, False) if not h.censored and h.step is not None
             else (h.observed_until, True) for h in half_lives
             if h.observed_until is not None and not h.never_held]
    survival, rows = 1.0, []
    for step in sorted({t for t, _ in times}):
        at_risk = sum(t >= step for t, _ in times)
        events = sum(t == step and not c for t, c in times)
        censored = sum(t == step and c for t, c in times)
        survival *= 1 - events / at_risk
        rows.append(SurvivalRow(step=step, at_risk=at_risk, events=events, censored=censored,
                                survival=survival))
    return rows


def _outcome(agent: AgentMetrics, s: ScorerMetrics) -> AgentOutcome:
    hl = s.half_life
    outcome: Literal["halved", "censored", "never held", "no data"] = (
        "no data" if not s.curve else "never held" if hl.never_held
        else "censored" if hl.censored else "halved")
    return AgentOutcome(agent=f"{agent.run_id}/{agent.agent_id}", seed=agent.seed,
                        initial=hl.initial, half_life=hl.step, outcome=outcome,
                        mean=mean(p.value for p in s.curve) if s.curve else None)


def carried_forward(curve: list[CurvePoint], last_step: int) -> list[CurvePoint]:
    """A memory-text curve as the memory the agent holds at each step: from its first text
    to `last_step`, each step takes the mean of the texts written at it, else the value of
    the latest step before it that had texts."""
    per_step: dict[int, list[CurvePoint]] = defaultdict(list)
    for p in curve:
        per_step[p.step].append(p)
    if not per_step:
        return []
    out: list[CurvePoint] = []
    held: CurvePoint | None = None
    for step in range(min(per_step), max(last_step, max(per_step)) + 1):
        if step in per_step:
            points = per_step[step]
            value = mean(p.value for p in points)
            held = points[-1].model_copy(update={"value": value, "smoothed": value,
                                                 "n": sum(p.n for p in points)})
        assert held is not None  # the range starts at a step with texts
        out.append(held.model_copy(update={"step": step}))
    return out


def condition_scorer(agents: list[AgentMetrics], scorer: str, settings: MetricsSettings,
                     target: str = "probe") -> ConditionScorer:
    """Aggregates of one scorer (or the index) over the agents of a condition it scored, on
    probe rounds, replies (target `message`) or memory texts (target `memory`: the mean
    curve carries each agent's latest text forward, see `carried_forward`; survival and
    drift use the texts themselves)."""
    scored = [(a, series[scorer]) for a in agents
              for series in [a.series(target)] if scorer in series]
    survival = survival_table([s.half_life for _, s in scored])
    median = next((r.step for r in survival if r.survival <= 0.5), None)
    deltas = [d for _, s in scored for d in s.event_deltas]
    outcomes = [_outcome(a, s) for a, s in scored]
    means = [o.mean for o in outcomes if o.mean is not None]
    level = None
    if means:
        low, high, kind = bootstrap_interval(means, settings)
        level = Level(mean=mean(means), n=len(means), low=low, high=high,
                      interval=kind)  # type: ignore[arg-type]
    curves = ([carried_forward(s.curve, a.steps) for a, s in scored] if target == "memory"
              else [s.curve for _, s in scored])
    return ConditionScorer(scorer=scorer, target=target, n_agents=len(scored),
                           never_held=sum(s.half_life.never_held for _, s in scored),
                           per_agent=outcomes, level=level,
                           curve=mean_curve(curves, settings),
                           survival=survival, median_half_life=median,
                           delta_by_kind=delta_by_kind(deltas),
                           drift=paired_drift([s.curve for _, s in scored], settings))


def condition_metrics(agents: list[AgentMetrics],
                      settings: MetricsSettings) -> list[ConditionMetrics]:
    """Group agents by (memory condition, model) and aggregate each group."""
    groups: dict[tuple[str, str], list[AgentMetrics]] = defaultdict(list)
    for a in agents:
        groups[(a.condition, a.model)].append(a)
    out = []
    for (condition, model), members in sorted(groups.items()):
        scorers = list(dict.fromkeys(s for a in members for s in a.scorers))
        said = list(dict.fromkeys(s for a in members for s in a.replies))
        written = list(dict.fromkeys(s for a in members for s in a.memory_texts))
        out.append(ConditionMetrics(
            condition=condition, model=model,
            agents=[f"{a.run_id}/{a.agent_id}" for a in members],
            seeds=sorted({a.seed for a in members if a.seed is not None}),
            too_few=len(members) < settings.min_n,
            broke=sum(a.breaks.break_step is not None for a in members),
            reply_broke=sum(a.reply_breaks.break_step is not None for a in members),
            scorers={s: condition_scorer(members, s, settings) for s in scorers},
            replies={s: condition_scorer(members, s, settings, "message") for s in said},
            memory_texts={s: condition_scorer(members, s, settings, "memory") for s in written},
            activation_deltas=condition_activation(members, settings),
            activation_curves=condition_activation_curves(members, settings)))
    return out
