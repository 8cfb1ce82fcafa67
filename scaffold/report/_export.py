"""Parquet export of a run's event log: every event, and every score with its context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scaffold.errors import ScaffoldError
from scaffold.events import (
    ContextEvent,
    Event,
    MemoryEvent,
    MessageEvent,
    ProbeEvent,
    ScoreEvent,
)
from scaffold.metrics import RunLog, agent_setup, load_runs, score_samples
from scaffold.redact import redact_data

EVENTS_PARQUET = "events.parquet"
SCORES_PARQUET = "scores.parquet"
SCORE_COLUMNS = ("run_id", "experiment", "agent_id", "condition", "model", "seq", "step",
                 "target", "round_id", "probe_id", "sample", "trigger", "question", "answer",
                 "message_id", "memory_seq", "memory_kind", "memory_text", "scorer",
                 "scorer_version", "value", "explanation")


class MissingDependency(ScaffoldError):
    """An optional package a command needs is not installed."""


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise MissingDependency(
            "parquet export needs the package 'pyarrow', which is not installed: "
            "pip install pyarrow") from None
    return pyarrow, pyarrow.parquet


def event_rows(events: list[Event]) -> list[dict[str, Any]]:
    """One flat row per event: scalars as they are, lists and dicts as JSON text, context
    sections also as `section_<name>` columns."""
    rows = []
    for e in events:
        row: dict[str, Any] = {}
        for key, value in e.model_dump().items():
            row[key] = json.dumps(value) if isinstance(value, (dict, list)) else value
        if isinstance(e, ContextEvent):
            row.update({f"section_{k}": v for k, v in e.sections.items()})
        rows.append(row)
    return rows


def score_rows(log: RunLog) -> list[dict[str, Any]]:
    """One row per score event, with its answer (probe scores), reply text (message scores, in
    `answer`) or memory text (memory scores), the agent's condition and model, and the sample
    it belongs to."""
    events = log.events
    samples = score_samples(events)
    probes: dict[tuple[Any, ...], ProbeEvent] = {
        (e.agent_id, e.round_id, e.probe_id, e.sample): e
        for e in events if isinstance(e, ProbeEvent)}
    memory = {e.seq: e for e in events if isinstance(e, MemoryEvent)}
    said: dict[tuple[str | None, str | None], str] = {
        (e.agent_id, e.message_id): e.content for e in events
        if isinstance(e, MessageEvent) and e.role == "assistant"}
    rows = []
    for e in events:
        if not isinstance(e, ScoreEvent):
            continue
        condition, model = agent_setup(log.spec, e.agent_id or "")
        sample = samples.get(e.seq)
        probe = probes.get((e.agent_id, e.round_id, e.probe_id, sample))
        mem = memory.get(e.memory_seq) if e.memory_seq is not None else None
        rows.append({
            "run_id": e.run_id, "experiment": log.experiment, "agent_id": e.agent_id,
            "condition": condition, "model": model, "seq": e.seq, "step": e.step,
            "target": e.target, "round_id": e.round_id, "probe_id": e.probe_id,
            "sample": sample, "trigger": probe.trigger if probe else None,
            "question": probe.question if probe else None,
            "answer": probe.answer if probe else said.get((e.agent_id, e.message_id)),
            "message_id": e.message_id, "memory_seq": e.memory_seq,
            "memory_kind": mem.kind if mem else None, "memory_text": mem.text if mem else None,
            "scorer": e.scorer, "scorer_version": e.scorer_version, "value": e.value,
            "explanation": e.explanation,
        })
    return rows


def export_parquet(path: Path, skipped: list[str] | None = None) -> list[Path]:
    """Write events.parquet and scores.parquet into every run directory at or under `path`
    (`skipped`: receives the runs left out for a damaged event log; see `load_runs`).

    Returns:
        The files written.

    Raises:
        MissingDependency: pandas or pyarrow is not installed.
        RunDirError: no runs, no events, or a corrupt event log.
    """
    pa, pq = _pyarrow()
    written = []
    for log in load_runs(path, skipped):
        for name, rows, columns in ((EVENTS_PARQUET, event_rows(log.events), None),
                                    (SCORES_PARQUET, score_rows(log), SCORE_COLUMNS)):
            names = list(columns or dict.fromkeys(k for row in rows for k in row))
            # Column by column, so each column's type is inferred from all its values.
            rows = [redact_data(row) for row in rows]  # runs recorded before masking
            table = pa.table({n: pa.array([row.get(n) for row in rows]) for n in names})
            target = log.path / name
            pq.write_table(table, target)
            written.append(target)
    return written
