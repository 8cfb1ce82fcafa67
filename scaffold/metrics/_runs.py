"""Finding run directories, reading their event logs, and computing metrics per run and overall."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from scaffold.errors import RunDirError
from scaffold.events import Event, MemoryEvent, RunEnd, RunStart
from scaffold.metrics._activation import activation_deltas, activation_points
from scaffold.metrics._agreement import scorer_agreement
from scaffold.metrics._answers import (
    answer_scores,
    memory_text_scores,
    memory_texts,
    probe_rounds,
    replies,
    reply_scores,
)
from scaffold.metrics._conditions import condition_metrics
from scaffold.metrics._contrasts import condition_contrasts
from scaffold.metrics._curves import (
    REPLY_BREAK_SCORERS,
    find_breaks,
    half_life,
    identity_curves,
)
from scaffold.metrics._groups import group_label
from scaffold.metrics._index import index_scores
from scaffold.metrics._memory import (
    bracket_rounds,
    context_series,
    delta_by_kind,
    event_deltas,
    memory_records,
)
from scaffold.metrics._models import (
    AgentMetrics,
    MetricsSettings,
    ReportMetrics,
    RunMetrics,
    ScorerMetrics,
)
from scaffold.metrics._provenance import reader_settings
from scaffold.recorder import EVENTS_FILE, PACKED_EVENTS_FILE, event_log, read_events


@dataclass(frozen=True)
class RunLog:
    """A run directory's event log, read once and shared by metrics and the report."""

    path: Path
    events: list[Event]

    @property
    def run_id(self) -> str:
        """The run id from the log, else the directory name."""
        return self.events[0].run_id if self.events else self.path.name

    @property
    def spec(self) -> dict[str, Any]:
        """The resolved spec of the first run_start event ({} if there is none)."""
        return next((e.spec for e in self.events if isinstance(e, RunStart)), {})

    @property
    def experiment(self) -> str:
        """Experiment name from the spec, else from manifest.json if present, else ''."""
        name = self.spec.get("name")
        if name:
            return str(name)
        return str(self.manifest.get("experiment", ""))

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """manifest.json as recorded (read once; {} when missing or unreadable): read as plain
        data, so manifests of other versions load too."""
        try:
            data = json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def find_run_dirs(path: Path) -> list[Path]:
    """Run directories at or under `path` (any directory holding an events.jsonl, or an
    events.jsonl.gz: see `recorder.event_log`).

    Raises:
        RunDirError: `path` does not exist or holds no event log.
    """
    if not path.is_dir():
        raise RunDirError(f"no such directory: {path}")
    if any((path / name).is_file() for name in (EVENTS_FILE, PACKED_EVENTS_FILE)):
        return [path]
    found = sorted({p.parent for name in (EVENTS_FILE, PACKED_EVENTS_FILE)
                    for p in path.rglob(name) if p.is_file()})
    if not found:
        raise RunDirError(f"no runs under {path}: no {EVENTS_FILE} found")
    return found


def load_runs(path: Path, skipped: list[str] | None = None) -> list[RunLog]:
    """Read every run's event log under `path`; runs with an empty log are skipped.

    Args:
        path: a run directory or a directory of runs.
        skipped: when given, a run whose log is damaged is left out and its reason appended
            here (the other runs are still read); otherwise a damaged log is an error.

    Raises:
        RunDirError: no directory, no event log, every log empty, or a corrupt log.
    """
    logs = []
    for run_dir in find_run_dirs(path):
        try:
            logs.append(RunLog(run_dir, read_events(event_log(run_dir))))
        except RunDirError as exc:
            if skipped is None:
                raise
            skipped.append(str(exc))
    logs = [log for log in logs if log.events]
    if not logs and skipped:
        raise RunDirError(skipped[0] if len(skipped) == 1 else
                          f"no readable runs under {path}: {'; '.join(skipped)}")
    if not logs:
        raise RunDirError(f"no events under {path}: every {EVENTS_FILE} is empty")
    return logs


def agent_setup(spec: dict[str, Any], agent_id: str) -> tuple[str, str]:
    """(memory condition, model) of an agent from the run spec; 'unknown' where absent. Runs of
    another task than a conversation are their own condition, e.g. 'summary [coding]'."""
    agent: dict[str, Any] = next(
        (a for a in spec.get("agents", []) if a.get("id") == agent_id), {})
    memory = agent.get("memory") or {}
    backends = memory.get("backends") or []
    condition = "+".join(backends) if backends else memory.get("condition") or "unknown"
    kind = (spec.get("task") or {}).get("kind", "conversation")
    if kind != "conversation":
        condition = f"{condition} [{kind}]"
    return str(condition), str(agent.get("model") or spec.get("model") or "unknown")


def run_status(events: list[Event]) -> str:
    """How the run's latest segment ended; `running` when it has not (yet) ended."""
    last = next((e for e in reversed(events) if isinstance(e, (RunStart, RunEnd))), None)
    return last.status if isinstance(last, RunEnd) else "running"


def _agent_ids(events: list[Event]) -> list[str]:
    return list(dict.fromkeys(e.agent_id for e in events if e.agent_id))


def _run_seed(events: list[Event]) -> int | None:
    return next((e.seed for e in events if isinstance(e, RunStart)), None)


def run_metrics(log: RunLog, settings: MetricsSettings) -> RunMetrics:
    """Metrics of one run: per agent, per scorer and the identity index, on probe rounds and on
    replies, plus scorer agreement on probe answers."""
    events = log.events
    scores = answer_scores(events)
    window = settings.smooth_steps
    curves = identity_curves(probe_rounds(events), scores + index_scores(scores), window)
    said = reply_scores(events)
    reply_curves = identity_curves(replies(events), said + index_scores(said), window)
    written = memory_text_scores(events)
    memory_curves = identity_curves(memory_texts(events), written + index_scores(written),
                                    window)
    brackets = bracket_rounds(events)
    agents = []
    for agent_id in _agent_ids(events):
        if settings.agents and agent_id not in settings.agents:
            continue
        condition, model = agent_setup(log.spec, agent_id)
        condition = group_label(log.spec, agent_id, condition, _run_seed(events),
                                settings.group_by)
        memory = [e for e in events if isinstance(e, MemoryEvent) and e.agent_id == agent_id]
        by_scorer = {}
        for scorer, curve in curves.get(agent_id, {}).items():
            deltas = event_deltas(memory, brackets, curve)
            by_scorer[scorer] = ScorerMetrics(
                scorer=scorer, smooth_steps=window, curve=curve, half_life=half_life(curve),
                event_deltas=deltas, delta_by_kind=delta_by_kind(deltas))
        by_reply = {scorer: ScorerMetrics(scorer=scorer, target="message", smooth_steps=window,
                                          curve=curve, half_life=half_life(curve))
                    for scorer, curve in reply_curves.get(agent_id, {}).items()}
        by_text = {scorer: ScorerMetrics(scorer=scorer, target="memory", smooth_steps=window,
                                         curve=curve, half_life=half_life(curve))
                   for scorer, curve in memory_curves.get(agent_id, {}).items()}
        agents.append(AgentMetrics(
            run_id=log.run_id, agent_id=agent_id, condition=condition, model=model,
            seed=_run_seed(events),
            steps=max((e.step for e in events if e.agent_id == agent_id), default=0),
            scorers=by_scorer, replies=by_reply, memory_texts=by_text, breaks=find_breaks(curves.get(agent_id, {})),
            reply_breaks=find_breaks(reply_curves.get(agent_id, {}), REPLY_BREAK_SCORERS),
            memory=memory_records(events, agent_id), context=context_series(events, agent_id),
            activation_deltas=activation_deltas(events, agent_id, brackets),
            activation=activation_points(events, agent_id)))
    return RunMetrics(run_id=log.run_id, experiment=log.experiment, path=str(log.path),
                      status=run_status(events), agents=agents,
                      agreement=scorer_agreement(scores))


def report_metrics(logs: list[RunLog], source: Path | str,
                   settings: MetricsSettings | None = None,
                   skipped: list[str] | None = None) -> ReportMetrics:
    """Metrics of every run and every condition across runs (`skipped`: runs left out, with
    the reason, as `load_runs` reported them)."""
    settings = settings or MetricsSettings()
    runs = [run_metrics(log, settings) for log in logs]
    agents = [a for r in runs for a in r.agents]
    conditions = condition_metrics(agents, settings)
    return ReportMetrics(source=str(source), settings=settings, runs=runs,
                         conditions=conditions,
                         contrasts=condition_contrasts(conditions, settings),
                         activation_readers=reader_settings(logs),
                         skipped=list(skipped or []))


def compute_metrics(path: Path, settings: MetricsSettings | None = None) -> ReportMetrics:
    """Read the runs at or under `path` and compute all metrics.

    Raises:
        RunDirError: see `load_runs`.
    """
    return report_metrics(load_runs(path), path, settings)
