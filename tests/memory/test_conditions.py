"""Named memory conditions, run end to end on the scripted model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.config import CONDITIONS, apply_overrides
from scaffold.errors import ConfigError
from scaffold.models.scripted import Script, register_script
from tests.helpers import events_of, make_spec, run_spec, spec_dict, write_config


def with_memory(tmp_path: Path, condition: str, **memory: object):
    data = spec_dict(out=str(tmp_path / "runs"))
    data["agents"][0]["memory"] = {"condition": condition, "budget_tokens": 400, **memory}
    return make_spec(tmp_path, agents=data["agents"])


def test_every_condition_expands_and_is_recorded(tmp_path: Path) -> None:
    for condition, backends in CONDITIONS.items():
        spec = with_memory(tmp_path, condition)
        assert spec.agents[0].memory.plan() == list(backends)


def test_unknown_condition_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        with_memory(tmp_path, "holographic")
    assert "agents[0].memory" in info.value.problems[0]
    assert "holographic" in info.value.problems[0]


def test_core_read_only_renders_persona_block(tmp_path: Path) -> None:
    run_dir = run_spec(with_memory(tmp_path, "core-ro"))
    contexts = events_of(run_dir, "context")
    assert contexts and all(c.sections["core"] > 0 and c.sections["persona"] == 0
                            for c in contexts)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    plan = manifest["memory_plans"]["jfk"]
    assert [p["backend"] for p in plan] == ["core", "window"]
    assert plan[0]["settings"]["read_only"] is True


def test_core_self_edit_through_tools_is_recorded(tmp_path: Path) -> None:
    register_script("core-editor", Script(tool_calls={
        2: [{"name": "core_memory_append",
             "arguments": {"block": "human", "content": "The user sails on weekends."}}],
        3: [{"name": "core_memory_replace",
             "arguments": {"block": "persona", "old": "1962", "new": "1963"}},
            {"name": "core_memory_replace",
             "arguments": {"block": "persona", "old": "not there", "new": "x"}}],
    }))
    spec = with_memory(tmp_path, "core-rw")
    run_dir = run_spec(apply_overrides(spec, model="scripted/core-editor", steps=4))
    edits = [e for e in events_of(run_dir, "memory") if e.kind == "core_edit"]
    assert [(e.detail["block"], e.detail["op"]) for e in edits] == [
        ("human", "append"), ("persona", "replace")]
    assert "1963" in edits[1].detail["new"] and "1962" in edits[1].detail["old"]
    assert all(e.author == "agent" for e in edits)
    tools = [m for m in events_of(run_dir, "message") if m.role == "tool"]
    assert len(tools) == 3 and tools[2].content.startswith("error:")
    triggers = [p.trigger for p in events_of(run_dir, "probe") if p.step == 2]
    assert "before_memory" in triggers and "after_memory" in triggers


def test_core_read_only_offers_no_tools(tmp_path: Path) -> None:
    register_script("core-editor-ro", Script(tool_calls={
        2: [{"name": "core_memory_append", "arguments": {"block": "human", "content": "x"}}]}))
    spec = with_memory(tmp_path, "core-ro")
    run_dir = run_spec(apply_overrides(spec, model="scripted/core-editor-ro", steps=3))
    assert not [e for e in events_of(run_dir, "memory") if e.kind == "core_edit"]
    tool_msgs = [m for m in events_of(run_dir, "message") if m.role == "tool"]
    assert tool_msgs and "no tool named" in tool_msgs[0].content


def test_notes_written_on_compaction(tmp_path: Path) -> None:
    run_dir = run_spec(with_memory(tmp_path, "notes"))
    memory = events_of(run_dir, "memory")
    kinds = [e.kind for e in memory]
    assert "truncate" in kinds and "note" in kinds
    first_note = kinds.index("note")
    assert kinds[first_note - 1] == "truncate"
    assert any(e.sections["notes"] > 0 for e in events_of(run_dir, "context"))


def test_cli_memory_override(tmp_path: Path) -> None:
    path = write_config(tmp_path, spec_dict(out=str(tmp_path / "runs"), steps=4))
    result = CliRunner().invoke(app, ["run", str(path), "--memory", "window"])
    assert result.exit_code == 0, result.output
    run_dir = next((tmp_path / "runs" / "test-jfk").iterdir())
    assert "-window-" in run_dir.name
    bad = CliRunner().invoke(app, ["run", str(path), "--memory", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output


@pytest.mark.parametrize("condition", ["window", "summary", "notes", "full"])
def test_budget_memory_cannot_keep_is_a_failed_event_and_a_warning(
        tmp_path: Path, condition: str, caplog: pytest.LogCaptureFixture) -> None:
    """Before: a keep_last the budget cannot hold let the context grow to 4x the budget with
    no memory event and no warning."""
    keep = {"keep_last": 60}
    spec = with_memory(tmp_path, condition, window=keep, summary=keep)
    with caplog.at_level("WARNING", logger="memory.overrun"):
        run_dir = run_spec(apply_overrides(spec, steps=30, no_probes=True))
    failed = [e for e in events_of(run_dir, "memory") if e.kind == "budget"]
    assert failed and all(e.status == "failed" and e.backend == "stack" for e in failed)
    assert "keep_last=60" in (failed[0].reason or "") and failed[0].detail["budget"] == 400
    contexts = {c.step: c.total_tokens for c in events_of(run_dir, "context")}
    assert contexts[failed[0].step] > 400 and all(
        total <= 400 for step, total in contexts.items() if step < failed[0].step)
    warnings = [r.getMessage() for r in caplog.records if r.name == "memory.overrun"]
    assert len(warnings) == len(failed) and "jfk" in warnings[0]


@pytest.mark.parametrize("condition", ["window", "summary", "notes", "full"])
def test_budget_event_exactly_when_the_context_goes_over(tmp_path: Path, condition: str) -> None:
    """No false alarm while memory keeps the budget, no silence when it does not: at budget 400
    `full`'s four blocks (up to 100 tokens each) and its last messages can exceed it."""
    run_dir = run_spec(apply_overrides(with_memory(tmp_path, condition), steps=30,
                                       no_probes=True))
    reported = [e.step for e in events_of(run_dir, "memory") if e.kind == "budget"]
    over = [c.step for c in events_of(run_dir, "context") if c.total_tokens > 400]
    if condition != "full":
        assert not over
    assert bool(reported) == bool(over)
    if over:
        assert reported[0] == over[0]
