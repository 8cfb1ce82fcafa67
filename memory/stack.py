"""MemoryStack: composes backends and the context window into the model input, per section."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from memory._contract import CompactionContext, ContextWindow, MemoryBackend, MemoryRecord
from memory.budget import SECTIONS, TokenCounter
from memory.overrun import BudgetGuard, overrun_causes
from scaffold.messages import Message


DEFAULT_SHARE = 0.25
"""A backend's default share of the budget for its rendered block."""


class ModelInput:
    """The exact messages the model sees next, and what each section costs in tokens."""

    def __init__(self, messages: list[dict[str, Any]], sections: dict[str, int]):
        self.messages = messages
        self.sections = sections

    @property
    def total_tokens(self) -> int:
        """Tokens of the whole input."""
        return sum(self.sections.values())


class MemoryStack:
    """Backends in a configured order, plus the window of recent messages.

    Args:
        identity: the persona text (first part of the system message).
        backends: memory backends in render order.
        counter: token counter for the agent's model.
        budget_tokens: the context budget.
        shares: optional per-backend share of the budget for its rendered block.
    """

    def __init__(self, identity: str, backends: list[MemoryBackend], counter: TokenCounter,
                 budget_tokens: int, shares: dict[str, float] | None = None):
        self.identity = identity
        self.backends = backends
        self.counter = counter
        self.budget_tokens = budget_tokens
        self.shares = shares or {}
        self.window = ContextWindow()
        self.guard = BudgetGuard()
        self._window_memo: tuple[tuple[Message, ...], TokenCounter | None, int, list[int],
                                 list[dict[str, Any]]] = ((), None, 0, [], [])
        """The window's messages when last projected, the counter and token total of that
        projection, each message's tokens, and the messages as JSON (see `_window_view`)."""
        for backend in backends:
            if hasattr(backend, "counter"):
                backend.counter = counter  # count renders with the agent's own tokenizer

    def observe(self, messages: list[Message]) -> list[MemoryRecord]:
        """Add new turns to the window and show them to every backend; returns what changed."""
        for message in messages:
            self.window.add(message)
        records: list[MemoryRecord] = []
        for backend in self.backends:
            records.extend(backend.observe(messages) or [])
        return records

    def propagate(self, record: MemoryRecord) -> list[MemoryRecord]:
        """Show one backend's change to the others (`on_memory`); returns their changes."""
        follow: list[MemoryRecord] = []
        for backend in self.backends:
            hook = getattr(backend, "on_memory", None)
            if hook is not None and backend.name != record.backend:
                follow.extend(hook(record) or [])
        return follow

    def tools(self) -> list[Any]:
        """Tools the backends offer the agent (MemoryTool objects)."""
        found: list[Any] = []
        for backend in self.backends:
            offer = getattr(backend, "tools", None)
            found.extend(offer() if offer is not None else [])
        return found

    def close(self) -> None:
        """Release backend resources (stores, clients)."""
        for backend in self.backends:
            closer = getattr(backend, "close", None)
            if closer is not None:
                closer()

    def model_input(self) -> ModelInput:
        """System message (identity + memory blocks) followed by the window."""
        sections, system_parts = self._sections()
        window = [m.to_model() for m in self.window.messages]
        system = {"role": "system", "content": "\n\n".join(system_parts)}
        return ModelInput([system, *window], sections)

    def _sections(self) -> tuple[dict[str, int], list[str]]:
        """Tokens per section of the next model input, and the parts of its system message
        (what `prompt_tokens` and `overrun` need, without projecting the window)."""
        sections = dict.fromkeys(SECTIONS, 0)
        system_parts = []
        if not any(getattr(b, "replaces_identity", False) for b in self.backends):
            sections["persona"] = self.counter.message({"role": "system", "content": self.identity})
            system_parts.append(self.identity)
        for backend in self.backends:
            share = self.shares.get(backend.name, DEFAULT_SHARE)
            for block in backend.render(int(self.budget_tokens * share)):
                sections[backend.section] = sections.get(backend.section, 0) + \
                    self.counter.message(block)
                system_parts.append(block["content"])
        sections["messages"] = self._window_view()[0]
        return sections, system_parts

    def _window_view(self) -> tuple[int, list[dict[str, Any]]]:
        """Tokens of the window's messages and the messages as JSON (read-only dicts), built
        again only for messages the window did not hold at the last call: a step takes several
        model inputs and snapshots of a window that grew at its end or lost messages to memory
        (the token total is a plain sum over messages, see `TokenCounter.messages`). Messages
        are frozen and the memo holds them, so the same object means the same content."""
        messages = tuple(self.window.messages)
        held, counter, total, tokens, dumped = self._window_memo
        if messages is held or (messages == held and counter is self.counter):
            return total, dumped
        if counter is not self.counter:
            held = ()
        # the memo holds its messages alive, so an id found there is that same message
        index = {id(m): i for i, m in enumerate(held)}
        new_tokens, new_dumped = [], []
        for message in messages:
            i = index.get(id(message))
            if i is None:
                new_tokens.append(self.counter.message(message.to_model()))
                new_dumped.append(message.to_json())
            else:
                new_tokens.append(tokens[i])
                new_dumped.append(dumped[i])
        total = sum(new_tokens)
        self._window_memo = (messages, self.counter, total, new_tokens, new_dumped)
        return total, new_dumped

    def prompt_tokens(self) -> int:
        """Tokens of the next model input."""
        return sum(self._sections()[0].values())

    async def compact(self, ctx: CompactionContext,
                      on_change: Callable[[MemoryRecord], Awaitable[None]] | None = None
                      ) -> list[MemoryRecord]:
        """Let every backend act before the next model call, in order; returns what changed,
        each change followed by the other backends' reactions to it.

        Args:
            ctx: what backends may use (its `before_change` runs right before each change).
            on_change: awaited with each change (and each reaction) before the next backend
                acts, so whatever observes a change (e.g. the after-round of a probe) sees memory
                exactly as that one change left it, not as the whole compaction did.
        """
        records: list[MemoryRecord] = []
        for backend in self.backends:
            made = await backend.maybe_compact(ctx)
            for record in made if isinstance(made, list) else [] if made is None else [made]:
                changes = [record, *self.propagate(record)]
                records.extend(changes)
                ctx.records[:] = records
                if on_change is not None:
                    for change in changes:
                        await on_change(change)
        overrun = self.overrun(ctx.agent_id)
        if overrun is not None:
            records.append(overrun)
            if on_change is not None:
                await on_change(overrun)
        return records

    def overrun(self, agent_id: str) -> MemoryRecord | None:
        """A failed `budget` record when, after every backend acted, the next model input is
        still over the budget (reported once, and again each time the overrun doubles)."""
        sections = self._sections()[0]
        return self.guard.check(
            agent_id, sum(sections.values()), self.budget_tokens, sections,
            overrun_causes(self.backends, len(self.window.messages), sections,
                           self.budget_tokens))

    def snapshot(self) -> dict[str, Any]:
        """Window and backend states."""
        return {
            "window": list(self._window_view()[1]),
            "backends": {b.name: b.snapshot() for b in self.backends},
            "budget": self.guard.snapshot(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot."""
        self.window = ContextWindow([Message.model_validate(m) for m in data.get("window", [])])
        self.guard.restore(data.get("budget", {}))
        states = data.get("backends", {})
        for backend in self.backends:
            if backend.name in states:
                backend.restore(states[backend.name])
