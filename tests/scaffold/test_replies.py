"""Reply scoring: every assistant reply is scored, shows in metrics, the table and rescore."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from scaffold import registry
from scaffold.assembly import build_trackers
from scaffold.metrics import compute_metrics
from scaffold.rescore import Rescorer
from scaffold.run_summary import summarize_run, summary_rows
from scaffold.trackers.replies import ReplyTracker
from scaffold.trackers.scoring import IdentityScore, needs_probe
from tests.helpers import events_of, make_spec, run_spec

BREAK_AT = 7


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scripted/break-at-7 over 12 steps, probed every 5 steps and not around memory events
    (so the probes see the break only at step 10)."""
    spec = make_spec(tmp_path_factory.mktemp("replies"), model=f"scripted/break-at-{BREAK_AT}",
                     steps=12, probes={"every": 5, "scorers": ["rules", "break"],
                                       "around_memory_events": False,
                                       "temperature": 0.0, "samples": 1})
    return run_spec(spec)


def test_every_reply_is_scored_by_each_scorer_that_needs_no_probe(broken_run: Path) -> None:
    replies = [e for e in events_of(broken_run, "message") if e.role == "assistant"]
    scores = [e for e in events_of(broken_run, "score") if e.target == "message"]
    assert len(replies) == 12
    assert {(s.message_id, s.scorer) for s in scores} == {
        (m.message_id, "break") for m in replies}  # rules needs a probe: it scores no reply
    by_id = {s.message_id: s for s in scores}
    for m in replies:
        assert by_id[m.message_id].step == m.step
        assert by_id[m.message_id].value == (0.0 if m.step >= BREAK_AT else 1.0)
    assert not any(e.purpose == "judge" for e in events_of(broken_run, "model_call"))


def test_a_scripted_break_shows_as_a_reply_break_at_its_step(broken_run: Path) -> None:
    [agent] = compute_metrics(broken_run).runs[0].agents
    assert agent.reply_breaks.scorer == "break"
    assert agent.reply_breaks.break_step == BREAK_AT  # every reply is scored: exact
    assert agent.reply_breaks.recovery_step is None
    assert agent.breaks.break_step == 10  # the first probe round after the break
    curve = agent.replies["break"].curve
    assert [p.step for p in curve] == list(range(1, 13))
    assert all(p.trigger == "reply" and p.n == 1 for p in curve)
    index = agent.replies["index"]
    assert [p.value for p in index.curve] == [1.0] * (BREAK_AT - 1) + [0.0] * (13 - BREAK_AT)
    assert not index.half_life.censored and index.half_life.step == BREAK_AT


def test_end_of_run_table_names_scorer_and_target(broken_run: Path) -> None:
    rows = dict(summary_rows(summarize_run(events_of(broken_run))))
    assert rows["replies scored"] == ["12"]
    assert rows["break · replies first/last/min, < 0.5 at"] == [
        f"1.00 / 0.00 / 0.00, step {BREAK_AT}"]
    assert "index · replies first/last/min, < 0.5 at" in rows
    assert "rules · probes first/last/min, < 0.5 at" in rows
    assert "rules · replies first/last/min, < 0.5 at" not in rows
    assert not any("identity score" in label for label in rows)
    labels = list(rows)
    assert labels.index("index · replies first/last/min, < 0.5 at") < labels.index(
        "break · replies first/last/min, < 0.5 at")


def test_rules_need_a_probe_and_the_others_do_not() -> None:
    scorers = {name: registry.get("scorer", name)(None)
               for name in ("rules", "break", "embedding", "leakage", "judge")}
    assert [n for n, s in scorers.items() if needs_probe(s)] == ["rules"]
    assert [s.name for s in ReplyTracker(list(scorers.values())).scorers] == [
        "break", "embedding", "leakage", "judge"]


def test_reply_scoring_can_be_turned_off(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, probes={"scorers": ["break"], "score_replies": False,
                                       "temperature": 0.0, "samples": 1})
    assert [t.name for t in build_trackers(spec)] == ["probes"]
    on = make_spec(tmp_path, probes={"scorers": ["break"], "temperature": 0.0, "samples": 1})
    assert [t.name for t in build_trackers(on)] == ["probes", "replies"]


def test_rescore_scores_recorded_replies(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, model=f"scripted/break-at-{BREAK_AT}", steps=9,
                     probes={"every": 3, "scorers": ["rules"], "score_replies": False,
                             "temperature": 0.0, "samples": 1})
    run_dir = run_spec(spec)
    assert not [e for e in events_of(run_dir, "score") if e.target == "message"]
    assert compute_metrics(run_dir).runs[0].agents[0].replies == {}
    asyncio.run(Rescorer(run_dir, ["break"]).run())
    scores = [e for e in events_of(run_dir, "score") if e.target == "message"]
    assert len(scores) == 9 and all(s.rescore and s.scorer == "break" for s in scores)
    [agent] = compute_metrics(run_dir).runs[0].agents
    assert agent.reply_breaks.break_step == BREAK_AT


def test_report_json_carries_the_index_definition(broken_run: Path) -> None:
    from typer.testing import CliRunner

    from scaffold.cli import app

    result = CliRunner().invoke(app, ["report", str(broken_run), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "veto" in data["index_definition"] and "mean" in data["index_definition"]
    agent = data["runs"][0]["agents"][0]
    assert {"index", "break"} <= set(agent["replies"]) and "index" in agent["scorers"]
    [condition] = data["conditions"]
    assert condition["too_few"] and "index" in condition["replies"]


class QuestionEcho:
    """Test scorer: explains each score with the question it was given."""

    name = "question-echo"
    version = "1"

    async def score(self, answer: str, probe: Any, persona: Any,
                    model_input: Any = None) -> IdentityScore:
        return IdentityScore(value=1.0, scorer=self.name,
                             explanation=probe.question if probe else "<none>")


def test_a_reply_is_scored_as_the_answer_to_the_last_user_message(tmp_path: Path) -> None:
    registry.scorer(QuestionEcho.name)(lambda ctx=None: QuestionEcho())
    spec = make_spec(tmp_path, steps=4, probes={"every": 10, "scorers": [QuestionEcho.name],
                                                "temperature": 0.0, "samples": 1})
    run_dir = run_spec(spec)
    last_user: dict[int, str] = {}
    for m in events_of(run_dir, "message"):
        if m.role == "user":
            last_user[m.step] = m.content
    scores = [e for e in events_of(run_dir, "score") if e.target == "message"]
    assert len(scores) == 4
    assert [s.explanation for s in scores] == [last_user[s.step] for s in scores]
    asyncio.run(Rescorer(run_dir, [QuestionEcho.name]).run())  # rescore asks the same
    again = [e for e in events_of(run_dir, "score") if e.target == "message" and e.rescore]
    assert [s.explanation for s in again] == [s.explanation for s in scores]
