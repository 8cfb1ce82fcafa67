"""The memory panel and drift chart on the new memory designs and the activation scorer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

from scaffold.recorder import read_events
from tests.helpers.memory_views import activation_run
from tests.tui.conftest import attached
from tui import Dashboard, FeedBatch, Limits
from tui.screens.main import _agent_lines
from tui.state import MARKERS, AgentView, is_other_kind
from tui.widgets import DriftChart
from tui.widgets.memory_panel import MemoryPanel

NEW_KINDS = ("reflect", "fact_add", "fact_update", "fact_delete", "sleeptime_rewrite",
             "file_edit", "file_open", "file_close")


def _agent(run_dir: Path, limits: Limits | None = None) -> AgentView:
    board = Dashboard(limits)
    board.feed(FeedBatch(run_dir, read_events(run_dir / "events.jsonl")))
    return board.agents[f"{run_dir.name}/jfk"]


def _text(renderable: Any, width: int = 200) -> str:
    console = Console(width=width, record=True)
    console.print(renderable)
    return console.export_text()


def test_new_kinds_are_marked_with_letters_and_not_taken_for_plugins(tmp_path: Path) -> None:
    agent = _agent(activation_run(tmp_path, condition="summary+files", designs=True))
    assert not any(is_other_kind(k) for k in NEW_KINDS) and agent.other == {}
    assert len({MARKERS[k] for k in NEW_KINDS} | set(MARKERS.values())) == len(MARKERS)
    assert [m.kind for m in agent.markers if m.step == 3] == [
        "reflect", "fact_add", "fact_update", "fact_add", "fact_delete", "sleeptime_rewrite",
        "file_edit", "file_open"]  # the stream's inserts change no context: not drawn


def test_state_holds_facts_rewrites_and_files_and_a_rewrite_replaces_the_block(
        tmp_path: Path) -> None:
    agent = _agent(activation_run(tmp_path, condition="summary+files", designs=True))
    c = agent.contents
    assert {f.id: (f.text, f.live) for f in c.facts.values()} == {
        "fact-0": ("Lives in Hyannis Port", True), "fact-1": ("Likes sailing", False)}
    assert agent.core.get("persona") == "I am JFK, the 35th president."
    assert {f.path: f.loaded for f in c.files.values()} == {"identity.md": "always",
                                                            "notes.md": "open"}
    assert agent.label("activation") == "activation (assistant axis)"


def test_contents_kept_are_bounded(tmp_path: Path) -> None:
    agent = _agent(activation_run(tmp_path, designs=True), Limits(contents=1))
    assert list(agent.contents.facts) == ["fact-1"] and len(agent.contents.stream) == 1


def test_the_chart_draws_the_activation_beside_the_text_scorers(tmp_path: Path) -> None:
    agent = _agent(activation_run(tmp_path))
    lines, markers, _ = _agent_lines(agent)
    labels = [line.label for line in lines]
    assert labels[:2] == ["rules", "activation (assistant axis)"]
    assert "activation (assistant axis) · replies" in labels
    replies = next(line for line in lines if line.label.endswith("· replies")
                   and line.label.startswith("activation"))
    assert replies.steps == tuple(range(1, 9))  # one reading per reply
    assert [m.kind for m in markers] == ["summarize"]


@pytest.mark.anyio
async def test_the_panel_shows_stream_reflections_facts_rewrites_and_files(
        tmp_path: Path) -> None:
    run_dir = activation_run(tmp_path / "exp", condition="summary+files", designs=True)
    async with attached(run_dir, size=(160, 60)) as (app, _pilot):
        app.main.query_one(MemoryPanel).show(app.board.agents[f"{run_dir.name}/jfk"])
        panel = _text(app.main.query_one(MemoryPanel).query_one(Static).content)
        for expected in ("reflections · 1 kept", "[8] I speak for free peoples.",
                         "← m1 [7] jfk: I stood at the Berlin wall.",
                         "memory stream · importance", "[ 2] step 3 · user: hi",
                         "facts · 1 live", "• Lives in Hyannis Port",
                         "UPDATE step 3 fact-0: Lives in the White House → Lives in Hyannis",
                         "DELETE step 3 fact-1: Likes sailing",
                         "persona · step 3 · every · rewritten", "I am JFK, the 35th president.",
                         "identity.md · always", "notes.md · open · str_replace at step 3",
                         "Cuba, October. Quarantine."):
            assert expected in panel, expected
        chart = _text(app.main.query_one(DriftChart).render())
        assert "activation (assistant axis)" in chart


def test_core_blocks_follow_a_scripted_sleeptime_run(tmp_path: Path) -> None:
    """The panel's persona block: the identity at first, then each rewrite the agent's next
    request really carried."""
    from scaffold.models.scripted import Script, register_script
    from tests.helpers import run_spec
    from tests.memory.test_sleeptime import REWRITE, agent_requests, sleeptime_spec

    register_script("views-sleepy", Script(sleeptime_reply=REWRITE))
    run_dir = run_spec(sleeptime_spec(tmp_path, model="scripted/views-sleepy"))
    events = read_events(run_dir / "events.jsonl")
    first = next(i for i, e in enumerate(events) if getattr(e, "kind", "") == "sleeptime_rewrite")
    board = Dashboard()
    board.feed(FeedBatch(run_dir, events[:first]))
    agent = board.agents[f"{run_dir.name}/jfk"]
    assert agent.core["persona"].startswith("You are John F. Kennedy")
    board.feed(FeedBatch(run_dir, events[first:]))
    assert agent.core["persona"] == REWRITE.format(step=5)
    assert agent.core["persona"] in agent_requests(run_dir)[5][0]
    assert [(r.step, r.block) for r in agent.contents.rewrites][:2] == [(3, "persona"),
                                                                        (3, "human")]
