"""`scaffold export --inspect`: Inspect AI logs that Inspect's own reader loads back."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from tests.helpers import events_of, make_spec, run_spec

inspect_log = pytest.importorskip("inspect_ai.log")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("inspect")
    spec = make_spec(tmp, steps=8, model="scripted/break-at-5")
    return run_spec(spec)


def test_export_writes_an_eval_log_with_the_transcript_and_scores(run_dir: Path) -> None:
    result = CliRunner().invoke(app, ["export", str(run_dir), "--inspect"])
    assert result.exit_code == 0, result.output
    log = inspect_log.read_eval_log(str(run_dir / f"{run_dir.name}.eval"),
                                    resolve_attachments=True)
    assert log.status == "success"
    assert log.eval.model == "scripted/break-at-5"
    [sample] = log.samples
    assert sample.id == "jfk"
    messages = [e for e in events_of(run_dir, "message")]
    transcript = [m for m in sample.messages if m.role != "system"]
    assert [(m.role, m.text) for m in transcript] == [(m.role, m.content) for m in messages]
    replies = [s.value for s in events_of(run_dir, "score")
               if s.target == "message" and s.scorer == "break" and s.value is not None]
    score = sample.scores["break/message"]
    assert score.value["last"] == replies[-1] == 0.0  # the scripted model breaks at step 5
    assert score.value["mean"] == pytest.approx(sum(replies) / len(replies))


def test_memory_operations_and_probe_answers_are_sample_events(run_dir: Path) -> None:
    CliRunner().invoke(app, ["export", str(run_dir), "--inspect"])
    log = inspect_log.read_eval_log(str(run_dir / f"{run_dir.name}.eval"),
                                    resolve_attachments=True)
    events = log.samples[0].events
    memory = [e for e in events if e.event == "info" and e.source == "scaffold/memory"]
    probes = [e for e in events if e.event == "info" and e.source == "scaffold/probe"]
    assert [m.data["kind"] for m in memory] == [m.kind for m in events_of(run_dir, "memory")]
    assert [p.data["answer"] for p in probes] == [p.answer for p in events_of(run_dir, "probe")]
    assert any(e.event == "score" and e.scorer == "rules" for e in events)


def test_export_without_a_format_is_an_error(run_dir: Path) -> None:
    result = CliRunner().invoke(app, ["export", str(run_dir)])
    assert result.exit_code == 2
    assert "--inspect" in result.output
