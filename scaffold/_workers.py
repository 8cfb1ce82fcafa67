"""Worker processes for the local executor: each runs its share of the runs on its own loop."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from scaffold.config import ExecutionSpec, ExperimentSpec

if TYPE_CHECKING:
    from scaffold.runner import RunResult

Progress = Callable[[str, int, int], None]
Updates = queue.Queue[list[tuple[str, int, int]]]
"""Batches of progress(run_id, done, total) sent from the workers (a manager queue)."""


def split_execution(execution: ExecutionSpec, workers: int) -> ExecutionSpec:
    """Each worker's share of the limits: concurrency, calls in flight and request rates are
    divided (rounded up, at least 1) so all workers together keep the configured limits."""

    def share(n: int) -> int:
        return max(1, math.ceil(n / workers))

    return execution.model_copy(update={
        "workers": 1,
        "concurrency": share(execution.concurrency),
        "default_model_concurrency": share(execution.default_model_concurrency),
        "model_concurrency": {m: share(n) for m, n in execution.model_concurrency.items()},
        "requests_per_minute": {m: share(n) for m, n in execution.requests_per_minute.items()},
    })


def partition(specs: list[ExperimentSpec], workers: int) -> list[list[int]]:
    """Spec indexes per worker, dealt round robin (sweeps put similar runs next to each other)."""
    groups: list[list[int]] = [[] for _ in range(min(workers, len(specs)))]
    for i in range(len(specs)):
        groups[i % len(groups)].append(i)
    return groups


def plan_workers(specs: list[ExperimentSpec], workers: int
                 ) -> tuple[list[list[int]], ExecutionSpec]:
    """Spec indexes per process, and each process's share of the limits: divided among the
    processes that start (fewer than `workers` when there are fewer runs)."""
    groups = partition(specs, workers)
    return groups, split_execution(specs[0].execution, len(groups))


PROGRESS_BATCH_S = 0.1
"""How long a worker collects progress updates before sending them (one round trip each)."""


class _BatchedProgress:
    """Every step's progress, sent to the parent in batches: the queue is a manager proxy,
    so each put is a blocking round trip, too dear to pay on every step of every run."""

    def __init__(self, updates: Updates):
        self.updates = updates
        self.pending: list[tuple[str, int, int]] = []
        self.sent = time.monotonic()

    def __call__(self, run_id: str, done: int, total: int) -> None:
        self.pending.append((run_id, done, total))
        if done >= total or time.monotonic() - self.sent >= PROGRESS_BATCH_S:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.updates.put(self.pending)
            self.pending = []
        self.sent = time.monotonic()


def _work(specs: list[ExperimentSpec], replay: Path | None, execution: ExecutionSpec,
          updates: Updates | None) -> list[RunResult]:
    from scaffold.executors import LocalExecutor

    report = _BatchedProgress(updates) if updates else None
    try:
        return asyncio.run(LocalExecutor(specs, replay, report, execution).run_all())
    finally:
        if report is not None:
            report.flush()


async def run_in_workers(specs: list[ExperimentSpec], replay: Path | None,
                         progress: Progress | None, workers: int) -> list[RunResult]:
    """Run the specs in up to `workers` fresh processes; results in spec order."""
    groups, share = plan_workers(specs, workers)
    ctx = multiprocessing.get_context("spawn")  # fork would copy this process's running loop
    manager = ctx.Manager() if progress else None
    updates: Updates | None = manager.Queue() if manager else None
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set() or (updates is not None and not updates.empty()):
            try:
                batch = updates.get(timeout=0.1)  # type: ignore[union-attr]
            except queue.Empty:
                continue
            for item in batch:
                progress(*item)  # type: ignore[misc]

    pumper = threading.Thread(target=pump, daemon=True) if progress else None
    if pumper:
        pumper.start()
    loop = asyncio.get_running_loop()
    try:
        with ProcessPoolExecutor(max_workers=len(groups), mp_context=ctx) as pool:
            futures = [loop.run_in_executor(pool, _work, [specs[i] for i in group], replay,
                                            share, updates) for group in groups]
            results = await asyncio.gather(*futures)
    finally:
        stop.set()
        if pumper:
            pumper.join()
        if manager:
            manager.shutdown()
    by_index = {i: result for group, group_results in zip(groups, results)
                for i, result in zip(group, group_results)}
    return [by_index[i] for i in range(len(specs))]
