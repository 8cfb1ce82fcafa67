"""Each condition against a reference condition: difference of agent means, with an interval
and a permutation test, Holm-adjusted over the conditions compared."""

from __future__ import annotations

import warnings
from statistics import mean

import numpy as np

from scaffold.errors import ConfigError
from scaffold.metrics._models import ConditionMetrics, ConditionScorer, Contrast, MetricsSettings

DEFAULT_REFERENCE = "window"
"""The reference when none is named and a condition has this label (the plain context
window: the memory every other design adds to)."""


def reference_label(conditions: list[ConditionMetrics], settings: MetricsSettings) -> str | None:
    """The condition the others are compared with: the named one, else `window`, else the
    first; None when there is nothing to compare.

    Raises:
        ConfigError: the named reference is not one of the conditions.
    """
    labels = [c.condition for c in conditions]
    if settings.reference is not None:
        if settings.reference not in labels:
            raise ConfigError("report settings", [
                f"reference: no condition is named {settings.reference!r}; the conditions "
                f"are: {', '.join(sorted(set(labels))) or 'none'}"])
        return settings.reference
    if len(set(labels)) < 2:
        return None
    return DEFAULT_REFERENCE if DEFAULT_REFERENCE in labels else labels[0]


def _series(c: ConditionMetrics) -> dict[tuple[str, str], ConditionScorer]:
    out = {("message", n): s for n, s in c.replies.items()}
    out.update({("probe", n): s for n, s in c.scorers.items()})
    out.update({("memory", n): s for n, s in c.memory_texts.items()})
    return out


def _agent_means(s: ConditionScorer) -> list[float]:
    return [o.mean for o in s.per_agent if o.mean is not None]


def _difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.asarray(np.mean(x, axis=axis) - np.mean(y, axis=axis))


def _interval(x: list[float], y: list[float], settings: MetricsSettings,
              key: int) -> tuple[float, float, str]:
    """Percentile bootstrap interval of mean(x) - mean(y), each side resampled on its own."""
    d = mean(x) - mean(y)
    if min(x) == max(x) and min(y) == max(y):
        return d, d, "no spread"
    from scipy.stats import bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bootstrap((np.asarray(x, float), np.asarray(y, float)), _difference,
                        vectorized=True, n_resamples=settings.resamples,
                        confidence_level=settings.confidence, method="percentile",
                        rng=np.random.default_rng([settings.seed, key]))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return min(low, d), max(high, d), "bootstrap"


def _permutation_p(x: list[float], y: list[float], settings: MetricsSettings,
                   key: int) -> float:
    """Two-sided permutation p-value of the difference of means (exact when the
    relabellings are fewer than the resamples)."""
    if min(x + y) == max(x + y):
        return 1.0
    from scipy.stats import permutation_test

    res = permutation_test((np.asarray(x, float), np.asarray(y, float)), _difference,
                           permutation_type="independent", vectorized=True,
                           n_resamples=max(settings.resamples, 9999), alternative="two-sided",
                           rng=np.random.default_rng([settings.seed, key, 1]))
    return float(res.pvalue)


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment, in the order given."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def condition_contrasts(conditions: list[ConditionMetrics],
                        settings: MetricsSettings) -> list[Contrast]:
    """Every condition against the reference, per model, target and scorer both have."""
    reference = reference_label(conditions, settings)
    if reference is None:
        return []
    out: list[Contrast] = []
    for model in dict.fromkeys(c.model for c in conditions):
        base = next((c for c in conditions if c.condition == reference and c.model == model),
                    None)
        if base is None:
            continue
        base_series = _series(base)
        families: dict[tuple[str, str], list[Contrast]] = {}
        for c in conditions:
            if c is base or c.model != model:
                continue
            for (target, scorer), s in _series(c).items():
                if (target, scorer) not in base_series:
                    continue
                x, y = _agent_means(s), _agent_means(base_series[(target, scorer)])
                if not x or not y:
                    continue
                key = len(out) + sum(len(f) for f in families.values())
                contrast = Contrast(
                    condition=c.condition, model=model, target=target, scorer=scorer,
                    reference=reference, n=len(x), n_reference=len(y), mean=mean(x),
                    reference_mean=mean(y), difference=mean(x) - mean(y), interval="too few")
                if min(len(x), len(y)) >= settings.min_n:
                    low, high, kind = _interval(x, y, settings, key)
                    contrast = contrast.model_copy(update={
                        "low": low, "high": high, "interval": kind,
                        "p_value": _permutation_p(x, y, settings, key)})
                families.setdefault((target, scorer), []).append(contrast)
        for family in families.values():
            tested = [k for k in family if k.p_value is not None]
            adjusted = holm([k.p_value for k in tested if k.p_value is not None])
            for k, p in zip(tested, adjusted, strict=True):
                assert k.low is not None and k.high is not None
                k.p_holm = p
                k.within_noise = (k.low <= 0.0 <= k.high) or p >= 1 - settings.confidence
            out.extend(family)
    return out
