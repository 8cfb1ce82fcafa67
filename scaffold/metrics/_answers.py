"""Probe rounds and per-answer scores, rebuilt from the event log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from scaffold.events import Event, MemoryEvent, MessageEvent, ProbeEvent, ScoreEvent

REPLY_TRIGGER = "reply"
"""Trigger of the points of reply curves (one point per assistant reply)."""
MEMORY_TRIGGER = "memory"
"""Trigger of the points of memory-text curves (one point per scored memory text)."""


@dataclass(frozen=True)
class ProbeRound:
    """A probe round as the log shows it: where it started and why. Reply curves use the same
    shape: one 'round' per assistant reply, its id the message id, its trigger `reply`."""

    agent_id: str
    round_id: str
    step: int
    trigger: str
    seq: int
    """Seq of the round's first probe event: rounds are ordered by it."""


@dataclass(frozen=True)
class AnswerScore:
    """One scorer's value for one sampled answer to one probe."""

    agent_id: str
    round_id: str
    probe_id: str
    sample: int
    scorer: str
    value: float | None
    seq: int
    explanation: str = ""


def probe_rounds(events: list[Event]) -> dict[tuple[str, str], ProbeRound]:
    """Rounds keyed by (agent id, round id), in log order."""
    rounds: dict[tuple[str, str], ProbeRound] = {}
    for e in events:
        if isinstance(e, ProbeEvent) and e.agent_id:
            key = (e.agent_id, e.round_id)
            if key not in rounds:
                rounds[key] = ProbeRound(e.agent_id, e.round_id, e.step, e.trigger, e.seq)
    return rounds


def score_samples(events: list[Event]) -> dict[int, int]:
    """The sample each probe score event belongs to, by the score event's seq.

    Score events carry no sample number: the k-th score of a (round, probe) by one scorer
    version belongs to sample k, counted modulo the samples asked, so a later re-score of the
    same answers maps onto the same samples instead of inventing new ones.
    """
    asked: dict[tuple[str, str, str], int] = defaultdict(int)
    for e in events:
        if isinstance(e, ProbeEvent) and e.agent_id:
            asked[(e.agent_id, e.round_id, e.probe_id)] += 1
    seen: dict[tuple[str, ...], int] = defaultdict(int)
    out: dict[int, int] = {}
    for e in events:
        if isinstance(e, ScoreEvent) and e.target == "probe" and e.agent_id \
                and e.round_id and e.probe_id:
            key = (e.agent_id, e.round_id, e.probe_id, e.scorer, e.scorer_version)
            out[e.seq] = seen[key] % max(1, asked.get(key[:3], 1))
            seen[key] += 1
    return out


def answer_scores(events: list[Event]) -> list[AnswerScore]:
    """Scores of probe answers, one per (agent, round, probe, sample, scorer): the latest."""
    samples = score_samples(events)
    latest: dict[tuple[str, str, str, int, str], AnswerScore] = {}
    for e in events:
        if isinstance(e, ScoreEvent) and e.seq in samples:
            # in `samples` only if agent, round and probe are all set
            agent, round_id, probe = str(e.agent_id), str(e.round_id), str(e.probe_id)
            sample = samples[e.seq]
            latest[(agent, round_id, probe, sample, e.scorer)] = AnswerScore(
                agent, round_id, probe, sample, e.scorer, e.value, e.seq, e.explanation)
    return sorted(latest.values(), key=lambda s: s.seq)


def scorer_names(scores: list[AnswerScore]) -> list[str]:
    """Scorers present, in order of first appearance."""
    return list(dict.fromkeys(s.scorer for s in scores))


def replies(events: list[Event]) -> dict[tuple[str, str], ProbeRound]:
    """Assistant replies keyed by (agent id, message id), as one-answer rounds (trigger
    `reply`), in log order."""
    out: dict[tuple[str, str], ProbeRound] = {}
    for e in events:
        if isinstance(e, MessageEvent) and e.role == "assistant" and e.agent_id:
            out.setdefault((e.agent_id, e.message_id),
                           ProbeRound(e.agent_id, e.message_id, e.step, REPLY_TRIGGER, e.seq))
    return out


def memory_texts(events: list[Event]) -> dict[tuple[str, str], ProbeRound]:
    """Memory events keyed by (agent id, `memory-<seq>`), as one-answer rounds (trigger
    `memory`): the texts a memory wrote (summaries, notes, facts...), in log order."""
    return {(e.agent_id, f"memory-{e.seq}"):
            ProbeRound(e.agent_id, f"memory-{e.seq}", e.step, MEMORY_TRIGGER, e.seq)
            for e in events if isinstance(e, MemoryEvent) and e.agent_id}


def memory_text_scores(events: list[Event]) -> list[AnswerScore]:
    """Scores of memory texts (target `memory`), one per (agent, memory event, scorer): the
    latest, so a re-score replaces the original."""
    latest: dict[tuple[str, int, str], AnswerScore] = {}
    for e in events:
        if isinstance(e, ScoreEvent) and e.target == "memory" and e.agent_id \
                and e.memory_seq is not None:
            latest[(e.agent_id, e.memory_seq, e.scorer)] = AnswerScore(
                e.agent_id, f"memory-{e.memory_seq}", MEMORY_TRIGGER, 0, e.scorer, e.value,
                e.seq, e.explanation)
    return sorted(latest.values(), key=lambda s: s.seq)


def reply_scores(events: list[Event]) -> list[AnswerScore]:
    """Scores of assistant replies (target `message`), one per (agent, message, scorer): the
    latest, so a re-score replaces the original."""
    latest: dict[tuple[str, str, str], AnswerScore] = {}
    for e in events:
        if isinstance(e, ScoreEvent) and e.target == "message" and e.agent_id and e.message_id:
            latest[(e.agent_id, e.message_id, e.scorer)] = AnswerScore(
                e.agent_id, e.message_id, REPLY_TRIGGER, 0, e.scorer, e.value, e.seq,
                e.explanation)
    return sorted(latest.values(), key=lambda s: s.seq)
