"""TUI test fixtures: seeded scripted runs, synthetic event logs, and waiting on the app."""

from __future__ import annotations

import copy
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from scaffold.config import ExperimentSpec, parse_experiment
from scaffold.control import CONTROL_FILE, ControlCommand
from scaffold.events import Event, RunStart
from tests.helpers import JFK_PERSONA, run_spec, spec_dict
from tui import ScaffoldApp

SNAPSHOT_SIZE = (160, 48)


def two_agent_data(out: Path, **overrides: Any) -> dict[str, Any]:
    """JFK twice: `jfk` (summary memory) holds; `jfk-b` (window memory) breaks at step 8."""
    data = spec_dict(out=str(out), steps=14, probes={"every": 2})
    holds = data["agents"][0]
    breaks = copy.deepcopy(holds)
    breaks.update(id="jfk-b", model="scripted/break-at-8")
    breaks["memory"]["condition"] = "window"
    data["agents"] = [holds, breaks]
    data.update(overrides)
    return data


def many_agents_spec(out: Path, agents: int, steps: int) -> ExperimentSpec:
    """`agents` scripted JFK agents with light probes (rules and break scorers only)."""
    data = spec_dict(out=str(out), steps=steps,
                     probes={"every": 3, "scorers": ["rules", "break"]})
    base = data["agents"][0]
    data["agents"] = [dict(copy.deepcopy(base), id=f"a{i:02d}") for i in range(agents)]
    return parse_experiment(data)


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished seeded scripted run of the two-agent spec (shared: never write into it)."""
    out = tmp_path_factory.mktemp("finished") / "runs"
    return run_spec(parse_experiment(two_agent_data(out)))


class SyntheticRun:
    """Writes a run directory's events.jsonl as a run would (append, flush), with fixed times."""

    def __init__(self, run_dir: Path, agents: tuple[str, ...] = ("jfk", "nova")):
        self.run_dir = run_dir
        self.run_id = run_dir.name
        self.seq = 0
        run_dir.mkdir(parents=True, exist_ok=True)
        spec = spec_dict(steps=50)
        spec["agents"] = [dict(copy.deepcopy(spec["agents"][0]), id=a) for a in agents]
        spec["personas"] = {"jfk": copy.deepcopy(JFK_PERSONA)}
        self.emit(RunStart, step=0, spec=spec, seed=0)

    def emit(self, cls: type[Event], step: int = 1, **fields: Any) -> Event:
        """Append one event."""
        self.seq += 1
        event = cls(seq=self.seq, run_id=self.run_id, step=step, ts=0.0, **fields)
        with (self.run_dir / "events.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(event.model_dump_json() + "\n")
        return event

    def commands(self) -> list[ControlCommand]:
        """Commands the TUI wrote to the run's control file."""
        path = self.run_dir / CONTROL_FILE
        if not path.exists():
            return []
        return [ControlCommand.model_validate_json(line)
                for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def synthetic(tmp_path: Path) -> SyntheticRun:
    """A live-looking run (started, never ended) with agents `jfk` and `nova`."""
    return SyntheticRun(tmp_path / "exp" / "synthetic-run")


def attach_app(path: Path, **options: Any) -> ScaffoldApp:
    """An app attached to `path`, with cursor blinking off."""
    return ScaffoldApp.attach(path, blink=False, **options)


@asynccontextmanager
async def attached(path: Path, size: tuple[int, int] = (120, 40)
                   ) -> AsyncIterator[tuple[ScaffoldApp, Pilot[Any]]]:
    """An app attached to `path`, running headless, with what is there already read."""
    app = attach_app(path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield app, pilot


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 60.0,
                   what: str = "condition") -> None:
    """Let the app run until `condition()` holds (redrawing once it does)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            app = pilot.app
            log = [line.text for line in app.board.log.items][-5:]
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; log: {log}")
        await pilot.pause(0.05)
    app = pilot.app
    assert isinstance(app, ScaffoldApp)
    app.tick()
    await pilot.pause(0)


async def settle(pilot: Pilot[Any], runs: int = 1) -> None:
    """Wait until `runs` runs are loaded, every log read, and the screen redrawn."""
    app = pilot.app
    assert isinstance(app, ScaffoldApp)

    def ready() -> bool:
        app.drain()
        return app.main.ready and len(app.board.runs) >= runs and app.caught_up \
            and bool(app.board.agents)

    await wait_for(pilot, ready, what="the event logs to be read")
    await wait_for(pilot, lambda: (app.drain() == 0) and app.caught_up, what="quiet")


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (Textual's loop), through anyio's pytest plugin."""
    return "asyncio"


async def read_to_the_end(pilot: Pilot[Any]) -> None:
    """Every followed run read to its end and drawn."""
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, ScaffoldApp)
    await wait_for(pilot, lambda: all(r.status != "running" for r in app.board.runs.values())
                   and app.caught_up, what="the runs' end")


def log_text(app: ScaffoldApp) -> str:
    """The event log as shown on screen, wrapped lines joined again."""
    from tui.widgets import EventLog

    return " ".join(line.text.strip() for line in app.main.query_one(EventLog).lines)
