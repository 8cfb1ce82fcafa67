"""First-to-last change of a score over a condition's agents, with an interval and a test."""

from __future__ import annotations

import warnings
from statistics import mean

from scaffold.metrics._models import CurvePoint, Drift, MetricsSettings


def paired_drift(curves: list[list[CurvePoint]], settings: MetricsSettings,
                 key: int = 0) -> Drift | None:
    """Drift over agents: each agent's last raw point minus its first (agents with fewer than
    two points are left out); bootstrap interval of the mean change and a Wilcoxon
    signed-rank p-value, both only from `settings.min_n` agents up."""
    from scaffold.metrics._conditions import bootstrap_interval

    pairs = [(c[0].value, c[-1].value) for c in curves if len(c) >= 2]
    if not pairs:
        return None
    changes = [last - first for first, last in pairs]
    low, high, kind = bootstrap_interval(changes, settings, key)
    return Drift(n=len(pairs), first_mean=mean(p[0] for p in pairs),
                 last_mean=mean(p[1] for p in pairs), mean_change=mean(changes),
                 low=low, high=high, interval=kind, p_value=_wilcoxon(changes, settings),
                 changes=changes)


def _wilcoxon(changes: list[float], settings: MetricsSettings) -> float | None:
    if len(changes) < settings.min_n or not any(changes):
        return None
    from scipy.stats import wilcoxon

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(wilcoxon(changes, zero_method="wilcox", alternative="two-sided").pvalue)
