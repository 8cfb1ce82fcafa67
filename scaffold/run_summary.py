"""End-of-run numbers read from the event log: steps, summaries, probe rounds, identity scores."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from pydantic import BaseModel

from scaffold.events import Event, MemoryEvent, ProbeEvent, ScoreEvent


class AgentSummary(BaseModel):
    """One agent's headline numbers."""

    agent_id: str
    steps: int = 0
    summaries: int = 0
    failed_summaries: int = 0
    memory_events: int = 0
    probe_rounds: int = 0
    score_first: float | None = None
    score_last: float | None = None
    score_min: float | None = None
    first_below_half: int | None = None
    """First step whose round score fell below 0.5 (None if never)."""


def round_scores(events: list[Event], scorer: str = "rules") -> dict[str, list[tuple[int, float]]]:
    """Per agent, (step, mean score of the round) in event order, for one scorer."""
    by_round: dict[tuple[str, str], list[float]] = defaultdict(list)
    round_step: dict[tuple[str, str], int] = {}
    for e in events:
        if isinstance(e, ScoreEvent) and e.target == "probe" and e.scorer == scorer \
                and e.value is not None and e.agent_id and e.round_id:
            key = (e.agent_id, e.round_id)
            by_round[key].append(e.value)
            round_step.setdefault(key, e.step)
    out: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (agent, round_id), values in by_round.items():
        out[agent].append((round_step[(agent, round_id)], mean(values)))
    return out


def summarize_run(events: list[Event]) -> list[AgentSummary]:
    """Headline numbers per agent."""
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
    for agent, series in round_scores(events).items():
        if agent not in agents or not series:
            continue
        s = agents[agent]
        values = [v for _, v in series]
        s.score_first, s.score_last, s.score_min = values[0], values[-1], min(values)
        s.first_below_half = next((step for step, v in series if v < 0.5), None)
    for agent, ids in rounds.items():
        agents[agent].probe_rounds = len(ids)
    return list(agents.values())
