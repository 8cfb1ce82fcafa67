"""Runs on the scripted model: probes never perturb, replay reproduces, resume loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from tests.helpers import events_of, make_spec, message_view, run_spec, spec_dict, write_config
from tests.helpers.killing import kill_then_resume

from scaffold.config import apply_overrides
from scaffold.runner import Run, prepare_replay_dir, run_dir_for


def score_view(run_dir: Path) -> list[tuple]:
    return [(e.agent_id, e.step, e.round_id, e.probe_id, e.scorer, e.value)
            for e in events_of(run_dir, "score")]


def test_run_writes_events_with_required_fields(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path))
    events = events_of(run_dir)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    types = {e.type for e in events}
    assert {"run_start", "message", "model_call", "memory", "probe", "score", "run_end",
            "context"} <= types
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["seed"] == 0
    assert "litellm" in manifest["versions"] and "langgraph" in manifest["versions"]
    memory = events_of(run_dir, "memory")
    assert all(m.kind == "summarize" and m.source_ids and m.tokens_after < m.tokens_before
               for m in memory)
    # every message id appears once in the transcript
    ids = [e.message_id for e in events_of(run_dir, "message")]
    assert len(ids) == len(set(ids)) == 24


def test_probes_around_every_summary(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path))
    events = events_of(run_dir)
    for i, e in enumerate(events):
        if e.type == "memory":
            before = [x for x in events[:i] if x.type == "probe"]
            after = [x for x in events[i:] if x.type == "probe"]
            assert before[-1].trigger == "before_memory" and after[0].trigger == "after_memory"


def test_probes_do_not_perturb_the_run(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    with_probes = run_spec(spec, tmp_path / "a")
    without = run_spec(apply_overrides(spec, no_probes=True), tmp_path / "b")
    assert message_view(with_probes) == message_view(without)
    assert not events_of(without, "probe")
    assert events_of(with_probes, "probe")
    memory = [(e.step, e.text, e.source_ids) for e in events_of(with_probes, "memory")]
    assert memory == [(e.step, e.text, e.source_ids) for e in events_of(without, "memory")]


def test_replay_reproduces_messages_and_scores(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    original = run_spec(spec)
    target = prepare_replay_dir(spec, original)
    replayed = run_spec(spec, target, replay_from=original)
    assert message_view(replayed) == message_view(original)
    assert score_view(replayed) == score_view(original)
    assert all(e.replayed for e in events_of(replayed, "model_call"))


def test_replay_miss_fails_loudly(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    original = run_spec(spec)
    longer = apply_overrides(spec, steps=spec.steps + 2)
    target = prepare_replay_dir(longer, original)
    result = __import__("asyncio").run(Run(longer, target, replay_from=original).execute())
    assert result.status == "failed" and "no recorded response" in (result.error or "")
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["replay_of"] == str(original)


@pytest.mark.parametrize(("change", "purpose"), [
    ({"probes": {"every": 3, "max_tokens": 40}}, "probe"),
    ({"judge": {"max_tokens": 99}}, "judge"),
])
def test_replay_fails_on_a_probe_or_judge_call_the_cassette_lacks(
        tmp_path: Path, change: dict, purpose: str) -> None:
    """Measurements are replayed as strictly as the agent: a changed probe or judge request
    fails the replay (it used to become a tracker error or an unscored answer, status done)."""
    recorded = {"probes": {"every": 3, "scorers": ["rules", "judge"]}, "judge": {}}
    original = run_spec(make_spec(tmp_path, steps=4, **recorded))
    changed = make_spec(tmp_path, steps=4,
                        **{k: {**v, **change.get(k, {})} for k, v in recorded.items()})
    target = prepare_replay_dir(changed, original)
    result = __import__("asyncio").run(Run(changed, target, replay_from=original).execute())
    assert result.status == "failed"
    assert f"no recorded response for this {purpose} request" in (result.error or "")
    assert json.loads((target / "manifest.json").read_text())["status"] == "failed"


def test_tracker_errors_are_counted_and_said(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from scaffold import runner
    from scaffold.cli import app
    from scaffold.trackers.base import Tracker

    class Failing(Tracker):
        name = "failing"

        async def on_step(self, agent: object, step: int) -> None:
            if step % 2:
                raise RuntimeError("lost a round")

    build = runner.build_trackers
    monkeypatch.setattr(runner, "build_trackers",
                        lambda spec, client=None, **kw: [*build(spec, client, **kw),
                                                         Failing()])
    config = write_config(tmp_path, spec_dict(steps=5, out=str(tmp_path / "runs")))
    result = CliRunner().invoke(app, ["run", str(config)])
    assert result.exit_code == 0, result.output
    run_dir = next((tmp_path / "runs" / "test-jfk").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["tracker_errors"] == 3
    assert len(events_of(run_dir, "tracker_error")) == 3
    assert "finished with 3 tracker error(s)" in " ".join(result.output.split())
    again = CliRunner().invoke(app, ["run", str(config)])
    assert again.exit_code == 0 and "already done" in again.output


def test_break_is_visible_in_scores(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path, model="scripted/break-at-7"))
    for scorer in ("rules", "break"):
        scores = [(e.step, e.value) for e in events_of(run_dir, "score")
                  if e.probe_id == "what" and e.scorer == scorer]
        assert scores and all(v == 1.0 for s, v in scores if s < 7)
        assert all(v is not None and v < 1.0 for s, v in scores if s >= 7)


def test_transient_errors_are_retried_and_recorded(tmp_path: Path) -> None:
    script = tmp_path / "flaky.yaml"
    script.write_text("fail_first: 2\n", encoding="utf-8")
    spec = make_spec(tmp_path, model=f"scripted/{script}", steps=2,
                     retry={"attempts": 4, "initial_wait_s": 0.0, "max_wait_s": 0.0})
    run_dir = run_spec(spec)
    retries = events_of(run_dir, "model_retry")
    calls = events_of(run_dir, "model_call")
    assert retries and all("RateLimitError" in r.error for r in retries)
    assert all(c.attempts == 3 for c in calls)


def test_model_that_stays_down_fails_the_run_cleanly(tmp_path: Path) -> None:
    script = tmp_path / "down.yaml"
    script.write_text("fail_first: 99\n", encoding="utf-8")
    spec = make_spec(tmp_path, model=f"scripted/{script}", steps=2,
                     retry={"attempts": 2, "initial_wait_s": 0.0, "max_wait_s": 0.0})
    import asyncio

    result = asyncio.run(Run(spec, run_dir_for(spec)).execute())
    assert result.status == "failed" and "after 2 attempts" in (result.error or "")
    manifest = json.loads((run_dir_for(spec) / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert events_of(run_dir_for(spec))[-1].type == "run_end"


def test_finished_run_is_skipped(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, steps=3)
    run_dir = run_spec(spec)
    size = (run_dir / "events.jsonl").stat().st_size
    import asyncio

    result = asyncio.run(Run(spec, run_dir).execute())
    assert result.skipped and (run_dir / "events.jsonl").stat().st_size == size


def test_failed_run_resumes_mid_step(tmp_path: Path) -> None:
    """A model outage mid-run: resuming later completes with the uninterrupted transcript."""
    good = make_spec(tmp_path, steps=8)
    reference = run_spec(good, tmp_path / "ref")
    # Same spec, but the model is unreachable from the start of step 5 on.
    flaky = tmp_path / "script.yaml"
    run_dir = tmp_path / "resumed"
    flaky.write_text("fail_first: 99\n", encoding="utf-8")
    import asyncio

    from scaffold.models import scripted

    calls = {"n": 0}
    original = scripted.scripted_reply

    def failing(script, messages, meta, max_tokens=None):  # type: ignore[no-untyped-def]
        if meta.get("step", 0) >= 5 and meta.get("purpose") == "agent":
            raise ConnectionError("model server went away")
        calls["n"] += 1
        return original(script, messages, meta, max_tokens)

    scripted.scripted_reply = failing
    try:
        spec = good.model_copy(update={"retry": good.retry.model_copy(
            update={"attempts": 1})})
        result = asyncio.run(Run(spec, run_dir).execute())
    finally:
        scripted.scripted_reply = original
    assert result.status == "failed"
    asyncio.run(Run(good, run_dir).execute())
    assert message_view(run_dir) == message_view(reference)
    assert score_view(run_dir) == score_view(reference)
    seqs = [e.seq for e in events_of(run_dir)]
    assert seqs == sorted(set(seqs))


@pytest.mark.parametrize("kill_after_lines", [40, 150, 400])
def test_kill_9_then_resume_matches_uninterrupted(tmp_path: Path, kill_after_lines: int) -> None:
    data = spec_dict(out=str(tmp_path / "runs"), steps=30)
    config = write_config(tmp_path, data)
    reference = run_spec(make_spec(tmp_path / "ref", steps=30))
    run_dir = kill_then_resume(config, tmp_path / "runs", kill_after_lines)
    assert message_view(run_dir) == message_view(reference)
    assert score_view(run_dir) == score_view(reference)
    seqs = [e.seq for e in events_of(run_dir)]
    assert seqs == list(range(1, len(seqs) + 1))
