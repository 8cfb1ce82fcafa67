"""A sweep's progress across sittings: runs done, steps, and time left at this sitting's rate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.sweep_progress import SweepProgress, clock_text
from tests.helpers import spec_dict, write_config


class Clock:
    """Seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_left_counts_only_this_sittings_work() -> None:
    clock = Clock()
    sweep = SweepProgress(steps={"a": 10, "b": 10, "c": 10, "d": 10}, done_before={"a"},
                          clock=clock)
    assert (sweep.runs_done, sweep.steps_done, sweep.total_steps) == (1, 10, 40)
    assert sweep.seconds_left() is None  # no step done here yet
    # b was resumed at step 6: its first report is step 7, and only one step was done here
    clock.now += 60
    assert sweep.step("b", 7) is False
    assert sweep.steps_done == 17
    assert sweep.seconds_left() == pytest.approx((40 - 17) * 60 / 1)
    clock.now += 60
    sweep.step("b", 8)
    sweep.step("c", 1)
    # 3 steps in 120 s here: 40 s a step, 21 steps left
    assert sweep.seconds_left() == pytest.approx(21 * 40)
    assert sweep.step("b", 10) is True and sweep.runs_done == 2
    assert sweep.line() == ("2/4 runs done (1 before this sitting), 21/40 steps, 2:00 elapsed, "
                            "about 7:36 left")  # 5 steps here in 120 s, 19 left


def test_clock_text() -> None:
    assert [clock_text(s) for s in (0, 65, 3600, 3723.4, 100000)] == [
        "0:00", "1:05", "1:00:00", "1:02:03", "27:46:40"]


def test_a_sweep_prints_its_progress_and_a_second_sitting_counts_the_first(
        tmp_path: Path) -> None:
    data = spec_dict(out=str(tmp_path / "runs"), steps=3, sweep={"seed": [0, 1, 2]})
    config = write_config(tmp_path, data)
    first = CliRunner().invoke(app, ["run", str(config)])
    assert first.exit_code == 0, first.output
    lines = [line for line in first.output.splitlines() if line.startswith("sweep: ")]
    assert [line.split(",")[0] for line in lines] == [
        "sweep: 1/3 runs done", "sweep: 2/3 runs done", "sweep: 3/3 runs done"]
    assert "9/9 steps" in lines[-1]
    # a later sitting: one run is gone, the two others were done before
    shutil.rmtree(sorted((tmp_path / "runs" / "test-jfk").iterdir())[0])
    second = CliRunner().invoke(app, ["run", str(config)])
    assert second.exit_code == 0, second.output
    (line,) = [x for x in second.output.splitlines() if x.startswith("sweep: ")]
    assert line.startswith("sweep: 3/3 runs done (2 before this sitting), 9/9 steps")
