"""Memory events: the probe rounds around each, event deltas, memory-text scores, context."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from statistics import mean

from scaffold.events import ContextEvent, Event, MemoryEvent, ProbeEvent, ScoreEvent
from scaffold.metrics._index import INDEX, answer_index
from scaffold.metrics._models import (
    ContextPoint,
    CurvePoint,
    EventDelta,
    KindDelta,
    MemoryRecord,
)


@dataclass
class _Pairing:
    """One agent's walk state: before rounds not yet claimed, the event awaiting its after."""

    step: int = -1
    before: deque[str] = field(default_factory=deque)
    awaiting: MemoryEvent | None = None


def bracket_rounds(events: list[Event]) -> dict[int, tuple[str | None, str | None]]:
    """For each probed memory event (by seq): its (before round, after round) ids.

    The after round is the after_memory round that follows the event before any other memory
    event of that agent; memory events without one were not probed and are left out. Before
    rounds are claimed first-in first-out among the before_memory rounds of the same step, as a
    compaction probes before each of its operations and then records them in order.
    """
    state: dict[str, _Pairing] = defaultdict(_Pairing)
    started: set[tuple[str, str]] = set()
    out: dict[int, tuple[str | None, str | None]] = {}
    for e in events:
        if not e.agent_id:
            continue
        s = state[e.agent_id]
        if isinstance(e, MemoryEvent):
            s.awaiting = e
        elif isinstance(e, ProbeEvent) and (e.agent_id, e.round_id) not in started:
            started.add((e.agent_id, e.round_id))
            if e.step != s.step:
                s.step, s.before = e.step, deque()
            if e.trigger == "before_memory":
                s.before.append(e.round_id)
            elif e.trigger == "after_memory" and s.awaiting is not None:
                mem = s.awaiting
                before = s.before.popleft() if s.before and mem.step == s.step else None
                out[mem.seq] = (before, e.round_id)
                s.awaiting = None
    return out


def event_deltas(memory: list[MemoryEvent], brackets: dict[int, tuple[str | None, str | None]],
                 curve: list[CurvePoint]) -> list[EventDelta]:
    """After-minus-before scores for one agent's probed memory events on one scorer's curve."""
    value = {p.round_id: p.value for p in curve}
    out = []
    for m in memory:
        if m.seq not in brackets:
            continue
        before_id, after_id = brackets[m.seq]
        before = value.get(before_id) if before_id else None
        after = value.get(after_id) if after_id else None
        delta = after - before if before is not None and after is not None else None
        out.append(EventDelta(memory_seq=m.seq, step=m.step, kind=m.kind, status=m.status,
                              before_round=before_id, after_round=after_id, before=before,
                              after=after, delta=delta))
    return out


def delta_by_kind(deltas: list[EventDelta]) -> list[KindDelta]:
    """Mean delta per memory event kind; failed events count under `<kind>:failed`."""
    groups: dict[str, list[float]] = defaultdict(list)
    for d in deltas:
        key = d.kind if d.status == "ok" else f"{d.kind}:failed"
        groups[key]  # list the kind even when no delta could be computed
        if d.delta is not None:
            groups[key].append(d.delta)
    return [KindDelta(kind=k, mean=mean(v) if v else None, n=len(v))
            for k, v in sorted(groups.items())]


def memory_records(events: list[Event], agent_id: str) -> list[MemoryRecord]:
    """The agent's memory events, each with the scores of its text (target memory) and their
    identity index (`index`, when any scorer scored the text; see `answer_index`)."""
    scores: dict[int, dict[str, ScoreEvent]] = defaultdict(dict)
    for e in events:
        if isinstance(e, ScoreEvent) and e.target == "memory" and e.memory_seq is not None:
            scores[e.memory_seq][e.scorer] = e  # the latest: a re-score replaces
    return [
        MemoryRecord(seq=e.seq, step=e.step, kind=e.kind, status=e.status, backend=e.backend,
                     author=e.author, tokens_before=e.tokens_before,
                     tokens_after=e.tokens_after, text=e.text,
                     scores=_with_index(scores.get(e.seq, {})))
        for e in events if isinstance(e, MemoryEvent) and e.agent_id == agent_id
    ]


def _with_index(scores: dict[str, ScoreEvent]) -> dict[str, float | None]:
    out = {name: e.value for name, e in scores.items()}
    if scores:
        out[INDEX] = answer_index([(n, e.value, e.explanation) for n, e in scores.items()])
    return out


def context_series(events: list[Event], agent_id: str) -> list[ContextPoint]:
    """Tokens per context section, one point per step (its last context event)."""
    by_step: dict[int, ContextEvent] = {}
    for e in events:
        if isinstance(e, ContextEvent) and e.agent_id == agent_id:
            by_step[e.step] = e
    return [ContextPoint(step=s, sections=dict(e.sections), total_tokens=e.total_tokens,
                         budget_tokens=e.budget_tokens) for s, e in sorted(by_step.items())]
