"""Re-scoring recorded answers and re-probing recorded contexts, without re-running the agent."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scaffold.cli import app
from tests.helpers import events_of, make_spec, run_spec, spec_dict, write_config


def test_rescore_appends_scores_and_keeps_old(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=6))
    before = events_of(run_dir)
    probes = [e for e in before if e.type == "probe"]
    result = CliRunner().invoke(app, ["rescore", str(run_dir), "--scorer", "rules"])
    assert result.exit_code == 0, result.output
    after = events_of(run_dir)
    assert after[: len(before)] == before
    new = [e for e in after[len(before):] if e.type == "score"]
    assert len(new) == len(probes) and all(e.rescore for e in new)
    old = {(e.round_id, e.probe_id, e.scorer): e.value for e in before if e.type == "score"}
    assert all(old[(e.round_id, e.probe_id, e.scorer)] == e.value for e in new)
    seqs = [e.seq for e in after]
    assert seqs == list(range(1, len(seqs) + 1))


def test_reprobe_uses_recorded_contexts(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=6))
    calls_before = len(events_of(run_dir, "model_call"))
    data = spec_dict(out=str(tmp_path / "runs"), steps=6)
    data["personas"]["jfk"]["probes"].append(
        {"id": "wife", "question": "What is your wife's name?",
         "expect": {"require_any": ["Jacqueline", "Jackie"]}})
    config = write_config(tmp_path, data)
    result = CliRunner().invoke(app, ["rescore", str(run_dir), "--reprobe", "--config",
                                      str(config)])
    assert result.exit_code == 0, result.output
    reprobes = [e for e in events_of(run_dir, "probe") if e.trigger == "reprobe"]
    assert {e.probe_id for e in reprobes} >= {"who", "year", "what", "wife"}
    calls = events_of(run_dir, "model_call")[calls_before:]
    # the persona's old questions on old contexts are served from the cassette
    assert any(c.replayed for c in calls) and any(not c.replayed for c in calls)
    again = CliRunner().invoke(app, ["rescore", str(run_dir), "--reprobe", "--config",
                                     str(config)])
    assert again.exit_code == 0
    later = events_of(run_dir, "model_call")[calls_before + len(calls):]
    assert later and all(c.replayed for c in later)


def test_rescore_not_a_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["rescore", str(tmp_path)])
    assert result.exit_code == 1 and "not a scaffold run" in result.output
