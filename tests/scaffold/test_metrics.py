"""Identity metrics against known ground truth: scripted breaks, hand-made logs and examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scaffold import registry
from scaffold.events import Event, MemoryEvent, ProbeEvent, RunStart, ScoreEvent
from scaffold.metrics import (
    AgentMetrics,
    CurvePoint,
    HalfLife,
    MetricsSettings,
    ReportMetrics,
    RunLog,
    answer_scores,
    cohen_kappa,
    compute_metrics,
    find_breaks,
    half_life,
    mean_curve,
    run_metrics,
    scorer_agreement,
    smooth,
    survival_table,
)
from scaffold.trackers.scoring import IdentityScore
from tests.helpers import events_of, make_spec, run_spec

PERSONA_WORDS = "persona-words"


class PersonaWords:
    """Test scorer: 1 when a text names Kennedy or 1962, else 0 (scores memory text too)."""

    name = PERSONA_WORDS
    version = "1"

    async def score(self, answer: str, probe: Any, persona: Any,
                    model_input: Any = None) -> IdentityScore:
        hit = "Kennedy" in answer or "1962" in answer
        return IdentityScore(value=1.0 if hit else 0.0, scorer=self.name)


def _make_persona_words(ctx: Any = None) -> PersonaWords:
    return PersonaWords()


def use_persona_words() -> str:
    """Register the test scorer (idempotent) and return its name."""
    registry.scorer(PERSONA_WORDS)(_make_persona_words)
    return PERSONA_WORDS


def scripted_run(tmp: Path, model: str, every: int, steps: int = 12, seed: int = 0,
                 scorers: tuple[str, ...] = ("rules",)) -> Path:
    """Run a scripted JFK experiment; returns its run directory."""
    return run_spec(make_spec(tmp, model=model, steps=steps, seed=seed,
                              probes={"every": every, "scorers": list(scorers)}))


def only_agent(path: Path) -> AgentMetrics:
    metrics = compute_metrics(path)
    assert len(metrics.runs) == 1 and len(metrics.runs[0].agents) == 1
    return metrics.runs[0].agents[0]


@pytest.fixture(scope="module")
def words_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """break-at-7, probes every 2, scored by rules and the persona-words scorer."""
    return scripted_run(tmp_path_factory.mktemp("words"), "scripted/break-at-7", 2,
                        scorers=("rules", use_persona_words()))


@pytest.mark.parametrize(("n", "every"), [(7, 2), (8, 3)])
def test_break_detected_within_one_probe_interval(tmp_path: Path, n: int, every: int) -> None:
    agent = only_agent(scripted_run(tmp_path, f"scripted/break-at-{n}", every, steps=13))
    assert agent.breaks.scorer == "rules"
    assert agent.breaks.break_step is not None
    assert n <= agent.breaks.break_step <= n + every
    assert agent.breaks.recovery_step is None and agent.breaks.steps_to_recover is None
    hl = agent.scorers["rules"].half_life
    assert not hl.censored and hl.initial == 1.0 and hl.threshold == 0.5
    assert hl.step is not None and abs(hl.step - agent.breaks.break_step) <= every


def test_never_breaking_agent_is_censored(tmp_path: Path) -> None:
    agent = only_agent(scripted_run(tmp_path, "scripted/default", 3, steps=10))
    hl = agent.scorers["rules"].half_life
    assert hl.censored and hl.step is None and hl.observed_until == 10
    assert agent.breaks.break_step is None and agent.breaks.episodes == []
    assert all(p.value == 1.0 for p in agent.scorers["rules"].curve)


def test_event_deltas_for_summarize_events(words_run: Path) -> None:
    agent = only_agent(words_run)
    summaries = [m for m in agent.memory if m.kind == "summarize"]
    deltas = agent.scorers["rules"].event_deltas
    assert summaries and [d.memory_seq for d in deltas] == [m.seq for m in summaries]
    for d in deltas:
        assert d.before_round == f"jfk-s{d.step}-before_memory"
        assert d.after_round == f"jfk-s{d.step}-after_memory"
        # the scripted model breaks by step, not by memory: no summary moves the score
        assert d.delta == 0.0
    by_kind = {k.kind: k for k in agent.scorers["rules"].delta_by_kind}
    assert by_kind["summarize"].n == len(deltas) and by_kind["summarize"].mean == 0.0


def test_memory_text_scores_follow_the_persona(words_run: Path) -> None:
    agent = only_agent(words_run)
    texts = [m for m in agent.memory if m.kind == "summarize" and m.status == "ok"]
    assert any(m.step < 7 for m in texts) and any(m.step >= 7 for m in texts)
    for m in texts:
        value = 1.0 if m.step < 7 else 0.0
        assert m.scores == {PERSONA_WORDS: value, "index": value}


def test_scorer_agreement_on_a_run(words_run: Path) -> None:
    run = compute_metrics(words_run).runs[0]
    rounds = len(run.agents[0].scorers["rules"].curve)
    [pair] = run.agreement
    assert (pair.scorer_a, pair.scorer_b) == ("rules", PERSONA_WORDS)
    samples = len({e.sample for e in events_of(words_run, "probe")})
    assert pair.n == 3 * rounds * samples  # the three persona probes; generic: no rules
    assert pair.agreement == 1.0 and pair.kappa == 1.0


def test_groups_split_by_seed_and_spec_path_and_agents_filter(tmp_path: Path) -> None:
    for seed in (0, 1):
        scripted_run(tmp_path, "scripted/break-at-7", 2, steps=10, seed=seed)
    runs = tmp_path / "runs"
    by_seed = compute_metrics(runs, MetricsSettings(resamples=200, group_by=["condition", "seed"]))
    assert [c.condition for c in by_seed.conditions] == ["summary · seed 0", "summary · seed 1"]
    assert all(len(c.agents) == 1 for c in by_seed.conditions)
    by_path = compute_metrics(runs, MetricsSettings(resamples=200,
                                                    group_by=["agents.0.memory.condition"]))
    assert [c.condition for c in by_path.conditions] == ["agents.0.memory.condition=summary"]
    assert len(by_path.conditions[0].agents) == 2
    nobody = compute_metrics(runs, MetricsSettings(resamples=200, agents=["someone-else"]))
    assert nobody.conditions == [] and all(r.agents == [] for r in nobody.runs)


def test_group_label_prefers_the_sweep_points_label() -> None:
    from scaffold.metrics._groups import group_label

    spec = {"agents": [{"id": "a", "persona": "jfk"}], "task": {"user": {"persona": "coder"}},
            "sweep_point": {"domain": "coding"}}
    keys = ["condition", "domain", "persona", "task.user.persona", "agents.0.missing"]
    assert group_label(spec, "a", "summary", 3, keys) == (
        "summary · domain=coding · jfk · task.user.persona=coder · agents.0.missing=None")


def test_condition_aggregates_seeds(tmp_path: Path) -> None:
    for seed in (0, 1):
        scripted_run(tmp_path, "scripted/break-at-7", 2, steps=10, seed=seed)
    metrics = compute_metrics(tmp_path / "runs", MetricsSettings(resamples=200))
    [condition] = metrics.conditions
    assert (condition.condition, condition.model) == ("summary", "scripted/break-at-7")
    assert len(condition.agents) == 2 and condition.broke == 2
    rules = condition.scorers["rules"]
    assert rules.n_agents == 2 and all(p.n == 2 for p in rules.curve)
    assert condition.too_few and condition.seeds == [0, 1]
    # two seeds are too few for an interval: none is given, the two values are
    assert all(p.low is None and p.high is None and p.interval == "too few"
               for p in rules.curve)
    assert all(len(p.values) == 2 and p.mean == pytest.approx(sum(p.values) / 2)
               for p in rules.curve)
    assert [o.seed for o in rules.per_agent] == [0, 1]
    assert all(o.outcome == "halved" for o in rules.per_agent)
    # both break at 7; smoothing over 5 steps may show it up to 2 steps later
    assert rules.survival[-1].survival == 0.0 and 7 <= rules.median_half_life <= 9
    again = ReportMetrics.model_validate_json(metrics.model_dump_json())
    assert again == metrics


def test_bootstrap_interval_contains_the_mean() -> None:
    curves = [[CurvePoint(step=s, value=v, smoothed=v, round_id=f"r{s}", trigger="periodic",
                          n=1) for s in (1, 2)] for v in (0.1, 0.4, 0.5, 0.9, 1.0)]
    settings = MetricsSettings(resamples=500, seed=3)
    points = mean_curve(curves, settings)
    assert [p.n for p in points] == [5, 5]
    for p in points:
        assert p.mean == pytest.approx(0.58)
        assert p.low < p.mean < p.high and p.low >= 0.0 and p.high <= 1.0
    assert mean_curve(curves, settings) == points  # seeded


def test_kappa_on_a_hand_made_example() -> None:
    # 50 items: 20 both yes, 5 only A yes, 10 only B yes, 15 both no.
    a = [True] * 20 + [True] * 5 + [False] * 10 + [False] * 15
    b = [True] * 20 + [False] * 5 + [True] * 10 + [False] * 15
    # p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = 0.2 / 0.5
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa([True, True], [True, True]) is None
    assert cohen_kappa([], []) is None


def test_survival_table_with_censoring() -> None:
    lives = [HalfLife(step=3, censored=False, observed_until=10),
             HalfLife(step=5, censored=False, observed_until=10),
             HalfLife(censored=True, observed_until=4), HalfLife(censored=True, observed_until=10)]
    rows = [(r.step, r.at_risk, r.events, r.censored, r.survival) for r in survival_table(lives)]
    assert rows == [(3, 4, 1, 0, 0.75), (4, 3, 0, 1, 0.75), (5, 2, 1, 0, 0.375),
                    (10, 1, 0, 1, 0.375)]


def test_smoothing_and_half_life() -> None:
    assert smooth([1.0, 1.0, 0.0, 0.0], 3) == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0])
    assert smooth([1.0, 0.0], 1) == [1.0, 0.0]
    curve = [CurvePoint(step=s, value=0.0, smoothed=0.0, round_id="r", trigger="periodic", n=1)
             for s in (1, 2)]
    never = half_life(curve)  # nothing to halve from 0: never held, not a survivor
    assert never.never_held and not never.censored and never.step is None


class Log:
    """Builds a hand-made event log of one agent."""

    def __init__(self) -> None:
        self.events: list[Event] = [RunStart(seq=1, run_id="r", step=0, ts=0.0, seed=0, spec={
            "model": "m", "agents": [{"id": "a", "memory": {"condition": "summary"}}]})]

    def _add(self, cls: type[Event], step: int, **fields: Any) -> Event:
        event = cls(seq=len(self.events) + 1, run_id="r", agent_id="a", step=step, ts=0.0,
                    **fields)
        self.events.append(event)
        return event

    def round(self, step: int, trigger: str, scores: dict[str, float], suffix: str = "") -> str:
        round_id = f"a-s{step}-{trigger}{suffix}"
        self._add(ProbeEvent, step, round_id=round_id, probe_id="p", question="q?",
                  answer="<b>answer</b>", trigger=trigger, request_hash="h")
        for scorer, value in scores.items():
            self._add(ScoreEvent, step, round_id=round_id, probe_id="p", scorer=scorer,
                      value=value)
        return round_id

    def memory(self, step: int, kind: str) -> int:
        return self._add(MemoryEvent, step, kind=kind, backend="b", text="t").seq


def test_deltas_pair_rounds_first_in_first_out() -> None:
    log = Log()
    log.round(4, "periodic", {"rules": 1.0})
    b1 = log.round(5, "before_memory", {"rules": 1.0})
    b2 = log.round(5, "before_memory", {"rules": 0.8}, suffix="-1")
    log.memory(5, "insert")  # not probed: gets no delta, takes no round
    m1 = log.memory(5, "summarize")
    a1 = log.round(5, "after_memory", {"rules": 0.5})
    m2 = log.memory(5, "note")
    a2 = log.round(5, "after_memory", {"rules": 0.6}, suffix="-1")
    agent = run_metrics(RunLog(Path("."), log.events), MetricsSettings()).agents[0]
    deltas = [(d.memory_seq, d.before_round, d.after_round, d.delta)
              for d in agent.scorers["rules"].event_deltas]
    assert deltas == [(m1, b1, a1, pytest.approx(-0.5)), (m2, b2, a2, pytest.approx(-0.2))]
    by_kind = {k.kind: (k.mean, k.n) for k in agent.scorers["rules"].delta_by_kind}
    assert by_kind == {"note": (pytest.approx(-0.2), 1), "summarize": (pytest.approx(-0.5), 1)}


def test_break_scorer_preferred_and_recovery_found() -> None:
    log = Log()
    for step, brk in ((2, 1.0), (4, 0.0), (6, 0.2), (8, 1.0), (10, 0.0)):
        log.round(step, "periodic", {"rules": 1.0, "break": brk})
    agent = run_metrics(RunLog(Path("."), log.events), MetricsSettings()).agents[0]
    b = agent.breaks
    assert (b.scorer, b.break_step, b.recovery_step, b.steps_to_recover) == ("break", 4, 8, 4)
    assert [(e.break_step, e.recovery_step) for e in b.episodes] == [(4, 8), (10, None)]
    assert find_breaks({}).scorer is None


def test_samples_matched_and_rescores_replace() -> None:
    log = Log()
    log._add(ProbeEvent, 2, round_id="r1", probe_id="p", question="q", answer="x", sample=0,
             trigger="periodic", request_hash="h")
    log._add(ScoreEvent, 2, round_id="r1", probe_id="p", scorer="rules", value=1.0)
    log._add(ProbeEvent, 2, round_id="r1", probe_id="p", question="q", answer="y", sample=1,
             trigger="periodic", request_hash="h")
    log._add(ScoreEvent, 2, round_id="r1", probe_id="p", scorer="rules", value=0.0)
    log._add(ScoreEvent, 2, round_id="r1", probe_id="p", scorer="rules", value=0.7)  # re-score
    log._add(ScoreEvent, 2, round_id="r1", probe_id="p", scorer="judge", value=1.0)
    log._add(ScoreEvent, 2, round_id="r1", probe_id="p", scorer="judge", value=1.0)
    scores = {(s.scorer, s.sample): s.value for s in answer_scores(log.events)}
    assert scores == {("rules", 0): 0.7, ("rules", 1): 0.0, ("judge", 0): 1.0,
                      ("judge", 1): 1.0}
    [pair] = scorer_agreement(answer_scores(log.events))
    assert pair.n == 2 and pair.agreement == 0.5
