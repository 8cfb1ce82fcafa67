"""Memory files: always-loaded and on-demand files, edited with tools, stored safely on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from memory import BackendContext
from memory.files import FilesMemory
from scaffold import registry
from scaffold.config import apply_overrides
from scaffold.messages import Message
from scaffold.models.scripted import Script, register_script
from tests.helpers import events_of, make_spec, run_spec, spec_dict, write_config
from tests.helpers.killing import kill_then_resume

SECRET = "Plan: a naval quarantine around Cuba, announced on Monday."


def files_spec(tmp_path: Path, model: str, steps: int = 6, condition: str = "files",
               **files: Any) -> Any:
    data = spec_dict(out=str(tmp_path / "runs"))
    data["agents"][0]["memory"] = {
        "condition": condition, "budget_tokens": 1200,
        "files": {"seed": {"plans.md": SECRET}, "open_steps": 2, **files}}
    return apply_overrides(make_spec(tmp_path, agents=data["agents"]), model=model, steps=steps)


def system_prompts(run_dir: Path) -> list[tuple[int, str]]:
    """(step, system message) of every agent call, in order (from the run's cassette)."""
    entries = [json.loads(line) for line in (run_dir / "cassette.jsonl").read_text().splitlines()]
    return [(e["step"], e["messages"][0]["content"]) for e in entries if e["purpose"] == "agent"]


def make_files(tmp_path: Path, **settings: Any) -> FilesMemory:
    context = BackendContext(run_dir=tmp_path / "run", run_id="r", agent_id="jfk",
                             identity="I am JFK.")
    return registry.get("memory", "files")(context=context, **settings)


def test_on_demand_file_enters_context_only_after_a_read(tmp_path: Path) -> None:
    register_script("opener", Script(tool_calls={
        2: [{"name": "memory_view", "arguments": {"path": "plans.md"}}]}))
    run_dir = run_spec(files_spec(tmp_path, "scripted/opener"))
    prompts = system_prompts(run_dir)
    # step 1 and step 2's first call: closed, listed by name only
    assert [s for s, _ in prompts[:2]] == [1, 2] and all(SECRET not in p for _, p in prompts[:2])
    assert "plans.md" in prompts[0][1]
    # after the read (step 2's second call) and the next step it is in context
    assert [(s, SECRET in p) for s, p in prompts[2:]] == [
        (2, True), (3, True), (4, False), (5, False), (6, False)]
    memory = [e for e in events_of(run_dir, "memory") if e.backend == "files"]
    assert [(e.step, e.kind) for e in memory] == [(2, "file_open"), (4, "file_close")]
    assert memory[1].detail["reason"] == "expired" and memory[1].source_ids == ["plans.md"]
    # the identity file is always loaded and stands in for the persona section
    assert all("You are John F. Kennedy" in p for _, p in prompts)
    assert all(c.sections["persona"] == 0 and c.sections["core"] > 0
               for c in events_of(run_dir, "context"))


def test_edits_are_events_with_old_and_new_text_and_real_files(tmp_path: Path) -> None:
    register_script("editor", Script(tool_calls={
        2: [{"name": "memory_create",
             "arguments": {"path": "diary/1962.md", "file_text": "I spoke about the moon."}}],
        3: [{"name": "memory_str_replace",
             "arguments": {"path": "diary/1962.md", "old_str": "moon", "new_str": "harbor"}},
            {"name": "memory_delete", "arguments": {"path": "plans.md"}},
            {"name": "memory_str_replace",
             "arguments": {"path": "identity.md", "old_str": "1962", "new_str": "1963"}}],
    }))
    run_dir = run_spec(files_spec(tmp_path, "scripted/editor", steps=4,
                                  read_only=["identity.md"]))
    edits = [e for e in events_of(run_dir, "memory") if e.kind == "file_edit"]
    assert [(e.detail["op"], e.detail["path"]) for e in edits] == [
        ("create", "diary/1962.md"), ("str_replace", "diary/1962.md"), ("delete", "plans.md")]
    assert edits[1].detail["old"] == "I spoke about the moon."
    assert edits[1].detail["new"] == "I spoke about the harbor."
    assert edits[2].detail["old"] == SECRET and edits[2].detail["new"] is None
    tools = [m.content for m in events_of(run_dir, "message") if m.role == "tool"]
    assert tools[-1] == "error: identity.md is read-only"
    root = run_dir / "memory" / "files" / "jfk"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "diary/1962.md", "identity.md"]
    assert (root / "diary" / "1962.md").read_text() == "I spoke about the harbor."
    scored = {e.memory_seq for e in events_of(run_dir, "score") if e.target == "memory"}
    assert {e.seq for e in edits[:2]} <= scored  # written text is scored as memory text
    triggers = [(p.step, p.trigger) for p in events_of(run_dir, "probe")]
    assert (2, "before_memory") in triggers and (2, "after_memory") in triggers


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "notes/../../x.md",
                                  "..", ".hidden", "a\\..\\b", "C:/x.md", "~/x.md", "",
                                  "a/b/c/d/e/f.md", "x\x00.md"])
def test_hostile_paths_are_refused(tmp_path: Path, path: str) -> None:
    files = make_files(tmp_path)
    tools = {t.name: t for t in files.tools()}
    for name, args in (("memory_create", {"path": path, "file_text": "pwned"}),
                       ("memory_view", {"path": path}), ("memory_delete", {"path": path})):
        with pytest.raises(ValueError) as info:
            tools[name].run(args)
        assert "path" in str(info.value)
    assert not (tmp_path / "etc").exists() and "pwned" not in json.dumps(files.snapshot())


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    files = make_files(tmp_path, seed={"notes.md": "Mine."})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.md").write_text("theirs")
    root = files.store.root
    os.symlink(outside / "target.md", root / "link.md")
    os.symlink(outside, root / "folder")
    tools = {t.name: t for t in files.tools()}
    for args in ({"path": "link.md", "file_text": "pwned"},
                 {"path": "folder/new.md", "file_text": "pwned"}):
        with pytest.raises(ValueError, match="symbolic link"):
            tools["memory_create"].run(args)
    assert (outside / "target.md").read_text() == "theirs"
    assert not (outside / "new.md").exists()
    # a restore rewrites the directory from the snapshot: the links go, the target stays
    files.restore(files.snapshot())
    assert not (root / "link.md").exists() and not (root / "folder").is_symlink()
    assert (outside / "target.md").read_text() == "theirs"


def test_restore_rewrites_the_directory_exactly(tmp_path: Path) -> None:
    files = make_files(tmp_path, seed={"notes.md": "Sailing on Sunday."}, max_open=1)
    tools = {t.name: t for t in files.tools()}
    files.observe([Message(id="u1", role="user", content="hi", author="user", step=1)])
    tools["memory_view"].run({"path": "notes.md"})
    snapshot = json.loads(json.dumps(files.snapshot()))
    rendered = files.render(1024)
    # what a run killed after the checkpoint leaves behind: later writes on disk
    tools["memory_create"].run({"path": "later.md", "file_text": "not in the checkpoint"})
    tools["memory_str_replace"].run({"path": "notes.md", "old_str": "Sunday",
                                     "new_str": "Monday"})
    resumed = make_files(tmp_path, seed={"notes.md": "Sailing on Sunday."}, max_open=1)
    resumed.restore(snapshot)
    assert resumed.render(1024) == rendered and "Sailing on Sunday." in rendered[0]["content"]
    root = resumed.store.root
    assert sorted(p.name for p in root.iterdir()) == ["identity.md", "notes.md"]
    assert (root / "notes.md").read_text() == "Sailing on Sunday."


def test_opening_past_max_open_closes_the_least_recently_used(tmp_path: Path) -> None:
    files = make_files(tmp_path, seed={"a.md": "Alpha text.", "b.md": "Beta text.",
                                       "c.md": "Gamma text."}, max_open=2)
    view = {t.name: t for t in files.tools()}["memory_view"]
    view.run({"path": "a.md"})
    view.run({"path": "b.md"})
    text, record = view.run({"path": "c.md"})
    assert record.detail["closed"] == ["a.md"] and "closed a.md" in text
    shown = files.render(2000)[0]["content"]
    assert "Beta text." in shown and "Gamma text." in shown and "Alpha text." not in shown
    assert "a.md (11 characters)" in shown  # still listed by name


def test_kill_9_then_resume_keeps_files_exact(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    calls = {step: [{"name": "memory_create",
                     "arguments": {"path": f"day{step}.md", "file_text": f"Day {step} notes."}},
                    {"name": "memory_view", "arguments": {"path": f"day{step}.md"}}]
             for step in range(2, 12, 2)}
    script.write_text(yaml.safe_dump({"tool_calls": calls}))
    data = spec_dict(out=str(tmp_path / "runs"), steps=12, model=f"scripted/{script}",
                     probes={"enabled": False})
    data["agents"][0]["memory"] = {"condition": "summary+files", "budget_tokens": 900}
    reference = run_spec(make_spec(tmp_path / "ref", **{
        k: v for k, v in data.items() if k != "out"}))
    run_dir = kill_then_resume(write_config(tmp_path, data), tmp_path / "runs", 50)

    def view(run: Path) -> list[Any]:
        memory = [(e.step, e.kind, e.text, tuple(e.source_ids))
                  for e in events_of(run, "memory") if e.backend == "files"]
        calls = [(e.step, e.purpose, e.request_hash) for e in events_of(run, "model_call")]
        root = run / "memory" / "files" / "jfk"
        disk = sorted((p.name, p.read_text()) for p in root.iterdir())
        return [memory, calls, disk]

    expected = view(reference)
    assert len(expected[0]) >= 10 and len(expected[2]) == 6
    assert view(run_dir) == expected


def test_identity_file_that_cannot_fit_its_share_is_a_config_error(tmp_path: Path) -> None:
    from scaffold.errors import ConfigError

    data = spec_dict(out=str(tmp_path / "runs"))
    data["agents"][0]["memory"] = {"condition": "files", "budget_tokens": 100}
    with pytest.raises(ConfigError) as info:
        make_spec(tmp_path, agents=data["agents"])
    assert "shares.files" in info.value.problems[0]
    data["agents"][0]["memory"]["files"] = {"identity_file": None}
    assert make_spec(tmp_path, agents=data["agents"]).agents[0].memory.files.always
