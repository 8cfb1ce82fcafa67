"""A memory plugin's own event kinds: marked on the drift chart and shown in the memory panel."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

from scaffold.events import MemoryEvent
from scaffold.recorder import read_events
from tests.tui.conftest import SyntheticRun, attached, wait_for
from tui import Dashboard, FeedBatch, Limits
from tui.state import Marker, marker_label
from tui.widgets import DriftChart
from tui.widgets.drift_chart import _group
from tui.widgets.memory_panel import MemoryPanel


def _plugin_events(run: SyntheticRun) -> None:
    run.emit(MemoryEvent, step=2, agent_id="jfk", kind="summarize", backend="summary",
             text="We talked about the harbor.")
    run.emit(MemoryEvent, step=2, agent_id="jfk", kind="unpin", backend="keyword",
             text="old pin: the speech in Berlin")
    run.emit(MemoryEvent, step=3, agent_id="jfk", kind="insert", backend="keyword",
             text="stored, changes nothing shown")
    run.emit(MemoryEvent, step=4, agent_id="jfk", kind="unpin", backend="keyword",
             text="newer pin: the moon speech")
    run.emit(MemoryEvent, step=5, agent_id="jfk", kind="rebalance", backend="keyword",
             text="pins reordered", status="failed", reason="refused")


def test_plugin_kinds_are_marked_and_their_latest_text_kept(synthetic: SyntheticRun) -> None:
    _plugin_events(synthetic)
    board = Dashboard(Limits(other_kinds=4))
    board.feed(FeedBatch(synthetic.run_dir, read_events(synthetic.run_dir / "events.jsonl")))
    agent = board.agents[f"{synthetic.run_id}/jfk"]
    assert [(m.step, m.kind, m.ok) for m in agent.markers] == [
        (2, "summarize", True), (2, "unpin", True), (4, "unpin", True),
        (5, "rebalance", False)]  # inserts are not drawn; a failed one is, in red
    assert agent.other == {"unpin": (4, "keyword", "newer pin: the moon speech")}
    assert [marker_label(k) for k in ("summarize", "unpin", "a_very_long_kind")] == [
        "S", "*unpin", "*a_very_l"]
    assert _group(list(agent.markers)) == {2: ("S *unpin", False), 4: ("*unpin", False),
                                           5: ("*rebalanc", True)}


def test_plugin_kinds_kept_are_bounded(synthetic: SyntheticRun) -> None:
    for i in range(10):
        synthetic.emit(MemoryEvent, step=i + 1, agent_id="jfk", kind=f"kind{i}",
                       backend="keyword", text=f"text {i}")
    board = Dashboard(Limits(other_kinds=3))
    board.feed(FeedBatch(synthetic.run_dir, read_events(synthetic.run_dir / "events.jsonl")))
    agent = board.agents[f"{synthetic.run_id}/jfk"]
    assert list(agent.other) == ["kind7", "kind8", "kind9"]


def _text(renderable: Any) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


@pytest.mark.anyio
async def test_the_panel_and_the_chart_show_plugin_kinds(synthetic: SyntheticRun) -> None:
    _plugin_events(synthetic)
    async with attached(synthetic.run_dir, size=(160, 48)) as (app, pilot):
        agent = app.board.agents[f"{synthetic.run_id}/jfk"]
        await wait_for(pilot, lambda: "unpin" in agent.other, what="the plugin's events")
        panel = _text(app.main.query_one(MemoryPanel).query_one(Static).content)
        assert "keyword · unpin · step 4" in panel and "newer pin: the moon speech" in panel
        assert "old pin" not in panel  # the latest text per kind
        assert "rebalance" not in panel  # failed: marked on the chart, nothing stored
        chart = _text(app.main.query_one(DriftChart).render())
        assert "*unpin" in chart and "*rebalanc" in chart
        assert Marker(4, "unpin", True) in agent.markers
