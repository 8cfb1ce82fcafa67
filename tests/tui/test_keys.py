"""Every key: the right command lands in the run's control file, and the screen says so."""

from __future__ import annotations

from typing import Any

import pytest

from scaffold.control import ControlCommand
from scaffold.events import ControlEvent, RunEnd
from tests.tui.conftest import SyntheticRun, attached, log_text, wait_for
from tui import ScaffoldApp
from tui.screens import InjectScreen, MainScreen
from tui.widgets import AgentsTable, DriftChart

pytestmark = pytest.mark.anyio


def _status(app: ScaffoldApp, key: str) -> str:
    return str(app.main.query_one(AgentsTable).get_cell(key, "status"))


def _only(synthetic: SyntheticRun) -> ControlCommand:
    [command] = synthetic.commands()
    return command


async def test_p_pauses_the_selected_run_then_resumes_it(synthetic: SyntheticRun) -> None:
    async with attached(synthetic.run_dir) as (app, pilot):
        key = f"{synthetic.run_id}/jfk"
        await pilot.press("p")
        pause = _only(synthetic)
        assert (pause.action, pause.agent_id) == ("pause", None)
        assert _status(app, key) == "pausing…"
        assert "sent pause to synthetic-run" in log_text(app)

        synthetic.emit(ControlEvent, action="pause", command_id=pause.id)
        await wait_for(pilot, lambda: _status(app, key) == "paused", what="paused")
        await pilot.press("p")
        assert [c.action for c in synthetic.commands()] == ["pause", "resume"]
        assert _status(app, key) == "resuming…"
        synthetic.emit(ControlEvent, action="resume", command_id=synthetic.commands()[1].id)
        await wait_for(pilot, lambda: _status(app, key) == "running", what="running")


async def test_b_asks_the_selected_agent_a_probe_round(synthetic: SyntheticRun) -> None:
    async with attached(synthetic.run_dir) as (app, pilot):
        await pilot.press("down", "b")
        command = _only(synthetic)
        assert (command.action, command.agent_id) == ("probe_now", "nova")
        assert "sent probe_now to nova" in log_text(app)


async def test_i_injects_the_typed_message_and_escape_sends_nothing(
        synthetic: SyntheticRun) -> None:
    async with attached(synthetic.run_dir) as (app, pilot):
        await pilot.press("i")
        assert isinstance(app.screen, InjectScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and synthetic.commands() == []

        await pilot.press("i", *"Are you an AI?", "enter")
        assert isinstance(app.screen, MainScreen)
        command = _only(synthetic)
        assert (command.action, command.agent_id, command.text) == (
            "inject", "jfk", "Are you an AI?")
        assert "sent inject to jfk" in log_text(app)


async def test_f_forks_the_selected_agent_and_shows_the_spec_path(
        synthetic: SyntheticRun) -> None:
    async with attached(synthetic.run_dir, size=(160, 40)) as (app, pilot):
        await pilot.press("f")
        command = _only(synthetic)
        assert (command.action, command.agent_id) == ("fork", "jfk")
        synthetic.emit(ControlEvent, step=7, agent_id="jfk", action="fork",
                       detail="fork-jfk-s7.yaml", command_id=command.id)
        await wait_for(pilot, lambda: "fork-jfk-s7.yaml" in log_text(app),
                       what="the fork event in the log")


async def test_slash_filters_agents_and_escape_clears(synthetic: SyntheticRun) -> None:
    async with attached(synthetic.run_dir) as (app, pilot):
        table = app.main.query_one(AgentsTable)
        assert table.row_count == 2
        await pilot.press("slash", *"nov")
        assert table.row_count == 1
        assert app.main.selected == f"{synthetic.run_id}/nova"
        await pilot.press("enter")
        assert table.has_focus and table.row_count == 1
        await pilot.press("slash", "escape")
        assert table.row_count == 2


async def test_a_switches_the_chart_between_agent_and_all_agents(
        synthetic: SyntheticRun) -> None:
    async with attached(synthetic.run_dir) as (app, pilot):
        chart = app.main.query_one(DriftChart)
        titles: list[Any] = [chart.border_title]
        for _ in range(2):
            await pilot.press("a")
            titles.append(chart.border_title)
        assert [str(t).split(" (")[0] for t in titles] == [
            "identity drift · jfk", "identity drift · all agents", "identity drift · jfk"]


async def test_commands_to_a_finished_run_are_refused(synthetic: SyntheticRun) -> None:
    synthetic.emit(RunEnd, step=3, status="done")
    async with attached(synthetic.run_dir) as (app, pilot):
        await wait_for(pilot, lambda: _status(app, f"{synthetic.run_id}/jfk") == "done")
        await pilot.press("p", "b", "f", "i")
        assert synthetic.commands() == []
        assert isinstance(app.screen, MainScreen)


async def test_q_quits(synthetic: SyntheticRun) -> None:
    async with attached(synthetic.run_dir) as (app, pilot):
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
