"""Sweeps: an experiment's `sweep:` axes crossed into one validated spec per run."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from scaffold.config._experiment import ExperimentSpec
from scaffold.config._settings import apply_setting
from scaffold.errors import ConfigError


def sweep_points(spec: ExperimentSpec) -> list[dict[str, Any]]:
    """The axis values of every run, cartesian product minus `exclude` matches."""
    if spec.sweep is None:
        return [{}]
    axes = spec.sweep.axes()
    points = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
    return [p for p in points
            if not any(all(p.get(k) == v for k, v in rule.items()) for rule in spec.sweep.exclude)]


def expand_sweep(spec: ExperimentSpec, source: str = "sweep") -> list[ExperimentSpec]:
    """One spec per run (the spec itself when it has no sweep).

    Raises:
        ConfigError: a combination makes the spec invalid (named with its axis values).
    """
    if spec.sweep is None:
        return [spec]
    from scaffold.config._loading import parse_experiment

    base = spec.model_dump(mode="json")
    base["sweep"] = None
    variants, problems = [], []
    for point in sweep_points(spec):
        data = copy.deepcopy(base)
        try:
            for key, value in point.items():
                apply_setting(data, key, value)
            variants.append(parse_experiment(data, source))
        except ConfigError as exc:
            problems += [f"sweep {point}: {p}" for p in exc.problems]
    if problems:
        raise ConfigError(source, problems)
    if not variants:
        raise ConfigError(source, ["sweep: every combination is excluded"])
    return variants
