"""Figure rendering for the report: each figure built and saved from its data, in worker
processes when there are many (the same bytes as one process: every figure is independent)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from scaffold.report._figure_cache import FigureCache, figure_key
from scaffold.report._plots import plot_style, png_bytes, raw_svg

MIN_PARALLEL_FIGURES = 8
"""Fewer figures than this are drawn in this process: starting workers would cost more."""


@dataclass(frozen=True)
class FigureJob:
    """A figure to draw: `build(*args)` returns a matplotlib Figure, or None (nothing to
    plot). `build` is a module-level function and `args` plain data, so a job pickles
    cheaply into a worker process."""

    build: Callable[..., Any]
    args: tuple[Any, ...]


def default_jobs() -> int:
    """Worker processes by default: the CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _draw(task: tuple[FigureJob, Literal["png", "svg"]]) -> bytes | str | None:
    """Build one figure under the report's style and serialize it (PNG bytes, SVG text)."""
    job, fmt = task
    with plot_style():
        fig = job.build(*job.args)
        if fig is None:
            return None
        return png_bytes(fig) if fmt == "png" else raw_svg(fig)


def _context() -> Any:
    # fork starts workers in milliseconds with everything imported; elsewhere (macOS,
    # Windows) fork is unsafe or missing, and spawn re-imports matplotlib once per worker
    method = "fork" if sys.platform == "linux" else "spawn"
    return multiprocessing.get_context(method)


def render_figures(jobs: Sequence[FigureJob], fmt: Literal["png", "svg"],
                   workers: int | None = None,
                   cache: FigureCache | None = None) -> list[bytes | str | None]:
    """Draw every job, in order: PNG bytes or SVG text per job, None where a job had nothing
    to plot.

    Args:
        jobs: the figures to draw.
        fmt: `png` or `svg`.
        workers: processes to draw in; None for `default_jobs()`, 1 for this process only.
        cache: figures drawn before, by key (`figure_key`); found ones are not drawn again,
            new ones are added.
    """
    keys = [figure_key(job, fmt) for job in jobs] if cache else []
    found = [cache.get(key, fmt) for key in keys] if cache else [(False, None)] * len(jobs)
    missing = [i for i, (hit, _) in enumerate(found) if not hit]
    drawn = _draw_all([jobs[i] for i in missing], fmt, workers)
    out = [figure for _, figure in found]
    for i, figure in zip(missing, drawn, strict=True):
        out[i] = figure
        if cache:
            cache.put(keys[i], fmt, figure)
    if cache and missing:
        cache.prune()
    return out


def _draw_all(jobs: Sequence[FigureJob], fmt: Literal["png", "svg"],
              workers: int | None) -> list[bytes | str | None]:
    tasks = [(job, fmt) for job in jobs]
    n = min(workers or default_jobs(), len(tasks))
    if n < 2 or len(tasks) < MIN_PARALLEL_FIGURES:
        return [_draw(t) for t in tasks]
    chunk = max(1, len(tasks) // (n * 4))
    # forked workers share this process's memory (the runs' events) until they write to it;
    # frozen objects are not visited by their garbage collector, so the pages stay shared
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=n, mp_context=_context()) as pool:
            return list(pool.map(_draw, tasks, chunksize=chunk))
    finally:
        gc.unfreeze()
