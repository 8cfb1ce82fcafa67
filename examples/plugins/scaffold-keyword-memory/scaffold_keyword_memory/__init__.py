"""Keyword memory: pins recent messages that mention chosen keywords (a plugin example)."""

from __future__ import annotations

import re
import threading
from typing import Any

from memory import (
    CUT_MARKER,
    BackendContext,
    CompactionContext,
    MemoryRecord,
    TokenCounter,
    fit_body,
)
from scaffold.messages import Message

HEADER = "[Memory] Pinned messages that mention what matters to you:"


class KeywordMemory:
    """Keeps the last `max_pinned` messages mentioning a keyword; renders them every turn."""

    name = "keyword"
    section = "retrieved"

    def __init__(self, keywords: list[str], max_pinned: int = 5,
                 counter: TokenCounter | None = None):
        if not keywords:
            raise ValueError("keyword memory needs at least one keyword")
        self.pattern = re.compile("|".join(rf"\b{re.escape(k)}\b" for k in keywords), re.I)
        self.max_pinned = max_pinned
        self.pinned: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.counter = counter or TokenCounter("default")
        """The run's token counter (BackendContext.counter; a run's stack sets it too)."""

    def render(self, budget: int) -> list[dict[str, Any]]:
        """Pinned messages, newest last, within `budget` tokens counted with the run's counter:
        the oldest that does not fit whole is cut (never the whole block dropped), older ones
        are left out."""
        lines: list[str] = []
        for item in reversed(self.pinned):
            line = f"- (step {item['step']}, {item['author']}) {item['text'][:200]}"
            shown = list(lines)
            fit = fit_body(self.counter, budget, line,
                           lambda text: "\n".join([HEADER, text, *shown]))
            if fit is None:
                break
            lines.insert(0, line[:fit.kept_chars] + CUT_MARKER if fit.cut else line)
            if fit.cut:
                break
        return [{"role": "system", "content": "\n".join([HEADER, *lines])}] if lines else []

    def observe(self, messages: list[Message]) -> list[MemoryRecord] | None:
        """Pin matching messages; one insert record per pinned message."""
        records = []
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"keyword memory observes Message objects, got {type(message)}")
            if message.content and self.pattern.search(message.content):
                with self._lock:
                    self.pinned.append({"id": message.id, "step": message.step,
                                        "author": message.author, "text": message.content})
                    self.pinned = self.pinned[-self.max_pinned:]
                records.append(MemoryRecord(kind="insert", backend=self.name,
                                            author=message.author, source_ids=[message.id],
                                            text=message.content[:120]))
        return records

    async def maybe_compact(self, ctx: CompactionContext) -> MemoryRecord | None:
        """Nothing to compact: the pin list is capped as it grows."""
        return None

    def snapshot(self) -> dict[str, Any]:
        """The pinned messages."""
        return {"pinned": [dict(p) for p in self.pinned]}

    def restore(self, data: dict[str, Any]) -> None:
        """Load pinned messages.

        Raises:
            ValueError: not a keyword-memory snapshot.
        """
        pinned = data.get("pinned") if isinstance(data, dict) else None
        if not isinstance(pinned, list):
            raise ValueError("not a keyword memory snapshot: expected {'pinned': [...]}")
        self.pinned = [dict(p) for p in pinned]


def make_backend(*, context: BackendContext | None = None, keywords: list[str] | None = None,
                 max_pinned: int = 5) -> KeywordMemory:
    """Entry-point factory; keywords default to capitalised words of the persona's identity."""
    if keywords is None:
        words = re.findall(r"\b[A-Z][a-z]{3,}\b", context.identity if context else "")
        keywords = sorted(set(words) - {"You", "The", "Your", "This", "When"})[:20] or ["you"]
    return KeywordMemory(keywords, max_pinned, counter=context.counter if context else None)
