"""Forking a run at step N under another memory condition."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scaffold.cli import app
from tests.helpers import events_of, make_spec, message_view, run_spec


def test_fork_keeps_history_and_switches_condition(tmp_path: Path) -> None:
    source = run_spec(make_spec(tmp_path, steps=10))
    out = tmp_path / "forks"
    result = CliRunner().invoke(app, ["fork", str(source), "--at-step", "5", "--set",
                                      "memory=window", "--out", str(out)])
    assert result.exit_code == 0, result.output
    target = next((out / "test-jfk").iterdir())
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["forked_from"]["step"] == 5
    assert manifest["spec"]["agents"][0]["memory"]["condition"] == "window"
    before = [m for m in message_view(source) if m[1] <= 5]
    assert [m for m in message_view(target) if m[1] <= 5] == before
    assert max(m[1] for m in message_view(target)) == 10
    after = [e for e in events_of(target, "memory") if e.step > 5]
    assert after and all(e.kind == "truncate" for e in after)
    seqs = [e.seq for e in events_of(target)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert {e.run_id for e in events_of(target)} == {target.name}


def test_fork_bad_step_and_bad_setting(tmp_path: Path) -> None:
    source = run_spec(make_spec(tmp_path, steps=3))
    late = CliRunner().invoke(app, ["fork", str(source), "--at-step", "9",
                                    "--out", str(tmp_path / "f")])
    assert late.exit_code == 1 and "completed steps" in late.output
    bad = CliRunner().invoke(app, ["fork", str(source), "--at-step", "2", "--set",
                                   "memory=nonsense", "--out", str(tmp_path / "f")])
    assert bad.exit_code == 2 and "nonsense" in bad.output


def test_fork_into_vector_indexes_history(tmp_path: Path) -> None:
    source = run_spec(make_spec(tmp_path, steps=8))
    out = tmp_path / "forks"
    result = CliRunner().invoke(app, ["fork", str(source), "--at-step", "6", "--set",
                                      "memory=vector", "--out", str(out)])
    assert result.exit_code == 0, result.output
    target = next((out / "test-jfk").iterdir())
    inserts = [e for e in events_of(target, "memory") if e.kind == "insert" and e.step == 6]
    indexed = {i for e in inserts for i in e.source_ids}
    history = {m[2] for m in message_view(source) if m[1] <= 6}
    assert history <= indexed
    retrieved = [e for e in events_of(target, "memory") if e.kind == "retrieve"]
    assert retrieved and all(e.step > 6 for e in retrieved)
