"""End-of-run numbers read from the event log: counts, then per scorer and target its scores."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

from scaffold.activations.details import activation_cost
from scaffold.events import Event, MemoryEvent, ProbeEvent
from scaffold.metrics import (
    BREAK_THRESHOLD,
    INDEX,
    MetricsSettings,
    RunLog,
    ScorerMetrics,
    run_metrics,
)

TARGETS = (("message", "replies"), ("probe", "probes"), ("memory", "memory"))
"""Score targets in table order, with the names the table gives them."""


class SeriesSummary(BaseModel):
    """One scorer's (or the index's) scores of one agent on one target."""

    scorer: str
    target: str
    """`replies`, `probes` or `memory`."""
    n: int
    """Points scored: replies, probe rounds or memory texts."""
    first: float | None = None
    last: float | None = None
    min: float | None = None
    first_below_half: int | None = None
    """First step whose point fell below 0.5 (None if never)."""


class AgentSummary(BaseModel):
    """One agent's headline numbers."""

    agent_id: str
    steps: int = 0
    summaries: int = 0
    failed_summaries: int = 0
    memory_events: int = 0
    probe_rounds: int = 0
    replies_scored: int = 0
    series: list[SeriesSummary] = Field(default_factory=list)
    """Index first, then each scorer; per target: replies, probes, memory."""
    activation_tokens: int = 0
    """Tokens the activation scorer's reader evaluated for this agent (0: no activation)."""
    activation_seconds: float = 0.0
    """Seconds the activation scorer's reader spent for this agent."""


def _series(scorer: str, target: str, points: list[tuple[int, float]]) -> SeriesSummary:
    values = [v for _, v in points]
    return SeriesSummary(
        scorer=scorer, target=target, n=len(points),
        first=values[0] if values else None, last=values[-1] if values else None,
        min=min(values) if values else None,
        first_below_half=next((s for s, v in points if v < BREAK_THRESHOLD), None))


def _points(metrics: ScorerMetrics) -> list[tuple[int, float]]:
    return [(p.step, p.value) for p in metrics.curve if p.trigger != "reprobe"]


def _order(names: list[str]) -> list[str]:
    return sorted(dict.fromkeys(names), key=lambda n: (n != INDEX, names.index(n)))


def summarize_run(events: list[Event]) -> list[AgentSummary]:
    """Headline numbers per agent, with the identity index and every scorer on each target
    (the same curves as `scaffold report`, unsmoothed)."""
    agents: dict[str, AgentSummary] = {}
    rounds: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if not e.agent_id:
            continue
        s = agents.setdefault(e.agent_id, AgentSummary(agent_id=e.agent_id))
        s.steps = max(s.steps, e.step)
        if isinstance(e, MemoryEvent):
            s.memory_events += 1
            if e.kind == "summarize":
                s.summaries += e.status == "ok"
                s.failed_summaries += e.status == "failed"
        elif isinstance(e, ProbeEvent):
            rounds[e.agent_id].add(e.round_id)
    for (agent_id, _), (tokens, seconds) in activation_cost(events).items():
        if agent_id:
            s = agents.setdefault(agent_id, AgentSummary(agent_id=agent_id))
            s.activation_tokens += tokens
            s.activation_seconds += seconds
    metrics = run_metrics(RunLog(Path("."), events), MetricsSettings())
    for a in metrics.agents:
        s = agents.setdefault(a.agent_id, AgentSummary(agent_id=a.agent_id))
        s.probe_rounds = len(rounds.get(a.agent_id, ()))
        memory: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for m in a.memory:
            for scorer, value in m.scores.items():
                if value is not None:
                    memory[scorer].append((m.step, value))
        by_target = {"replies": {n: _points(c) for n, c in a.replies.items()},
                     "probes": {n: _points(c) for n, c in a.scorers.items()
                                if not n.endswith(")")},  # re-probes have their own table
                     "memory": dict(memory)}
        s.replies_scored = len(by_target["replies"].get(INDEX, []))
        names = _order([n for series in by_target.values() for n in series])
        s.series = [_series(name, target, by_target[target][name])
                    for name in names for _, target in TARGETS if name in by_target[target]]
    return list(agents.values())


def summary_rows(summaries: list[AgentSummary]) -> list[tuple[str, list[str]]]:
    """The end-of-run table as (label, one cell per agent) rows: counts, then one row per
    scorer and target: 'first / last / min, first step below 0.5'."""
    rows: list[tuple[str, list[str]]] = [
        ("steps", [str(s.steps) for s in summaries]),
        ("summaries (failed)", [f"{s.summaries} ({s.failed_summaries})" for s in summaries]),
        ("probe rounds", [str(s.probe_rounds) for s in summaries]),
        ("replies scored", [str(s.replies_scored) for s in summaries]),
    ]
    if any(s.activation_tokens for s in summaries):
        rows.append(("activation reading: s per step (tokens)",
                     [f"{s.activation_seconds / max(s.steps, 1):.2f} ({s.activation_tokens})"
                      for s in summaries]))
    keys = list(dict.fromkeys((x.scorer, x.target) for s in summaries for x in s.series))
    for scorer, target in keys:
        found = [next((x for x in s.series if (x.scorer, x.target) == (scorer, target)), None)
                 for s in summaries]
        rows.append((f"{scorer} · {target} first/last/min, < 0.5 at", [_cell(x) for x in found]))
    return rows


def _cell(x: SeriesSummary | None) -> str:
    if x is None or x.first is None or x.last is None or x.min is None:
        return "-"
    below = "never" if x.first_below_half is None else f"step {x.first_below_half}"
    return f"{x.first:.2f} / {x.last:.2f} / {x.min:.2f}, {below}"
