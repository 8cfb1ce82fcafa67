"""Inspect AI logs of runs: one `.eval` file per run, readable by `inspect view`.

A run maps onto Inspect's log format like this:
- the eval is the run (task = experiment name, model = the run's model, the spec in metadata);
- each agent is a sample (id = agent id): its messages are the transcript (system prompt
  first), its scores one `Score` per scorer and target (mean, last and min value with n);
- memory operations and probe rounds are sample events: each memory event an `InfoEvent`
  (source `scaffold/memory`) with kind, status, tokens and text, each probe answer an
  `InfoEvent` (source `scaffold/probe`) followed by one `ScoreEvent` per scorer.

Needs the `inspect-ai` package (`pip install inspect-ai`); it is imported only here.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scaffold.errors import ScaffoldError
from scaffold.events import (
    Event,
    MemoryEvent,
    MessageEvent,
    ProbeEvent,
    RunEnd,
    ScoreEvent,
)
from scaffold.metrics import load_runs
from scaffold.recorder import RunManifest, RunRecorder
from scaffold.redact import redact_data

INSPECT_STATUS = {"done": "success", "failed": "error", "interrupted": "cancelled",
                  "running": "started"}
"""Run status -> Inspect's eval status."""


def _inspect() -> Any:
    try:
        import inspect_ai.log as inspect_log
    except ImportError:
        raise ScaffoldError("exporting Inspect logs needs the inspect-ai package: "
                            "pip install inspect-ai") from None
    return inspect_log


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _chat_message(event: MessageEvent) -> Any:
    from inspect_ai.model import (
        ChatMessageAssistant,
        ChatMessageSystem,
        ChatMessageTool,
        ChatMessageUser,
    )

    meta = {"step": event.step, "author": event.author, "seq": event.seq}
    if event.role == "assistant":
        return ChatMessageAssistant(id=event.message_id, content=event.content, metadata=meta,
                                    source="generate")
    if event.role == "tool":
        return ChatMessageTool(id=event.message_id, content=event.content, metadata=meta,
                               tool_call_id=event.tool_call_id)
    if event.role == "system":
        return ChatMessageSystem(id=event.message_id, content=event.content, metadata=meta)
    return ChatMessageUser(id=event.message_id, content=event.content, metadata=meta)


def _sample_scores(scores: list[ScoreEvent]) -> dict[str, Any]:
    """One Inspect `Score` per (scorer, target): mean, last and min of the scored values."""
    from inspect_ai.scorer import Score

    by_key: dict[str, list[float]] = defaultdict(list)
    for score in scores:
        if score.value is not None and score.rescore is None:
            by_key[f"{score.scorer}/{score.target}"].append(score.value)
    return {key: Score(value={"mean": statistics.fmean(values), "last": values[-1],
                              "min": min(values)},
                       explanation=f"{len(values)} scored texts ({key.split('/')[1]})",
                       metadata={"n": len(values)})
            for key, values in sorted(by_key.items())}


def _sample_events(events: list[Event]) -> list[Any]:
    """Memory operations and probe answers with their scores, in the run's order."""
    from inspect_ai.event import InfoEvent
    from inspect_ai.event import ScoreEvent as InspectScoreEvent
    from inspect_ai.scorer import Score

    out: list[Any] = []
    for event in events:
        when = _when(event.ts)
        if isinstance(event, MemoryEvent):
            out.append(InfoEvent(timestamp=when, source="scaffold/memory", data={
                "step": event.step, "kind": event.kind, "backend": event.backend,
                "status": event.status, "reason": event.reason,
                "tokens_before": event.tokens_before, "tokens_after": event.tokens_after,
                "text": event.text, "author": event.author, "seq": event.seq}))
        elif isinstance(event, ProbeEvent):
            out.append(InfoEvent(timestamp=when, source="scaffold/probe", data={
                "step": event.step, "round": event.round_id, "trigger": event.trigger,
                "probe": event.probe_id, "question": event.question, "answer": event.answer,
                "sample": event.sample}))
        elif isinstance(event, ScoreEvent) and event.value is not None:
            out.append(InspectScoreEvent(
                timestamp=when, intermediate=True, scorer=event.scorer,
                target=event.target,
                score=Score(value=event.value, explanation=event.explanation,
                            metadata={"step": event.step, "target": event.target,
                                      "round": event.round_id, "probe": event.probe_id,
                                      "message": event.message_id,
                                      "memory_seq": event.memory_seq})))
    return out


def _sample(agent_id: str, events: list[Event], spec: dict[str, Any]) -> Any:
    from inspect_ai.log import EvalSample
    from inspect_ai.model import ChatMessageSystem

    agent: dict[str, Any] = next((a for a in spec.get("agents", []) if a.get("id") == agent_id), {})
    persona = (spec.get("personas") or {}).get(agent.get("persona"), {})
    messages = [_chat_message(e) for e in events if isinstance(e, MessageEvent)]
    identity = str(persona.get("identity", ""))
    first_user = next((m.text for m in messages if m.role == "user"), "")
    return EvalSample(
        id=agent_id, epoch=1, input=first_user or identity, target=str(persona.get("name", "")),
        messages=[ChatMessageSystem(content=identity), *messages] if identity else messages,
        scores=_sample_scores([e for e in events if isinstance(e, ScoreEvent)]),
        metadata={"persona": agent.get("persona"), "memory": agent.get("memory"),
                  "steps": max((e.step for e in events), default=0)},
        events=_sample_events(events))


def run_to_eval_log(run_dir: Path, events: list[Event]) -> Any:
    """The Inspect `EvalLog` of one run directory and its events.

    Raises:
        ScaffoldError: the run has no manifest, or inspect-ai is missing.
    """
    inspect_log = _inspect()
    manifest: RunManifest | None = RunRecorder(run_dir).read_manifest()
    if manifest is None:
        raise ScaffoldError(f"{run_dir}: no manifest.json (not a run directory)")
    # runs recorded before keys were masked at the model boundary
    events = [type(e).model_validate(redact_data(e.model_dump())) for e in events]
    by_agent: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.agent_id is not None:
            by_agent[event.agent_id].append(event)
    spec = manifest.spec
    samples = [_sample(agent_id, agent_events, spec)
               for agent_id, agent_events in by_agent.items()]
    end = next((e for e in reversed(events) if isinstance(e, RunEnd)), None)
    eval_spec = inspect_log.EvalSpec(
        created=_when(manifest.created_at).isoformat(), task=manifest.experiment,
        task_id=manifest.run_id, run_id=manifest.run_id, model=str(spec.get("model", "")),
        dataset=inspect_log.EvalDataset(name=manifest.experiment, samples=len(samples),
                                        sample_ids=[s.id for s in samples]),
        config=inspect_log.EvalConfig(), metadata={"scaffold_spec": spec, "seed": manifest.seed,
                                                  "versions": manifest.versions})
    return inspect_log.EvalLog(
        eval=eval_spec, status=INSPECT_STATUS.get(manifest.status, "started"),
        samples=samples, stats=inspect_log.EvalStats(
            started_at=_when(manifest.created_at).isoformat(),
            completed_at=_when(end.ts if end else manifest.updated_at).isoformat()),
        metadata={"steps_done": manifest.steps_done, "tracker_errors": manifest.tracker_errors})


def export_inspect(path: Path, skipped: list[str] | None = None) -> list[Path]:
    """Write `<run id>.eval` (Inspect's log format) into every run directory at or under
    `path` (`skipped`: receives the runs left out for a damaged event log).

    Returns:
        The files written.

    Raises:
        ScaffoldError: inspect-ai is missing, or no runs (see `load_runs`).
    """
    inspect_log = _inspect()
    written = []
    for log in load_runs(path, skipped):
        target = log.path / f"{log.path.name}.eval"
        inspect_log.write_eval_log(run_to_eval_log(log.path, log.events), str(target))
        written.append(target)
    return written
