"""A sweep's progress over sittings: runs done, steps left, and the time left at this sitting's
rate (runs finished before, and the steps a resumed run had already done, are not counted as
this sitting's work)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


def clock_text(seconds: float) -> str:
    """`1:02:03` (hours unbounded), `4:05` under an hour."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class SweepProgress:
    """Counts steps as runs report them.

    Args:
        steps: each run's total steps, by run id.
        done_before: run ids finished in an earlier sitting (they will be skipped).
        clock: seconds (monotonic), for tests.
    """

    steps: dict[str, int]
    done_before: set[str] = field(default_factory=set)
    clock: Callable[[], float] = time.monotonic
    _start: float = field(init=False)
    _first: dict[str, int] = field(init=False, default_factory=dict)
    _latest: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._start = self.clock()

    def step(self, run_id: str, done: int) -> bool:
        """Record that `run_id` has `done` steps; True when that finishes the run."""
        if run_id not in self._first:
            self._first[run_id] = done - 1  # a resumed run's earlier steps were done before
        self._latest[run_id] = done
        return done >= self.steps.get(run_id, done + 1)

    @property
    def runs_done(self) -> int:
        """Runs finished, in this sitting or before."""
        return len(self.done_before) + sum(
            1 for r, d in self._latest.items() if r not in self.done_before
            and d >= self.steps.get(r, d + 1))

    @property
    def steps_done(self) -> int:
        """Steps done by every run, in this sitting or before."""
        before = sum(self.steps.get(r, 0) for r in self.done_before)
        return before + sum(d for r, d in self._latest.items() if r not in self.done_before)

    @property
    def total_steps(self) -> int:
        return sum(self.steps.values())

    def seconds_left(self) -> float | None:
        """Steps left divided by this sitting's rate; None until a step was done here."""
        here = sum(d - self._first[r] for r, d in self._latest.items())
        elapsed = self.clock() - self._start
        if here <= 0 or elapsed <= 0:
            return None
        return (self.total_steps - self.steps_done) * elapsed / here

    def line(self) -> str:
        """`12/128 runs done (10 before this sitting), 2240/5120 steps, 1:02:03 elapsed,
        about 1:20:00 left`."""
        left = self.seconds_left()
        before = f" ({len(self.done_before)} before this sitting)" if self.done_before else ""
        eta = f", about {clock_text(left)} left" if left is not None else ""
        return (f"{self.runs_done}/{len(self.steps)} runs done{before}, "
                f"{self.steps_done}/{self.total_steps} steps, "
                f"{clock_text(self.clock() - self._start)} elapsed{eta}")
