"""Run reports from event logs: self-contained HTML, Markdown with PNGs, JSON, Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from scaffold.metrics import MetricsSettings, ReportMetrics, load_runs, report_metrics
from scaffold.report._document import write_document
from scaffold.report._export import MissingDependency, export_parquet
from scaffold.report._figure_cache import FigureCache
from scaffold.report._inspect import export_inspect
from scaffold.report._pack import pack_runs
from scaffold.report._writers import HtmlWriter, MarkdownWriter

__all__ = ["MissingDependency", "ReportFormat", "export_inspect", "export_parquet", "metrics_json",
           "pack_runs", "write_report"]

ReportFormat = Literal["html", "md"]


def write_report(path: Path, fmt: ReportFormat = "html",
                 settings: MetricsSettings | None = None,
                 skipped: list[str] | None = None, workers: int | None = None,
                 cache: bool = True, runs: bool = True) -> list[Path]:
    """Write report.html (or report.md and its PNG figures) into `path`.

    Args:
        path: a run directory, an experiment directory, or an output directory of runs.
        fmt: `html` for one self-contained page, `md` for Markdown plus PNG files.
        settings: smoothing window and bootstrap settings.
        skipped: receives the runs left out because their event log is damaged (the report
            lists them too); without it a damaged log is an error.
        workers: processes that draw the figures (None: one per CPU; 1: this process only).
            The output is the same for any number.
        cache: reuse figures drawn before from the same data and code (kept under the
            Scaffold cache directory, see `scaffold.report._figure_cache`), and keep new ones.
        runs: include each run's own section (False for studies of many runs: the
            conditions, survival and event-delta sections are the same either way).

    Returns:
        The files written, the report first.

    Raises:
        RunDirError: no directory, no runs, no events, or a corrupt event log.
    """
    logs = load_runs(path, skipped)
    metrics = report_metrics(logs, path, settings, skipped)
    title = f"Scaffold report: {path.resolve().name}"
    figures = FigureCache() if cache else None
    if fmt == "md":
        md = MarkdownWriter(title, path, workers, figures)
        target = path / "report.md"
        target.write_text(write_document(md, metrics, logs, runs), encoding="utf-8")
        return [target, *md.files]
    target = path / "report.html"
    page = write_document(HtmlWriter(title, workers, figures), metrics, logs, runs)
    target.write_text(page, encoding="utf-8")
    return [target]


def metrics_json(path: Path, settings: MetricsSettings | None = None) -> str:
    """All metrics of the runs at or under `path` as indented JSON (nothing is written); runs
    with a damaged event log are left out and listed under `skipped`."""
    skipped: list[str] = []
    metrics: ReportMetrics = report_metrics(load_runs(path, skipped), path, settings, skipped)
    return metrics.model_dump_json(indent=2)
