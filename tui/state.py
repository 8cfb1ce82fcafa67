"""What the TUI shows, built from run events alone: bounded per-agent buffers, runs, the log."""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from scaffold.config import CONDITIONS
from scaffold.events import (
    ContextEvent,
    ControlEvent,
    Event,
    MemoryEvent,
    MessageEvent,
    ProbeEvent,
    RunEnd,
    RunStart,
    ScoreEvent,
)
from scaffold.metrics import MemoryContents, agent_setup, axis_label, initial_files
from tui._curves import IDENTITY_SCORER as IDENTITY_SCORER  # re-exported
from tui._curves import SMOOTH_STEPS as SMOOTH_STEPS  # re-exported
from tui._curves import Curves, compute_curves
from tui._log_lines import LogLine, log_line
from tui.feed import FeedBatch

T = TypeVar("T")

MARKERS = {"summarize": "S", "summary_rewrite": "W", "retrieve": "R", "core_edit": "C",
           "note": "N", "truncate": "T", "budget": "B", "reflect": "E", "fact_add": "A",
           "fact_update": "U", "fact_delete": "D", "sleeptime_rewrite": "Z", "file_edit": "M",
           "file_open": "O", "file_close": "K"}
"""Built-in memory event kinds drawn on the drift chart, with their labels (E reflection,
A/U/D fact added/updated/deleted, Z sleep-time rewrite, M/O/K memory file edited/opened/
closed)."""
UNMARKED_KINDS = frozenset({"insert", "fact_extract", "importance"})
"""Memory kinds not drawn: they change no context and come every turn."""
ACTIVATION = "activation"
"""The activation scorer, whose line is named by the axis its values come from."""
OTHER_MARKER = "*"
"""Prefix of the label of a kind Scaffold does not know (a plugin's own), e.g. `*pin`."""
OTHER_LABEL_CHARS = 8
"""Characters of such a kind's name kept in its label."""


def marker_label(kind: str) -> str:
    """The drift chart's label for a memory event kind: a letter for built-in kinds,
    `*` and the kind's name for any other (a plugin's own kinds)."""
    return MARKERS.get(kind) or OTHER_MARKER + kind[:OTHER_LABEL_CHARS]


def is_other_kind(kind: str) -> bool:
    """Whether a memory event kind is none of Scaffold's own (so a plugin's)."""
    return kind not in MARKERS and kind not in UNMARKED_KINDS


@dataclass(frozen=True)
class Limits:
    """Caps on what is kept, so memory stays bounded however long the runs are."""

    transcript: int = 200
    """Messages kept per agent."""
    probes: int = 40
    """Probe rounds listed per agent."""
    rounds: int = 200
    """Probe rounds kept per agent for the curves."""
    markers: int = 400
    """Memory events kept per agent for the chart."""
    log: int = 500
    """Event log lines."""
    memories: int = 3
    """Retrieved blocks and notes kept per agent."""
    other_kinds: int = 8
    """Plugins' own memory event kinds whose latest text is kept per agent."""
    contents: int = 12
    """Memories, reflections, facts, block rewrites and edits per file kept per agent."""


class Stream(Generic[T]):
    """A bounded buffer that counts everything ever appended, so a view can take what is new."""

    def __init__(self, maxlen: int):
        self.items: deque[T] = deque(maxlen=maxlen)
        self.total = 0

    def append(self, item: T) -> None:
        """Add one item (the oldest drops out when full)."""
        self.items.append(item)
        self.total += 1

    def since(self, seen: int) -> list[T]:
        """Items appended after the first `seen`, as far as they are still kept."""
        new = min(self.total - seen, len(self.items))
        return list(itertools.islice(self.items, len(self.items) - new, None)) if new > 0 else []


@dataclass(frozen=True)
class Marker:
    """A memory event on the drift chart."""

    step: int
    kind: str
    ok: bool


@dataclass
class RoundView:
    """A probe round as listed beside the transcript: answers and mean score per scorer."""

    round_id: str
    step: int
    trigger: str
    answers: list[tuple[str, str]] = field(default_factory=list)
    """(probe id, answer) in the order asked."""
    scores: dict[str, list[float]] = field(default_factory=dict)

    def mean(self, scorer: str) -> float | None:
        """Mean score of the round's answers by one scorer (None if it scored none)."""
        values = self.scores.get(scorer)
        return sum(values) / len(values) if values else None


class AgentView:
    """One agent of one run, as far as the events tell, within `Limits`."""

    def __init__(self, run: RunView, agent_id: str, limits: Limits):
        self.run = run
        self.agent_id = agent_id
        self.key = f"{run.run_id}/{agent_id}"
        self.persona, self.condition = _persona_and_condition(run.spec, agent_id)
        self.step = 0
        self.limits = limits
        self.transcript: Stream[MessageEvent] = Stream(limits.transcript)
        self.probes: Stream[RoundView] = Stream(limits.probes)
        self.rounds: OrderedDict[str, list[ProbeEvent]] = OrderedDict()
        """Probe events of the kept rounds, by round id."""
        self.scores: dict[str, list[ScoreEvent]] = {}
        """Probe score events of the kept rounds (re-scores included), by round id."""
        self.said: OrderedDict[str, list[Event]] = OrderedDict()
        """Kept replies: each assistant message and its score events, by message id."""
        self.markers: deque[Marker] = deque(maxlen=limits.markers)
        self.summary = ""
        self.core: dict[str, str] = _initial_core(run.spec, agent_id)
        self.retrieved: deque[tuple[int, str]] = deque(maxlen=limits.memories)
        self.notes: deque[tuple[int, str]] = deque(maxlen=limits.memories)
        self.other: OrderedDict[str, tuple[int, str, str]] = OrderedDict()
        """Plugins' own event kinds: the latest (step, backend, text) of each, newest last."""
        self.labels: dict[str, str] = {}
        """How the chart names a scorer's line, e.g. `activation (assistant axis)`."""
        self.contents = MemoryContents(*initial_files(run.spec, agent_id),
                                       limit=limits.contents)
        """Memory stream, reflections, facts, block rewrites and files, as the events tell."""
        self.sections: dict[str, int] = {}
        self.total_tokens = 0
        self.budget_tokens = 0
        self.version = 0
        self._scored = 0
        """Bumped by probes and scores only: the curves' cache key."""
        self._open: RoundView | None = None
        self._curves: tuple[int, Curves] | None = None

    def apply(self, event: Event) -> None:
        """Take one event about this agent."""
        self.version += 1
        self.step = max(self.step, event.step)
        if self._open is not None and (
                isinstance(event, (MessageEvent, MemoryEvent, ContextEvent))
                or (isinstance(event, ProbeEvent) and event.round_id != self._open.round_id)):
            self.close_round()  # the round's answers and scores are all in
        if isinstance(event, MessageEvent):
            self.transcript.append(event)
            if event.role == "assistant":
                self._on_reply(event)
        elif isinstance(event, ProbeEvent):
            self._scored += 1
            self._on_probe(event)
        elif isinstance(event, ScoreEvent):
            self._scored += 1
            self._on_score(event)
        elif isinstance(event, MemoryEvent):
            self._on_memory(event)
        elif isinstance(event, ContextEvent):
            self.sections, self.total_tokens = dict(event.sections), event.total_tokens
            self.budget_tokens = event.budget_tokens

    def close_round(self) -> None:
        """List the open probe round (its answers and scores are complete)."""
        if self._open is not None:
            self.probes.append(self._open)
            self._open = None
            self.version += 1

    def _on_probe(self, e: ProbeEvent) -> None:
        if e.round_id not in self.rounds:
            self.rounds[e.round_id] = []
            self.scores[e.round_id] = []
            while len(self.rounds) > self.limits.rounds:
                old, _ = self.rounds.popitem(last=False)
                self.scores.pop(old, None)
        self.rounds[e.round_id].append(e)
        if self._open is None:
            self._open = RoundView(e.round_id, e.step, e.trigger)
        self._open.answers.append((e.probe_id, e.answer))

    def _on_reply(self, e: MessageEvent) -> None:
        self._scored += 1
        self.said[e.message_id] = [e]
        while len(self.said) > self.limits.rounds:
            self.said.popitem(last=False)

    def _on_score(self, e: ScoreEvent) -> None:
        if e.scorer == ACTIVATION and ACTIVATION not in self.labels:
            label = axis_label([e])
            if label != ACTIVATION:
                self.labels[ACTIVATION] = label
        if e.target == "message" and e.message_id in self.said:
            self.said[e.message_id].append(e)
            return
        if e.target != "probe" or e.round_id not in self.scores:
            return
        self.scores[e.round_id].append(e)
        if self._open is not None and e.value is not None:
            self._open.scores.setdefault(e.scorer, []).append(e.value)

    def _on_memory(self, e: MemoryEvent) -> None:
        if e.kind not in UNMARKED_KINDS:
            self.markers.append(Marker(e.step, e.kind, e.status == "ok"))
        if e.status != "ok":
            return
        if is_other_kind(e.kind):
            self.other.pop(e.kind, None)
            self.other[e.kind] = (e.step, e.backend, e.text)
            while len(self.other) > self.limits.other_kinds:
                self.other.popitem(last=False)
        if self.contents.apply(e):  # a sleep-time rewrite replaces core blocks
            self.core.update({r.block: r.new for r in self.contents.rewrites
                              if r.seq == e.seq and r.changed and r.status == "ok"})
        if e.kind in ("summarize", "summary_rewrite"):
            self.summary = e.text
        elif e.kind == "core_edit":
            self.core[str(e.detail.get("block", "core"))] = e.text
        elif e.kind == "retrieve" and e.text:
            self.retrieved.append((e.step, e.text))
        elif e.kind == "note":
            self.notes.append((e.step, e.text))

    def label(self, scorer: str) -> str:
        """A scorer's name on the chart (the activation scorer with its axis)."""
        return self.labels.get(scorer, scorer)

    def curves(self) -> Curves:
        """Identity curves per scorer and the identity index over the kept rounds and replies,
        by the report's own functions (the latest score of each answer counts, so re-scores
        replace); recomputed after changes."""
        if self._curves is None or self._curves[0] != self._scored:
            self._curves = (self._scored, compute_curves(
                self.agent_id, itertools.chain(*self.rounds.values(), *self.scores.values()),
                itertools.chain(*self.said.values())))
        return self._curves[1]


def _agent_and_persona(spec: dict[str, Any], agent_id: str
                       ) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """An agent's entry in the run spec, its persona key, and that persona's entry."""
    agent = next((a for a in spec.get("agents", []) if a.get("id") == agent_id), {})
    key = str(agent.get("persona") or "")
    persona = (spec.get("personas") or {}).get(key)
    return agent, key, persona if isinstance(persona, dict) else {}


def _persona_and_condition(spec: dict[str, Any], agent_id: str) -> tuple[str, str]:
    _, key, persona = _agent_and_persona(spec, agent_id)
    return str(persona.get("name") or key or "?"), agent_setup(spec, agent_id)[0]


def _initial_core(spec: dict[str, Any], agent_id: str) -> dict[str, str]:
    """Core blocks an agent starts with, when its memory has a core (or sleep-time) backend."""
    agent, _, persona = _agent_and_persona(spec, agent_id)
    memory = agent.get("memory") or {}
    backends = memory.get("backends") or CONDITIONS.get(str(memory.get("condition") or ""), ())
    name = "core" if "core" in backends else "sleeptime" if "sleeptime" in backends else None
    if name is None:
        return {}
    core = memory.get(name) or {}
    blocks = {"persona": str(core.get("persona") or persona.get("identity") or "")}
    if core.get("human"):
        blocks["human"] = str(core["human"])
    return blocks


@dataclass
class RunView:
    """One run directory: its spec, status and agents."""

    path: Path
    run_id: str
    spec: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    paused: bool = False
    expect_paused: bool = False
    """What the TUI asked for last; differs from `paused` until the run applies it."""
    agents: list[str] = field(default_factory=list)

    @property
    def display_status(self) -> str:
        """running, pausing…, paused, resuming…, done, failed or interrupted."""
        if self.status != "running":
            return self.status
        if self.paused:
            return "paused" if self.expect_paused else "resuming…"
        return "pausing…" if self.expect_paused else "running"


class Dashboard:
    """Everything on screen, fed batch by batch; views read it on a timer."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.runs: dict[Path, RunView] = {}
        self.agents: dict[str, AgentView] = {}
        self.log: Stream[LogLine] = Stream(self.limits.log)
        self.scorers: list[str] = []
        """Scorers seen, in order of appearance (the table's score columns)."""

    def feed(self, batch: FeedBatch) -> None:
        """Apply one poll's events of one run (forgetting the run first on a reset)."""
        if batch.reset:
            self.forget(batch.run_dir)
        for event in batch.events:
            self.apply(batch.run_dir, event)

    def forget(self, run_dir: Path) -> None:
        """Drop a run (its log is read again from the start)."""
        run = self.runs.pop(run_dir, None)
        for key in run.agents if run else []:
            self.agents.pop(key, None)

    def note(self, text: str, style: str = "") -> None:
        """A line from the TUI itself (a command sent, an error)."""
        self.log.append(LogLine(None, "tui", "note", text, style))

    def agent(self, run: RunView, agent_id: str) -> AgentView:
        """The view of one agent of a run, created on first sight."""
        key = f"{run.run_id}/{agent_id}"
        if key not in self.agents:
            self.agents[key] = AgentView(run, agent_id, self.limits)
            run.agents.append(key)
        return self.agents[key]

    def apply(self, run_dir: Path, event: Event) -> None:
        """Take one event of the run in `run_dir`."""
        run = self.runs.get(run_dir)
        if run is None:
            run = self.runs[run_dir] = RunView(run_dir, event.run_id)
        if isinstance(event, RunStart):
            self._on_start(run, event)
        elif isinstance(event, RunEnd):
            run.status, run.paused, run.expect_paused = event.status, False, False
            for key in run.agents:
                self.agents[key].close_round()
        elif isinstance(event, ControlEvent) and event.action in ("pause", "resume"):
            run.paused = run.expect_paused = event.action == "pause"
        if isinstance(event, ScoreEvent) and event.target == "probe" \
                and event.scorer not in self.scorers:
            self.scorers.append(event.scorer)
        if event.agent_id:
            self.agent(run, event.agent_id).apply(event)
        line = log_line(event)
        if line is not None:
            self.log.append(replace(line, run_id=event.run_id))

    def _on_start(self, run: RunView, event: RunStart) -> None:
        run.spec, run.status, run.paused, run.expect_paused = event.spec, "running", False, False
        for agent in event.spec.get("agents", []):
            if agent.get("id"):
                self.agent(run, str(agent["id"]))
