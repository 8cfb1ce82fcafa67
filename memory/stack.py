"""MemoryStack: composes backends and the context window into the model input, per section."""

from __future__ import annotations

from typing import Any

from memory._contract import CompactionContext, ContextWindow, MemoryBackend, MemoryRecord
from memory.budget import SECTIONS, TokenCounter
from scaffold.messages import Message


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

    def observe(self, messages: list[Message]) -> None:
        """Add new turns to the window and show them to every backend."""
        for message in messages:
            self.window.add(message)
        for backend in self.backends:
            backend.observe(messages)

    def model_input(self) -> ModelInput:
        """System message (identity + memory blocks) followed by the window."""
        sections = dict.fromkeys(SECTIONS, 0)
        persona = {"role": "system", "content": self.identity}
        sections["persona"] = self.counter.message(persona)
        system_parts = [self.identity]
        for backend in self.backends:
            share = self.shares.get(backend.name, 1.0)
            for block in backend.render(int(self.budget_tokens * share)):
                sections[backend.section] = sections.get(backend.section, 0) + \
                    self.counter.message(block)
                system_parts.append(block["content"])
        window = [m.to_model() for m in self.window.messages]
        sections["messages"] = self.counter.messages(window)
        system = {"role": "system", "content": "\n\n".join(system_parts)}
        return ModelInput([system, *window], sections)

    def prompt_tokens(self) -> int:
        """Tokens of the next model input."""
        return self.model_input().total_tokens

    async def compact(self, ctx: CompactionContext) -> list[MemoryRecord]:
        """Let every backend act on overflow, in order; returns what changed."""
        records = []
        for backend in self.backends:
            record = await backend.maybe_compact(ctx)
            if record is not None:
                records.append(record)
        return records

    def snapshot(self) -> dict[str, Any]:
        """Window and backend states."""
        return {
            "window": [m.model_dump(mode="json") for m in self.window.messages],
            "backends": {b.name: b.snapshot() for b in self.backends},
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot."""
        self.window = ContextWindow([Message.model_validate(m) for m in data.get("window", [])])
        states = data.get("backends", {})
        for backend in self.backends:
            if backend.name in states:
                backend.restore(states[backend.name])
