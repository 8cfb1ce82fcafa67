"""Sweeps: an experiment's `sweep:` axes crossed into one validated spec per run."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from scaffold.config._experiment import ExperimentSpec
from scaffold.config._settings import apply_setting
from scaffold.errors import ConfigError


def point_label(value: Any) -> Any:
    """An axis value as runs are named by it: a linked axis's value by its `label`."""
    return value.get("label") if isinstance(value, dict) else value


def sweep_points(spec: ExperimentSpec) -> list[dict[str, Any]]:
    """The axis values of every run, cartesian product minus `exclude` matches (a rule names
    a linked axis's value by its label)."""
    if spec.sweep is None:
        return [{}]
    axes = spec.sweep.axes()
    points = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
    return [p for p in points
            if not any(all(point_label(p.get(k)) == v for k, v in rule.items())
                       for rule in spec.sweep.exclude)]


def _apply_point(data: dict[str, Any], point: dict[str, Any]) -> None:
    """Set one run's axis values (every path of a linked axis) and record the point."""
    for key, value in point.items():
        if isinstance(value, dict):
            for path, item in value.items():
                if path != "label":
                    apply_setting(data, path, item)
        else:
            apply_setting(data, key, value)
    data["sweep_point"] = {key: point_label(value) for key, value in point.items()}


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
            _apply_point(data, point)
            variants.append(parse_experiment(data, source))
        except ConfigError as exc:
            named = {k: point_label(v) for k, v in point.items()}
            problems += [f"sweep {named}: {p}" for p in exc.problems]
    if problems:
        raise ConfigError(source, problems)
    if not variants:
        raise ConfigError(source, ["sweep: every combination is excluded"])
    return variants
