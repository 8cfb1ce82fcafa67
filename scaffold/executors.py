"""Local executor: runs of an experiment concurrently on asyncio, with shared model limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from scaffold.config import ExecutionSpec, ExperimentSpec
from scaffold.errors import ScaffoldError
from scaffold.limits import ModelLimits
from scaffold.runner import Run, RunResult, prepare_replay_dir, run_dir_for

Progress = Callable[[str, int, int], None]
"""progress(run_id, steps done, steps total)"""


class LocalExecutor:
    """Executes runs concurrently (execution.concurrency at once); one failing run never stops
    the others, and a failed run is retried (resumed) up to execution.retries times.

    Args:
        specs: the runs (a sweep's variants); execution settings come from the first.
        replay: a run directory whose cassette serves every call (single run only).
        progress: called after every step of every run.
        execution: execution settings (default: the first spec's).
    """

    def __init__(self, specs: list[ExperimentSpec], replay: Path | None = None,
                 progress: Progress | None = None, execution: ExecutionSpec | None = None):
        self.specs = specs
        self.replay = replay
        self.progress = progress
        self.execution = execution or specs[0].execution
        self.limits = ModelLimits(self.execution)

    def run_dir(self, spec: ExperimentSpec) -> Path:
        """Where a run writes."""
        return prepare_replay_dir(spec, self.replay) if self.replay else run_dir_for(spec)

    async def run_all(self) -> list[RunResult]:
        """Execute every run; results in the order of the specs."""
        if self.execution.workers > 1 and len(self.specs) > 1:
            from scaffold._workers import run_in_workers

            return await run_in_workers(self.specs, self.replay, self.progress,
                                        self.execution.workers)
        gate = asyncio.Semaphore(self.execution.concurrency)

        async def one(spec: ExperimentSpec) -> RunResult:
            async with gate:
                return await self._with_retries(spec)

        return list(await asyncio.gather(*(one(s) for s in self.specs)))

    async def _with_retries(self, spec: ExperimentSpec) -> RunResult:
        run_dir = self.run_dir(spec)

        def on_step(done: int, total: int) -> None:
            if self.progress:
                self.progress(run_dir.name, done, total)

        result = RunResult(run_dir, "failed")
        for _attempt in range(1 + self.execution.retries):
            try:
                result = await Run(spec, run_dir, self.replay, self.limits).execute(on_step)
            except ScaffoldError as exc:  # a damaged run directory, a bad fork: this run only
                return RunResult(run_dir, "failed", error=str(exc))
            if result.status == "done":
                break
        return result
