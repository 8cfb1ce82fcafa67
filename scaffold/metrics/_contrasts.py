"""Each condition against a reference condition: difference of agent means, with an interval
and a permutation test, Holm-adjusted over the conditions compared."""

from __future__ import annotations

import warnings
from statistics import mean

import numpy as np

from scaffold.errors import ConfigError
from scaffold.metrics._models import (
    TARGET_FIELDS,
    ConditionMetrics,
    ConditionScorer,
    Contrast,
    MetricsSettings,
)

DEFAULT_REFERENCE = "window"
"""The reference when none is named and a condition has this label (the plain context
window: the memory every other design adds to)."""


SEPARATOR = " · "
"""How a group label joins its parts (see `group_label`)."""


def references(conditions: list[ConditionMetrics],
               settings: MetricsSettings) -> dict[str, str]:
    """Each group's reference group label (groups that are their own reference, or have
    none, are left out).

    The reference is the named label (`settings.reference`) for every group; or, when agents
    are grouped by the condition and something else (`--by condition --by persona`) and the
    name (default `window`) is a memory condition, the group with the same other parts and
    that condition (each persona against its own window); or else `window`, or the first
    group. Without a name, groups that do not include the memory condition get none.

    Raises:
        ConfigError: the named reference is neither a group label nor a condition.
    """
    labels = list(dict.fromkeys(c.condition for c in conditions))
    named = settings.reference
    if named is None and (len(labels) < 2 or "condition" not in settings.group_by):
        return {}  # groups by something else (a domain, a persona) have no natural reference
    if named is not None and named in labels:
        return {label: named for label in labels if label != named}
    keys = settings.group_by
    if "condition" in keys and len(keys) > 1:
        at = keys.index("condition")
        wanted = named or DEFAULT_REFERENCE
        parts = {label: label.split(SEPARATOR) for label in labels}
        if any(len(p) == len(keys) and p[at] == wanted for p in parts.values()):
            out = {}
            for label, p in parts.items():
                if len(p) == len(keys) and p[at] != wanted:
                    base = SEPARATOR.join([*p[:at], wanted, *p[at + 1:]])
                    if base in labels:
                        out[label] = base
            return out
    if named is not None:
        raise ConfigError("report settings", [
            f"reference: no condition is named {named!r}; the conditions are: "
            f"{', '.join(sorted(labels))}"])
    base = DEFAULT_REFERENCE if DEFAULT_REFERENCE in labels else labels[0]
    return {label: base for label in labels if label != base}


def _series(c: ConditionMetrics) -> dict[tuple[str, str], ConditionScorer]:
    return {(target, n): s for target in TARGET_FIELDS for n, s in c.series(target).items()}


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
    """Every condition against its reference (see `references`), per model, target and
    scorer both have; Holm-adjusted per model, target and scorer."""
    bases = references(conditions, settings)
    by_label = {(c.condition, c.model): c for c in conditions}
    families: dict[tuple[str, str, str], list[Contrast]] = {}
    for c in conditions:
        base = by_label.get((bases.get(c.condition, ""), c.model))
        if base is None:
            continue
        base_series = _series(base)
        for (target, scorer), s in _series(c).items():
            if (target, scorer) not in base_series:
                continue
            x, y = _agent_means(s), _agent_means(base_series[(target, scorer)])
            if not x or not y:
                continue
            key = sum(len(f) for f in families.values())
            contrast = Contrast(
                condition=c.condition, model=c.model, target=target, scorer=scorer,
                reference=base.condition, n=len(x), n_reference=len(y), mean=mean(x),
                reference_mean=mean(y), difference=mean(x) - mean(y), interval="too few")
            if min(len(x), len(y)) >= settings.min_n:
                low, high, kind = _interval(x, y, settings, key)
                contrast = contrast.model_copy(update={
                    "low": low, "high": high, "interval": kind,
                    "p_value": _permutation_p(x, y, settings, key)})
            families.setdefault((c.model, target, scorer), []).append(contrast)
    out: list[Contrast] = []
    for family in families.values():
        tested = [k for k in family if k.p_value is not None]
        adjusted = holm([k.p_value for k in tested if k.p_value is not None])
        for k, p in zip(tested, adjusted, strict=True):
            assert k.low is not None and k.high is not None
            k.p_holm = p
            k.within_noise = (k.low <= 0.0 <= k.high) or p >= 1 - settings.confidence
        out.extend(family)
    return out
