"""Attach mode: follow a run another process is writing; quitting never disturbs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import spec_dict, write_config
from tests.tui.conftest import attach_app, settle, wait_for
from tui.widgets import AgentsTable, Transcript

pytestmark = pytest.mark.anyio


async def test_attach_follows_a_headless_run_and_quitting_leaves_it_alone(
        tmp_path: Path) -> None:
    out = tmp_path / "runs"
    config = write_config(tmp_path, spec_dict(out=str(out), steps=24, probes={"every": 4}))
    writer = subprocess.Popen([sys.executable, "-m", "scaffold.cli", "run", str(config)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        app = attach_app(out / "test-jfk")
        async with app.run_test(size=(120, 40)) as pilot:
            def steps() -> list[int]:
                return [a.step for a in app.board.agents.values()]

            await wait_for(pilot, lambda: any(s >= 2 for s in steps()), what="step 2")
            [run] = app.board.runs.values()
            assert run.status == "running"
            first = steps()[0]
            await wait_for(pilot, lambda: steps()[0] > first, what="the run to go on")
            table = app.main.query_one(AgentsTable)
            assert table.row_count == 1
            assert int(str(table.get_cell(f"{run.run_id}/jfk", "step"))) > first
            assert app.main.query_one(Transcript).lines, "the transcript streams"
            await pilot.press("q")
        assert writer.poll() is None, "the run was still going when the view quit"
        assert writer.wait(timeout=180) == 0, writer.stderr.read() if writer.stderr else ""
    finally:
        if writer.poll() is None:
            writer.kill()
    run_dir = next((out / "test-jfk").iterdir())
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "done"

    app = attach_app(out / "test-jfk")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: all(r.status == "done" for r in app.board.runs.values()))
        [agent] = app.board.agents.values()
        assert agent.step == 24
        assert str(app.main.query_one(AgentsTable).get_cell(agent.key, "status")) == "done"
