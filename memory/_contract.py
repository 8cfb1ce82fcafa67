"""The memory backend contract: what a backend provides and what it is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from memory.budget import TokenCounter
from scaffold.events import MemoryChange
from scaffold.messages import Message
from scaffold.tools import Tool


class MemoryRecord(MemoryChange):
    """A change to memory, as a backend reports it; the runner turns it into a `memory` event."""


def snapshot_strings(data: Any, key: str, backend: str) -> list[str]:
    """The list of strings under `key` in a backend snapshot.

    Raises:
        ValueError: `data` is not a snapshot holding such a list.
    """
    values = data.get(key) if isinstance(data, dict) else None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"not a {backend} snapshot: expected {{'{key}': [str, ...]}}")
    return list(values)


class ContextWindow:
    """The messages currently in the agent's context, oldest first."""

    def __init__(self, messages: list[Message] | None = None):
        self.messages: list[Message] = list(messages or [])

    def add(self, message: Message) -> None:
        """Append a message."""
        self.messages.append(message)

    def evict(self, ids: set[str]) -> list[Message]:
        """Remove messages by id; returns the removed ones in order."""
        removed = [m for m in self.messages if m.id in ids]
        self.messages = [m for m in self.messages if m.id not in ids]
        return removed

    def evictable(self, keep_last: int, share: float = 1.0) -> list[Message]:
        """The oldest messages that may leave the context, never splitting a tool call from its
        results and always keeping the last `keep_last` messages.

        Args:
            keep_last: messages at the end that always stay.
            share: fraction (0, 1] of the evictable prefix to take, oldest first.
        """
        msgs = self.messages
        cut = max(0, len(msgs) - keep_last)
        while 0 < cut < len(msgs) and msgs[cut].role == "tool":
            cut -= 1  # the kept part may not start with an orphaned tool result
        if cut < len(msgs) and cut > 0 and _calls_tools(msgs[cut - 1]):
            cut -= 1  # ... nor leave a tool call behind without its results
        take = min(cut, max(1, int(round(cut * share)))) if cut else 0
        while 0 < take < cut and msgs[take].role == "tool":
            take += 1  # extend over the results of a call taken
        if take and _calls_tools(msgs[take - 1]):
            take -= 1  # never end the evicted part on a call whose results stay
        return msgs[:take]


def _calls_tools(message: Message) -> bool:
    return message.role == "assistant" and bool(message.tool_calls)


DEFAULT_COUNTER_MODEL = "default"
"""Tokenizer of a BackendContext built without one (litellm's default encoding)."""


def _default_counter() -> TokenCounter:
    return TokenCounter(DEFAULT_COUNTER_MODEL)


@dataclass(frozen=True)
class BackendContext:
    """Where a backend lives, given to every factory as `context=`.

    A backend's factory is called as `factory(context=BackendContext(...), **settings)`, where
    `settings` are the entries of the condition's `memory.options.<name>` mapping (for
    built-ins, their own section such as `memory.vector`), passed as keyword arguments
    unchanged: the factory validates them and raises TypeError/ValueError with the setting's
    name when one is wrong.

    Attributes:
        run_dir: the run directory (embedded stores go under run_dir/memory/).
        run_id: the run id (stored as provenance).
        agent_id: the agent that owns this memory.
        identity: the persona's identity text.
        counter: the run's token counter for this agent's model, the one the context budget
            is counted with: `render(budget)` should measure with it
            (`counter.messages(rendered) <= budget`). A run always passes the agent's; one
            built by hand (tests) defaults to litellm's default encoding.
    """

    run_dir: Path
    run_id: str
    agent_id: str
    identity: str = ""
    counter: TokenCounter = field(default_factory=_default_counter)


@dataclass
class CompactionContext:
    """What a backend may use when deciding to change memory.

    Attributes:
        agent_id: the agent whose memory this is.
        step: the current step.
        window: the live context window (backends may evict from it).
        counter: token counter for the agent's model.
        budget_tokens: the whole context budget.
        prompt_tokens: callable giving the current full model-input size in tokens.
        complete: calls the backend's model role: `await complete(messages, max_tokens=...)`.
        before_change: awaited right before a backend changes memory (probes run there).
        records: changes made so far in this step, by earlier backends.
        model_input: the agent's next model input (messages), for backends that ask the agent.
        ask_agent: calls the agent's own model: `await ask_agent(messages, max_tokens=...)`.
        complete_role: calls a memory helper role's model (`sleeptime`, ...), sampled as that
            role is configured: `await complete_role(role, messages, max_tokens=...)`; the
            result carries `request_hash`, the key of its `model_call` event.
    """

    agent_id: str
    step: int
    window: ContextWindow
    counter: TokenCounter
    budget_tokens: int
    prompt_tokens: Callable[[], int]
    complete: Callable[..., Awaitable[Any]]
    before_change: Callable[[str], Awaitable[None]]
    extra: dict[str, Any] = field(default_factory=dict)
    records: list[MemoryRecord] = field(default_factory=list)
    model_input: Callable[[], list[dict[str, Any]]] | None = None
    ask_agent: Callable[..., Awaitable[Any]] | None = None
    complete_role: Callable[..., Awaitable[Any]] | None = None


def helper_call(ctx: CompactionContext, backend: str) -> Callable[..., Awaitable[Any]]:
    """`ctx.complete_role`, for a backend that cannot work without its helper roles.

    Raises:
        ValueError: the context offers no helper roles.
    """
    if ctx.complete_role is None:
        raise ValueError(f"{backend} memory needs a CompactionContext with complete_role "
                         "(its helper model roles)")
    return ctx.complete_role


@runtime_checkable
class MemoryBackend(Protocol):
    """A memory backend. Invariants every implementation keeps:

    - `render(budget)` returns messages whose token count is within `budget`;
    - `observe` never calls a model and never loses a message it was given;
    - optional `on_memory(record)` sees every other backend's change (e.g. to store a summary)
      and may return records of its own; optional `tools()` offers agent tools
      (`MemoryTool`s); optional `close()` releases resources;
    - every change to memory is returned from `maybe_compact` as a `MemoryRecord`;
    - `restore(snapshot())` reproduces the same `render` output.
    """

    name: str
    """Registered backend name."""
    section: str
    """The context section its rendered tokens count toward (see memory.budget.SECTIONS)."""

    def render(self, budget: int) -> list[dict[str, Any]]:
        """Messages to inject into the next model input, within `budget` tokens."""
        ...

    def observe(self, messages: list[Message]) -> list[MemoryRecord] | None:
        """See new turns (store, index, count); report stores as records (kind 'insert')."""
        ...

    async def maybe_compact(self, ctx: CompactionContext
                            ) -> MemoryRecord | list[MemoryRecord] | None:
        """Change memory if needed (e.g. summarize on overflow); report the change (or the
        changes, in the order they were made: each is recorded and shown to the other
        backends in turn, after this call returns)."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable state, for checkpoints, forks and resume."""
        ...

    def restore(self, data: dict[str, Any]) -> None:
        """Load state produced by `snapshot`."""
        ...


@dataclass(frozen=True)
class MemoryTool(Tool):
    """A tool a backend offers the agent (e.g. core_memory_append): `run(arguments)` is
    synchronous and returns `(result text, MemoryRecord | None)`.

    Attributes:
        kind: the memory event kind its change is recorded as, under which probes run
            before it (None: `core_edit` for core_memory_* tools, else the tool's name).
    """

    kind: str | None = None
