"""Run mode: the experiment runs in a worker; with 64 agents streaming, keys still respond."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot

from scaffold.config import parse_experiment
from scaffold.runner import run_dir_for
from tests.helpers import spec_dict
from tests.tui.conftest import log_text, many_agents_spec, wait_for
from tui import Limits, ScaffoldApp
from tui.widgets import AgentsTable, EventLog, FilterBar

pytestmark = pytest.mark.anyio


async def test_run_mode_runs_the_experiment_and_shows_it(tmp_path: Path) -> None:
    spec = parse_experiment(spec_dict(out=str(tmp_path / "runs"), steps=4))
    app = ScaffoldApp.run_experiment([spec], blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "experiment finished: 1 of 1 run(s) done"
                       in log_text(app), what="the experiment to finish")
        await wait_for(pilot, lambda: all(r.status == "done" for r in app.board.runs.values()),
                       what="the run_end event")
        [agent] = app.board.agents.values()
        table = app.main.query_one(AgentsTable)
        assert str(table.get_cell(agent.key, "step")) == "4"
        assert str(table.get_cell(agent.key, "status")) == "done"
    assert not app.failed


async def _key(pilot: Pilot[None], key: str, done: Callable[[], bool], what: str) -> None:
    """Send one key as the terminal would, and wait until its effect shows.

    (`pilot.press` also waits for the whole process to go idle, which it never does while an
    experiment computes in the same process.)
    """
    pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))
    await wait_for(pilot, done, timeout=10, what=what)


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
async def test_keys_respond_and_memory_stays_bounded_with_64_agents_streaming(
        tmp_path: Path) -> None:
    spec = many_agents_spec(tmp_path / "runs", agents=64, steps=200)
    limits = Limits(transcript=3, probes=3, rounds=4, markers=5, log=40, memories=2)
    app = ScaffoldApp.run_experiment([spec], blink=False, limits=limits)
    async with app.run_test(size=(160, 48)) as pilot:
        board, main = app.board, app.main
        await wait_for(pilot, lambda: len(board.agents) == 64
                       and min(a.step for a in board.agents.values()) >= 2,
                       what="64 agents at step 2")
        table = main.query_one(AgentsTable)
        [run] = board.runs.values()
        steps = sum(a.step for a in board.agents.values())

        await _key(pilot, "slash", lambda: main.query_one(FilterBar).has_focus, "the filter")
        for typed, expected in (("a", "a"), ("1", "a1"), ("7", "a17")):
            await _key(pilot, typed, lambda e=expected: main.filter_text == e, "typing")
        assert table.row_count == 1 and main.selected.endswith("/a17")
        await _key(pilot, "escape", lambda: table.row_count == 64, "the filter to clear")
        await _key(pilot, "down", lambda: main.selected.endswith("/a18"), "the cursor")
        assert run.status == "running"
        assert sum(a.step for a in board.agents.values()) > steps, "keys ran while it streamed"

        for agent in board.agents.values():
            assert agent.transcript.total > limits.transcript
            assert len(agent.transcript.items) <= limits.transcript
            assert len(agent.probes.items) <= limits.probes
            assert len(agent.rounds) <= limits.rounds
            assert len(agent.markers) <= limits.markers
        assert len(board.log.items) <= limits.log
        assert len(main.query_one(EventLog).lines) <= limits.log
        await _key(pilot, "q", lambda: not app.is_running, "quit")
    manifest = json.loads((run_dir_for(spec) / "manifest.json").read_text())
    assert manifest["status"] != "running", "quitting stopped the experiment it ran"
