"""Typed, frozen run events: the single source of truth for reports, the TUI and re-scoring."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Event(BaseModel):
    """Fields every event carries; `seq` is monotonic within a run and never reused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    """Position in the run's event log, starting at 1."""
    type: str
    """Discriminator naming the event kind."""
    run_id: str
    """The run this event belongs to."""
    agent_id: str | None = None
    """The agent it concerns, or None for run-level events."""
    step: int
    """The agent step it happened in (0 before the first step)."""
    ts: float
    """Wall-clock time (seconds since the epoch); informational, never used for ordering."""


class RunStart(Event):
    type: Literal["run_start"] = "run_start"
    spec: dict[str, Any]
    """The resolved run spec (secrets never appear here)."""
    seed: int
    resumed: bool = False
    """True when this marks the continuation of an interrupted run."""
    previous_failure: str | None = None
    """When resuming a failed run: why it failed (the failed tail of the log was cut)."""


class RunEnd(Event):
    type: Literal["run_end"] = "run_end"
    status: Literal["done", "failed", "interrupted"]
    reason: str | None = None


class MessageEvent(Event):
    type: Literal["message"] = "message"
    message_id: str
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    author: str
    """Who wrote it: 'user', 'task', an agent id, or 'tool'."""
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class ModelCallEvent(Event):
    type: Literal["model_call"] = "model_call"
    purpose: Literal["agent", "summarizer", "probe", "judge", "notes", "user", "sleeptime",
                     "importance", "reflector", "fact_extractor", "fact_update"]
    model: str
    request_hash: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    attempts: int = 1
    replayed: bool = False
    """True when the response came from a cassette instead of the model."""


class ModelRetryEvent(Event):
    type: Literal["model_retry"] = "model_retry"
    model: str
    purpose: str
    attempt: int
    error: str
    """Error class and message, with secrets redacted."""
    wait_s: float


class ContextEvent(Event):
    type: Literal["context"] = "context"
    sections: dict[str, int]
    """Tokens per context section (persona, core, summary, retrieved, notes, messages)."""
    total_tokens: int
    budget_tokens: int


class MemoryChange(BaseModel):
    """A change to memory: what backends report and what `memory` events record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    """What happened: summarize, truncate, insert, retrieve, core_edit, note, ..."""
    backend: str
    """The backend that made the change."""
    status: Literal["ok", "failed"] = "ok"
    reason: str | None = None
    """Why a failed operation failed (empty, refused, runaway, model error)."""
    policy: str | None = None
    """The failure policy applied, when status is failed."""
    tokens_before: int = 0
    tokens_after: int = 0
    text: str = ""
    """The text written (summary, note, new block, retrieved block)."""
    source_ids: list[str] = Field(default_factory=list)
    """Ids of the messages (or memories) this change consumed or was derived from."""
    author: str = "summarizer"
    """'agent', 'summarizer', 'user', 'system', or another agent's id."""
    detail: dict[str, Any] = Field(default_factory=dict)
    """Kind-specific facts, e.g. a core edit's block, old and new text."""


class MemoryEvent(Event, MemoryChange):
    type: Literal["memory"] = "memory"


class ProbeEvent(Event):
    type: Literal["probe"] = "probe"
    round_id: str
    probe_id: str
    question: str
    answer: str
    sample: int = 0
    trigger: Literal["periodic", "before_memory", "after_memory", "end", "manual", "reprobe"]
    request_hash: str
    """Cassette key of the probe request: the exact context it was asked on."""


class ScoreEvent(Event):
    type: Literal["score"] = "score"
    target: Literal["probe", "memory", "message"] = "probe"
    """What was scored: a probe answer, a memory text, or an assistant reply (message)."""
    round_id: str | None = None
    probe_id: str | None = None
    memory_seq: int | None = None
    """For memory scores: the seq of the memory event scored."""
    message_id: str | None = None
    """For message scores: the id of the assistant message scored."""
    scorer: str
    scorer_version: str = "1"
    value: float | None
    """In [0, 1]; None when the scorer could not produce a score (see explanation)."""
    explanation: str = ""
    rescore: str | None = None
    """Set on scores added by `scaffold rescore`: the id of that re-scoring pass."""
    raw: str | None = None
    """Raw model output behind the score (the judge's verdict text), kept for audit."""


class TrackerErrorEvent(Event):
    type: Literal["tracker_error"] = "tracker_error"
    tracker: str
    hook: str
    error: str


class ControlEvent(Event):
    type: Literal["control"] = "control"
    action: Literal["pause", "resume", "inject", "fork", "probe_now"]
    detail: str = ""
    """What was done: the injected text, the fork spec's path, ..."""
    command_id: str | None = None
    """Id of the control command applied (see scaffold.control); None for run-made events."""


class TaskEvent(Event):
    type: Literal["task"] = "task"
    name: str
    """What the task recorded: tests, sandbox, chunk, speaker, done, ..."""
    text: str = ""
    """One-line summary for humans."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Task-specific details."""


AnyEvent = Annotated[
    Union[
        RunStart,
        RunEnd,
        MessageEvent,
        ModelCallEvent,
        ModelRetryEvent,
        ContextEvent,
        MemoryEvent,
        ProbeEvent,
        ScoreEvent,
        TrackerErrorEvent,
        ControlEvent,
        TaskEvent,
    ],
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnyEvent)


def parse_event(line: str | bytes) -> Event:
    """Parse one JSONL line into its typed event.

    Raises:
        pydantic.ValidationError: the line is not a valid event.
    """
    return _ADAPTER.validate_json(line)
