"""Plain truncation: drop the oldest messages on overflow (the control condition)."""

from __future__ import annotations

from typing import Any

from memory._contract import BackendContext, CompactionContext, MemoryRecord
from scaffold.messages import Message
from scaffold.registry import memory_backend


class WindowMemory:
    """Keeps only what fits: on overflow the oldest messages leave the context unsummarized.

    Args:
        threshold: act when the prompt exceeds threshold × budget.
        keep_last: messages always kept.
    """

    name = "window"
    section = "messages"

    def __init__(self, threshold: float = 0.8, keep_last: int = 4):
        self.threshold = threshold
        self.keep_last = keep_last
        self.dropped = 0

    def render(self, budget: int) -> list[dict[str, Any]]:
        """Nothing beyond the window itself."""
        return []

    def observe(self, messages: list[Message]) -> None:
        """Truncation needs no record of turns."""
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"window memory observes Message objects, got {type(message)}")

    async def maybe_compact(self, ctx: CompactionContext) -> MemoryRecord | None:
        """Drop the oldest messages until the prompt fits under the threshold."""
        before = ctx.prompt_tokens()
        if before <= self.threshold * ctx.budget_tokens:
            return None
        candidates = ctx.window.evictable(self.keep_last)
        if not candidates:
            return None
        await ctx.before_change("truncate")
        excess = before - int(self.threshold * ctx.budget_tokens)
        chosen, freed = [], 0
        for i, message in enumerate(candidates):
            chosen.append(message)
            freed += ctx.counter.message(message.to_model())
            following = candidates[i + 1] if i + 1 < len(candidates) else None
            if freed >= excess and not (following is not None and following.role == "tool"):
                break
        ctx.window.evict({m.id for m in chosen})
        self.dropped += len(chosen)
        return MemoryRecord(kind="truncate", backend=self.name, tokens_before=before,
                            tokens_after=ctx.prompt_tokens(), author="system",
                            source_ids=[m.id for m in chosen])

    def snapshot(self) -> dict[str, Any]:
        """Counters only: the window itself lives with the stack."""
        return {"dropped": self.dropped}

    def restore(self, data: dict[str, Any]) -> None:
        """Load counters.

        Raises:
            ValueError: not a window snapshot.
        """
        if not isinstance(data, dict) or not isinstance(data.get("dropped", 0), int):
            raise ValueError("not a window snapshot: expected {'dropped': int}")
        self.dropped = data.get("dropped", 0)


@memory_backend("window")
def make_window(threshold: float = 0.8, keep_last: int = 4,
                context: BackendContext | None = None) -> WindowMemory:
    """Factory for the registry."""
    return WindowMemory(threshold=threshold, keep_last=keep_last)
