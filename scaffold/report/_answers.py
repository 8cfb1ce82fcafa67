"""Probe answers grouped by round: the table every plotted point links to."""

from __future__ import annotations

from dataclasses import dataclass, field

from scaffold.events import Event, ProbeEvent
from scaffold.metrics import answer_scores
from scaffold.report._tables import Cell, fmt, round_anchor


@dataclass
class RoundBlock:
    """One probe round's answers, under the anchor its plotted points link to."""

    anchor: str
    agent_id: str
    round_id: str
    step: int
    trigger: str
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class AnswerTable:
    """All rounds of one agent, with the scorer columns they share."""

    headers: list[str]
    rounds: list[RoundBlock] = field(default_factory=list)


def answer_tables(run_id: str, events: list[Event]) -> dict[str, AnswerTable]:
    """Per agent: every probe answer with its scores, grouped by round in log order."""
    scores = answer_scores(events)
    by_answer: dict[tuple[str, str, str, int], dict[str, Cell]] = {}
    for s in scores:
        cell = Cell(fmt(s.value), title=s.explanation or None)
        by_answer.setdefault((s.agent_id, s.round_id, s.probe_id, s.sample), {})[s.scorer] = cell
    scorers = list(dict.fromkeys(s.scorer for s in scores))
    tables: dict[str, AnswerTable] = {}
    blocks: dict[tuple[str, str], RoundBlock] = {}
    for e in events:
        if not (isinstance(e, ProbeEvent) and e.agent_id):
            continue
        table = tables.setdefault(
            e.agent_id, AnswerTable(["probe", "sample", "question", "answer", *scorers]))
        block = blocks.get((e.agent_id, e.round_id))
        if block is None:
            block = RoundBlock(round_anchor(run_id, e.round_id), e.agent_id, e.round_id,
                               e.step, e.trigger)
            blocks[(e.agent_id, e.round_id)] = block
            table.rounds.append(block)
        got = by_answer.get((e.agent_id, e.round_id, e.probe_id, e.sample), {})
        block.rows.append([Cell(e.probe_id), Cell(str(e.sample)), Cell(e.question),
                           Cell(e.answer), *(got.get(s, Cell("-")) for s in scorers)])
    return tables
