"""Each condition against a reference condition: differences, intervals, permutation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.errors import ConfigError
from scaffold.loading import experiment_from_data
from scaffold.metrics import (
    AgentOutcome,
    ConditionMetrics,
    ConditionScorer,
    MetricsSettings,
    compute_metrics,
)
from scaffold.metrics._contrasts import condition_contrasts, holm
from scaffold.report import write_report
from tests.helpers import make_spec, run_spec, spec_dict


def _condition(name: str, values: list[float], memory: list[float] | None = None,
               model: str = "m") -> ConditionMetrics:
    def scorer(vals: list[float], target: str) -> ConditionScorer:
        return ConditionScorer(scorer="index", target=target, n_agents=len(vals), per_agent=[
            AgentOutcome(agent=f"{name}-{i}/a", seed=i, mean=v, outcome="censored")
            for i, v in enumerate(vals)])
    return ConditionMetrics(condition=name, model=model, scorers={"index": scorer(values, "probe")},
                            memory_texts={"index": scorer(memory, "memory")} if memory else {})


def test_a_real_difference_differs_and_noise_is_within_noise() -> None:
    rng = np.random.default_rng(0)
    window = list(rng.normal(0.5, 0.05, 8))
    shifted = [v + 0.3 for v in rng.normal(0.5, 0.05, 8)]
    same = list(rng.normal(0.5, 0.05, 8))
    conditions = [_condition("summary", shifted), _condition("vector", same),
                  _condition("window", window)]
    got = {k.condition: k for k in condition_contrasts(conditions, MetricsSettings())}
    assert set(got) == {"summary", "vector"}  # window is the reference by default
    up = got["summary"]
    assert up.reference == "window" and (up.n, up.n_reference) == (8, 8)
    assert up.difference == pytest.approx(np.mean(shifted) - np.mean(window))
    assert up.low is not None and up.high is not None and 0 < up.low < up.difference < up.high
    assert up.p_value is not None and up.p_value < 0.01 and up.within_noise is False
    flat = got["vector"]
    assert flat.low is not None and flat.high is not None and flat.low < 0 < flat.high
    assert flat.within_noise is True
    # Holm: the adjusted p is never below the raw one, and the smallest is multiplied by 2
    assert up.p_holm == pytest.approx(min(1.0, 2 * up.p_value))
    assert flat.p_holm is not None and flat.p_value is not None and flat.p_holm >= flat.p_value
    # seeded: the same numbers every time
    again = {k.condition: k for k in condition_contrasts(conditions, MetricsSettings())}
    assert again == got


def test_too_few_agents_get_no_interval_or_test() -> None:
    conditions = [_condition("window", [0.1, 0.2, 0.3, 0.4, 0.5]),
                  _condition("notes", [0.9, 0.9, 0.8])]
    (k,) = condition_contrasts(conditions, MetricsSettings())
    assert k.interval == "too few" and k.low is None and k.p_value is None
    assert k.within_noise is None and k.difference == pytest.approx(0.8667 - 0.3, abs=1e-3)


def test_memory_texts_are_compared_only_where_the_reference_has_them() -> None:
    conditions = [_condition("summary", [0.5] * 5, memory=[0.2] * 5),
                  _condition("notes", [0.5] * 5, memory=[0.9] * 5),
                  _condition("window", [0.5] * 5)]
    assert {k.target for k in condition_contrasts(conditions, MetricsSettings())} == {"probe"}
    named = MetricsSettings(reference="summary")
    by_target = {(k.condition, k.target): k for k in condition_contrasts(conditions, named)}
    notes = by_target[("notes", "memory")]
    assert notes.interval == "no spread" and notes.within_noise is False
    assert notes.difference == pytest.approx(0.7)
    assert by_target[("window", "probe")].within_noise is True  # equal values: p = 1


def test_other_models_are_compared_with_their_own_reference() -> None:
    conditions = [_condition("window", [0.5] * 5, model="a"),
                  _condition("summary", [0.9] * 5, model="b")]
    assert condition_contrasts(conditions, MetricsSettings()) == []


def test_grouped_by_persona_each_persona_is_compared_with_its_own_reference() -> None:
    conditions = [_condition("summary · p/amelie", [0.9] * 5),
                  _condition("summary · p/jfk", [0.2] * 5),
                  _condition("window · p/amelie", [0.1] * 5),
                  _condition("window · p/jfk", [0.2] * 5)]
    by_persona = MetricsSettings(group_by=["condition", "persona"])
    got = {k.condition: k for k in condition_contrasts(conditions, by_persona)}
    assert {c: (k.reference, round(k.difference, 6)) for c, k in got.items()} == {
        "summary · p/amelie": ("window · p/amelie", 0.8),
        "summary · p/jfk": ("window · p/jfk", 0.0)}
    named = by_persona.model_copy(update={"reference": "summary"})
    refs = {k.condition: k.reference for k in condition_contrasts(conditions, named)}
    assert refs == {"window · p/amelie": "summary · p/amelie",
                    "window · p/jfk": "summary · p/jfk"}
    one = by_persona.model_copy(update={"reference": "window · p/jfk"})
    assert {k.reference for k in condition_contrasts(conditions, one)} == {"window · p/jfk"}
    with pytest.raises(ConfigError, match="no condition is named 'vector'"):
        condition_contrasts(conditions, by_persona.model_copy(update={"reference": "vector"}))


def test_groups_by_something_else_are_contrasted_only_when_a_reference_is_named() -> None:
    conditions = [_condition("domain=coding", [0.5] * 5), _condition("domain=therapy", [0.9] * 5)]
    by_domain = MetricsSettings(group_by=["domain"])
    assert condition_contrasts(conditions, by_domain) == []
    named = by_domain.model_copy(update={"reference": "domain=coding"})
    (k,) = condition_contrasts(conditions, named)
    assert (k.condition, k.reference) == ("domain=therapy", "domain=coding")


def test_holm_adjustment() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_an_unknown_reference_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="reference: no condition is named 'nope'"):
        condition_contrasts([_condition("window", [0.5]), _condition("summary", [0.5])],
                            MetricsSettings(reference="nope"))
    for seed in (0, 1):
        run_spec(make_spec(tmp_path, steps=2, seed=seed))
    result = CliRunner().invoke(app, ["report", str(tmp_path / "runs"), "--format", "md",
                                      "--reference", "nope"])
    assert result.exit_code == 2 and "no condition is named 'nope'" in result.output
    assert "Traceback" not in result.output


def test_the_report_tables_the_contrasts(tmp_path: Path) -> None:
    for seed in range(5):
        run_spec(make_spec(tmp_path, steps=4, seed=seed))
        data = spec_dict(out=str(tmp_path / "runs"), steps=4, seed=seed)
        data["agents"][0]["memory"]["condition"] = "window"
        run_spec(experiment_from_data(data))
    metrics = compute_metrics(tmp_path / "runs", MetricsSettings())
    assert {c.condition for c in metrics.conditions} == {"summary", "window"}
    assert metrics.contrasts and all(k.reference == "window" for k in metrics.contrasts)
    (md, *_) = write_report(tmp_path / "runs", "md", MetricsSettings())
    text = md.read_text(encoding="utf-8")
    assert "### Against window" in text and "| summary | " in text
