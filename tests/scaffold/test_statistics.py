"""Honest statistics on known ground truth: the identity index, never-held agents, intervals
that say when n is too small, smoothing by step."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.events import ProbeEvent, ScoreEvent
from scaffold.metrics import (
    INDEX,
    AgentMetrics,
    CurvePoint,
    HalfLife,
    MetricsSettings,
    RunLog,
    ScorerMetrics,
    answer_index,
    bootstrap_interval,
    condition_metrics,
    half_life,
    mean_curve,
    run_metrics,
    smooth_by_step,
    survival_table,
)
from tests.scaffold.test_metrics import Log

FORBIDDEN = "1/2 checks passed: forbidden /\\b(AI|assistant)\\b/ matched"


def points(values: list[float], steps: list[int] | None = None) -> list[CurvePoint]:
    steps = steps or list(range(1, len(values) + 1))
    return [CurvePoint(step=s, value=v, smoothed=v, round_id=f"r{s}", trigger="periodic", n=1)
            for s, v in zip(steps, values, strict=True)]


def test_a_veto_zeroes_the_answer_whatever_the_other_scorers_say() -> None:
    assert answer_index([("break", 0.0, "first-person AI claim"), ("embedding", 0.9, ""),
                         ("rules", 1.0, "")]) == 0.0
    assert answer_index([("rules", 0.5, FORBIDDEN), ("embedding", 0.9, "")]) == 0.0
    assert answer_index([("leakage", 0.0, "speaks as Nixon"), ("judge", 1.0, "")]) == 0.0
    # rules v2 zeroes an answer itself and says why: that is a veto, not a graded 0
    assert answer_index([("rules", 0.0, "0: claims to be Lyndon Johnson (2/2 checks passed)"),
                         ("embedding", 0.9, "")]) == 0.0
    # all checks failed without a veto: a graded 0 among the others
    assert answer_index([("rules", 0.0, "0/1 checks passed: missing 'Kennedy'"),
                         ("embedding", 0.9, "")]) == pytest.approx(0.45)


def test_graded_scorers_share_the_index_equally() -> None:
    # rules' partial credit is one vote among the graded scorers; break's 1.0 is no evidence
    assert answer_index([("rules", 0.5, "1/2 checks passed: missing 'x'"), ("break", 1.0, ""),
                         ("embedding", 0.9, "")]) == pytest.approx(0.7)
    assert answer_index([("break", 1.0, ""), ("embedding", None, "")]) == 1.0
    assert answer_index([("embedding", None, "")]) is None


def test_activation_is_reported_beside_the_index_never_in_it() -> None:
    text = [("rules", 1.0, "1/1 checks passed"), ("embedding", 0.6, "")]
    assert answer_index([*text, ("activation", 0.0, "")]) == answer_index(text) == 0.8
    assert answer_index([("break", 1.0, ""), ("activation", 0.2, "")]) == 1.0
    assert answer_index([("activation", 0.3, "")]) is None


def test_round_index_weights_probes_not_samples() -> None:
    log = Log()
    rid = "a-s2-periodic"
    for probe, sample, value in (("p", 0, 1.0), ("p", 1, 0.0), ("q", 0, 1.0)):
        log._add(ProbeEvent, 2, round_id=rid, probe_id=probe, question="q?", answer="a",
                 sample=sample, trigger="periodic", request_hash="h")
        log._add(ScoreEvent, 2, round_id=rid, probe_id=probe, scorer="embedding", value=value)
    agent = run_metrics(RunLog(Path("."), log.events), MetricsSettings()).agents[0]
    [point] = agent.scorers[INDEX].curve
    assert point.value == pytest.approx(0.75) and point.n == 2  # (0.5 + 1.0) / 2, not 2/3
    assert agent.scorers["embedding"].curve[0].value == pytest.approx(2 / 3)


def test_forbidden_rule_zeroes_the_probe_in_the_round_index() -> None:
    log = Log()
    log.round(3, "periodic", {"rules": 0.5, "embedding": 0.9})
    agent = run_metrics(RunLog(Path("."), log.events), MetricsSettings()).agents[0]
    assert agent.scorers[INDEX].curve[0].value == pytest.approx(0.7)
    vetoed = Log()
    rid = vetoed.round(3, "periodic", {"embedding": 0.9})
    vetoed._add(ScoreEvent, 3, round_id=rid, probe_id="p", scorer="rules", value=0.5,
                explanation=FORBIDDEN)
    agent = run_metrics(RunLog(Path("."), vetoed.events), MetricsSettings()).agents[0]
    assert agent.scorers[INDEX].curve[0].value == 0.0


def test_an_agent_that_never_held_the_persona_is_neither_survivor_nor_censored() -> None:
    never = half_life(points([0.2, 0.1, 0.0]))
    assert never.never_held and not never.censored and never.step is None
    assert never.initial == pytest.approx(0.2) and never.threshold is None
    held = half_life(points([0.9, 0.9, 0.3]))
    assert not held.never_held and held.step == 3
    rows = survival_table([never, held, HalfLife(initial=1.0, observed_until=3)])
    assert [(r.step, r.at_risk, r.events, r.censored) for r in rows] == [(3, 2, 1, 1)]
    assert rows[-1].survival == pytest.approx(0.5)


def _agent(i: int, values: list[float]) -> AgentMetrics:
    curve = points(values)
    return AgentMetrics(run_id=f"run{i}", agent_id="a", condition="summary", model="m", seed=i,
                        steps=len(values), scorers={INDEX: ScorerMetrics(
                            scorer=INDEX, smooth_steps=1, curve=curve,
                            half_life=half_life(curve))})


def test_condition_counts_never_held_and_lists_every_seed() -> None:
    agents = [_agent(0, [1.0, 0.2]), _agent(1, [0.1, 0.1]), _agent(2, [1.0, 1.0])]
    [c] = condition_metrics(agents, MetricsSettings())
    s = c.scorers[INDEX]
    assert s.never_held == 1 and c.seeds == [0, 1, 2] and c.too_few
    assert [(o.seed, o.outcome, o.half_life) for o in s.per_agent] == [
        (0, "halved", 2), (1, "never held", None), (2, "censored", None)]
    assert [r.at_risk for r in s.survival][0] == 2  # the never-held agent is not at risk


def test_three_identical_seeds_give_no_interval_not_a_zero_width_one() -> None:
    settings = MetricsSettings(resamples=200)
    assert bootstrap_interval([0.6, 0.6, 0.6], settings) == (None, None, "too few")
    low, high, kind = bootstrap_interval([0.6] * 5, settings)
    assert (low, high, kind) == (0.6, 0.6, "no spread")
    low, high, kind = bootstrap_interval([0.1, 0.4, 0.5, 0.9, 1.0], settings)
    assert kind == "bootstrap" and low is not None and high is not None
    assert low < 0.58 < high
    [p] = mean_curve([points([v]) for v in (0.6, 0.6, 0.6)], settings)
    assert p.n == 3 and p.values == [0.6, 0.6, 0.6] and p.interval == "too few"
    assert p.low is None and p.high is None


def test_smoothing_is_by_step_whatever_the_probe_rate() -> None:
    # the same persona drop at step 10, probed every step and every 5 steps
    dense = list(range(1, 21))
    sparse = [5, 10, 15, 20]
    value = lambda s: 1.0 if s < 10 else 0.0  # noqa: E731
    smooth_dense = smooth_by_step(dense, [value(s) for s in dense], 5)
    smooth_sparse = smooth_by_step(sparse, [value(s) for s in sparse], 5)
    # a 5-step window holds one sparse point: no neighbours are averaged in
    assert smooth_sparse == [1.0, 0.0, 0.0, 0.0]
    assert smooth_dense[dense.index(5)] == 1.0 and smooth_dense[dense.index(15)] == 0.0
    assert smooth_dense[dense.index(10)] == pytest.approx(0.4)  # steps 8..12: two of five held
    # points at one step share a window (a before and an after round)
    assert smooth_by_step([4, 4, 9], [1.0, 0.0, 1.0], 1) == [0.5, 0.5, 1.0]


def test_report_says_when_a_condition_has_too_few_seeds(tmp_path: Path) -> None:
    from scaffold.metrics import report_metrics
    from scaffold.report._document import write_document
    from scaffold.report._writers import MarkdownWriter

    log = Log()
    for step in (2, 4, 6):
        log.round(step, "periodic", {"embedding": 0.9 if step < 6 else 0.1})
    logs = [RunLog(tmp_path, log.events)]
    metrics = report_metrics(logs, tmp_path, MetricsSettings(resamples=100))
    text = write_document(MarkdownWriter("t", tmp_path), metrics, logs)
    assert "Too few seeds" in text and "n=1" in text
    assert "never held" in text and "identity index v1" in text


def _curve(*values: float) -> list:
    from scaffold.metrics._models import CurvePoint

    return [CurvePoint(step=i + 1, value=v, smoothed=v, round_id=f"r{i}", trigger="periodic",
                       n=1) for i, v in enumerate(values)]


def test_paired_drift_is_last_minus_first_with_a_test_from_min_n() -> None:
    from scaffold.metrics import MetricsSettings
    from scaffold.metrics._drift import paired_drift

    settings = MetricsSettings(resamples=500)
    falling = [_curve(1.0, 0.5, 0.2 + i / 100) for i in range(8)]
    drift = paired_drift(falling + [_curve(0.7)], settings)  # one point: left out
    assert drift is not None and drift.n == 8
    assert drift.first_mean == 1.0 and drift.mean_change == pytest.approx(-0.765)
    assert drift.changes[0] == pytest.approx(-0.8)
    assert drift.interval == "bootstrap" and drift.high < 0
    assert drift.p_value is not None and drift.p_value < 0.01
    few = paired_drift(falling[:3], settings)
    assert few.interval == "too few" and few.p_value is None and few.low is None
    flat = paired_drift([_curve(0.5, 0.5)] * 6, settings)
    assert flat.mean_change == 0 and flat.p_value is None and flat.interval == "no spread"
    mixed = paired_drift([_curve(0.5, 0.6), _curve(0.5, 0.4)] * 3, settings)
    assert mixed.p_value is not None and mixed.p_value > 0.5
    assert paired_drift([_curve(0.3)], settings) is None
