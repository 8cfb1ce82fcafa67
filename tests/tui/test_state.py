"""Following event logs and the dashboard built from them: torn lines, resets, bounds, scores."""

from __future__ import annotations

import logging
import queue
import sys
from pathlib import Path

import pytest

from scaffold.events import (
    ControlEvent,
    MemoryEvent,
    MessageEvent,
    ProbeEvent,
    RunEnd,
    ScoreEvent,
)
from scaffold.metrics import MetricsSettings, compute_metrics
from scaffold.recorder import read_events
from tests.tui.conftest import SyntheticRun
from tui import Dashboard, EventTail, FeedBatch, Limits, RunFollower
from tui._capture import LogCapture
from tui.state import SMOOTH_STEPS


def test_tail_reads_complete_lines_only_and_restarts_when_the_log_shrinks(
        synthetic: SyntheticRun) -> None:
    log = synthetic.run_dir / "events.jsonl"
    tail = EventTail(log)
    assert [e.type for e in tail.poll().events] == ["run_start"]
    line = synthetic.emit(MessageEvent, message_id="m1", role="user", content="hi",
                          author="user").model_dump_json()
    log.write_text(log.read_text().removesuffix(line + "\n") + line[:20])  # torn mid-write
    assert tail.poll().events == []
    with log.open("a") as fh:
        fh.write(line[20:] + "\n")
    assert [e.type for e in tail.poll().events] == ["message"]

    log.write_text(log.read_text().splitlines(keepends=True)[0])  # a resume cut the log
    batch = tail.poll()
    assert batch.reset and [e.type for e in batch.events] == ["run_start"]

    for i in range(2):
        synthetic.emit(MessageEvent, message_id=f"a{i}", role="user", content="x",
                       author="user")
    assert [e.seq for e in tail.poll().events] == [3, 4]
    log.write_text(log.read_text().splitlines(keepends=True)[0])  # cut again, and regrown
    synthetic.seq = 1  # past the old end before the next poll
    for i in range(4):
        synthetic.emit(MessageEvent, message_id=f"b{i}", role="user", content="y",
                       author="user")
    batch = tail.poll()
    assert batch.reset and [e.seq for e in batch.events] == [1, 2, 3, 4, 5]
    assert tail.poll() == FeedBatch(synthetic.run_dir)


def test_tail_does_not_reopen_an_untouched_log(synthetic: SyntheticRun,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    tail = EventTail(synthetic.run_dir / "events.jsonl")
    assert [e.type for e in tail.poll().events] == ["run_start"]
    reads: list[int] = []
    original = EventTail._read
    monkeypatch.setattr(EventTail, "_read", lambda self, size: reads.append(size)
                        or original(self, size))
    assert tail.poll().events == [] and tail.poll().events == [] and reads == []
    synthetic.emit(MessageEvent, message_id="m1", role="user", content="hi", author="user")
    assert [e.type for e in tail.poll().events] == ["message"] and len(reads) == 1


def test_follower_finds_runs_that_appear_later(tmp_path: Path) -> None:
    experiment = tmp_path / "runs" / "exp"
    follower = RunFollower(root=experiment)
    assert follower.poll() == []
    SyntheticRun(experiment / "run-a")
    SyntheticRun(experiment / "run-b")
    follower.scan()
    assert sorted(b.run_dir.name for b in follower.poll()) == ["run-a", "run-b"]
    assert [b.run_dir.name for b in RunFollower(root=experiment / "run-a").poll()] == ["run-a"]


def _flood(run: SyntheticRun, steps: int) -> None:
    for step in range(1, steps + 1):
        for role in ("user", "assistant"):
            run.emit(MessageEvent, step=step, agent_id="jfk", message_id=f"{step}{role}",
                     role=role, content="words " * 20, author=role)
        run.emit(MemoryEvent, step=step, agent_id="jfk", kind="summarize", backend="summary",
                 text=f"summary {step}")
        run.emit(ProbeEvent, step=step, agent_id="jfk", round_id=f"r{step}", probe_id="who",
                 question="Who are you?", answer="JFK", trigger="periodic", request_hash="h")
        run.emit(ScoreEvent, step=step, agent_id="jfk", round_id=f"r{step}", probe_id="who",
                 scorer="rules", value=1.0)


def test_buffers_stay_bounded_however_many_events(synthetic: SyntheticRun) -> None:
    _flood(synthetic, 300)
    limits = Limits(transcript=10, probes=5, rounds=20, markers=30, log=40, memories=2)
    board = Dashboard(limits)
    board.feed(FeedBatch(synthetic.run_dir, read_events(synthetic.run_dir / "events.jsonl")))
    agent = board.agents[f"{synthetic.run_id}/jfk"]
    assert agent.transcript.total == 600 and len(agent.transcript.items) == 10
    assert len(agent.probes.items) == 5
    assert len(agent.rounds) == 20 and len(agent.scores) == 20
    assert len(agent.markers) == 30
    assert len(board.log.items) == 40 and board.log.total == 301
    assert agent.summary == "summary 300"
    assert [p.step for p in agent.curves().by_scorer["rules"]] == list(range(281, 301))
    assert [m.content for m in agent.transcript.since(595)] == ["words " * 20] * 5


def test_scores_and_breaks_match_the_report_metrics(finished_run: Path) -> None:
    board = Dashboard()
    board.feed(FeedBatch(finished_run, read_events(finished_run / "events.jsonl")))
    report = compute_metrics(finished_run, MetricsSettings(smooth_steps=SMOOTH_STEPS))
    [run] = report.runs
    assert board.runs[finished_run].status == run.status == "done"
    for metrics in run.agents:
        curves = board.agents[f"{run.run_id}/{metrics.agent_id}"].curves()
        assert set(curves.by_scorer) == set(metrics.scorers)
        for scorer, scored in metrics.scorers.items():
            assert curves.by_scorer[scorer] == scored.curve
        assert curves.breaks == metrics.breaks
        assert "index" in curves.replies and set(curves.replies) == set(metrics.replies)
        for scorer, scored in metrics.replies.items():
            assert curves.replies[scorer] == scored.curve
        assert curves.reply_breaks == metrics.reply_breaks
    broken = board.agents[f"{run.run_id}/jfk-b"].curves()
    assert broken.breaks.break_step == 8 and broken.latest("break") == 0.0
    assert broken.reply_breaks.break_step == 8 and broken.latest_reply("break") == 0.0


def test_a_rescore_replaces_the_score_as_in_the_report(synthetic: SyntheticRun) -> None:
    for step in (1, 2):
        synthetic.emit(ProbeEvent, step=step, agent_id="jfk", round_id=f"r{step}",
                       probe_id="who", question="Who are you?", answer="JFK",
                       trigger="periodic", request_hash="h")
        synthetic.emit(ScoreEvent, step=step, agent_id="jfk", round_id=f"r{step}",
                       probe_id="who", scorer="rules", value=1.0)
    synthetic.emit(ScoreEvent, step=2, agent_id="jfk", round_id="r2", probe_id="who",
                   scorer="rules", scorer_version="2", value=0.0, rescore="pass-1")
    board = Dashboard()
    board.feed(FeedBatch(synthetic.run_dir, read_events(synthetic.run_dir / "events.jsonl")))
    report = compute_metrics(synthetic.run_dir, MetricsSettings(smooth_steps=SMOOTH_STEPS))
    [metrics] = [a for a in report.runs[0].agents if a.agent_id == "jfk"]
    curves = board.agents[f"{synthetic.run_id}/jfk"].curves()
    assert curves.by_scorer["rules"] == metrics.scorers["rules"].curve
    assert [p.value for p in curves.by_scorer["rules"]] == [1.0, 0.0]


def test_status_follows_control_and_end_events(synthetic: SyntheticRun) -> None:
    board = Dashboard()
    events = [synthetic.emit(ControlEvent, action="pause"),
              synthetic.emit(ControlEvent, action="resume"),
              synthetic.emit(ControlEvent, action="pause"),
              synthetic.emit(RunEnd, status="failed", reason="boom")]
    run_dir = synthetic.run_dir
    board.feed(FeedBatch(run_dir, read_events(run_dir / "events.jsonl")[:1]))
    run = board.runs[run_dir]
    seen = []
    for event in events:
        board.apply(run_dir, event)
        seen.append(run.display_status)
    assert seen == ["paused", "running", "paused", "failed"]
    last = board.log.items[-1]
    assert (last.run_id, last.kind, last.text) == ("synthetic-run", "failed", "boom")
    board.feed(FeedBatch(run_dir, [], reset=True))
    assert board.runs == {} and board.agents == {}


def test_tail_skips_a_line_longer_than_a_chunk(synthetic: SyntheticRun) -> None:
    log = synthetic.run_dir / "events.jsonl"
    tail = EventTail(log, chunk_bytes=4096)
    synthetic.emit(MessageEvent, message_id="big", role="user", content="x" * 10_000,
                   author="user")
    synthetic.emit(MessageEvent, message_id="small", role="user", content="y", author="user")
    seen = [e for _ in range(6) for e in tail.poll().events]
    assert [e.type for e in seen] == ["run_start", "message"]
    assert seen[-1].message_id == "small" and not tail.behind


def test_engine_log_records_go_to_the_event_log_not_the_terminal() -> None:
    root = logging.getLogger()
    terminal = logging.StreamHandler(sys.stderr)
    root.addHandler(terminal)
    inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
    capture = LogCapture(inbox)
    try:
        capture.start()
        assert terminal not in root.handlers
        logging.getLogger("scaffold.models").warning("retrying %s", "openai/x")
        line = inbox.get_nowait()
        assert (line.kind, line.text) == ("warning", "scaffold.models: retrying openai/x")
    finally:
        capture.stop()
        root.removeHandler(terminal)
    assert capture not in root.handlers
