"""Keyword memory: pins recent messages that mention chosen keywords (a plugin example).

How Scaffold uses a memory plugin (the contract is `memory.MemoryBackend`):

- The entry point `memory.keyword` in the group `scaffold.plugins` names the factory,
  `make_backend`. Scaffold calls it once per agent as
  `make_backend(context=BackendContext(...), **settings)`, where `settings` are the entries
  of `memory.options.keyword` in the experiment file, passed as keyword arguments as they are.
  `scaffold validate` does not import plugins, so the factory checks its own settings: a
  TypeError or ValueError it raises fails the run at its start with the setting named
  (`memory.options.keyword: ...`).
- `context` carries the run directory, run id, agent id, the persona's identity text and
  `counter`, the run's token counter for the agent's model: the one the context budget is
  counted with. `render(budget)` must stay within `budget` as that counter counts.
- Every change is reported as a `MemoryRecord`. Besides the built-in kinds (insert, retrieve,
  summarize, ...), a backend may use its own: this one reports `unpin` from `maybe_compact`
  when the cap drops pinned messages from what it renders. The report marks such kinds
  `kind*` in the identity figures; the TUI marks them `*kind` on the drift chart and shows
  each kind's latest text in the memory panel.
"""

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
    """Keeps the last `max_pinned` messages mentioning a keyword; renders them every turn.

    Args:
        keywords: words (case-insensitive, whole words) that make a message worth pinning.
        max_pinned: pinned messages kept; beyond it, `maybe_compact` unpins the oldest.
        counter: the run's token counter (`BackendContext.counter`); litellm's default
            encoding when None.

    Raises:
        ValueError: no keywords.
    """

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
                records.append(MemoryRecord(kind="insert", backend=self.name,
                                            author=message.author, source_ids=[message.id],
                                            text=message.content[:120]))
        return records

    async def maybe_compact(self, ctx: CompactionContext) -> MemoryRecord | None:
        """Unpin the oldest messages beyond `max_pinned`, reported as this backend's own
        event kind, `unpin` (probes run first, through `ctx.before_change`)."""
        if len(self.pinned) <= self.max_pinned:
            return None
        before = ctx.prompt_tokens()
        await ctx.before_change("unpin")
        with self._lock:
            dropped = self.pinned[:-self.max_pinned]
            self.pinned = self.pinned[-self.max_pinned:]
        return MemoryRecord(kind="unpin", backend=self.name, author="system",
                            source_ids=[d["id"] for d in dropped],
                            text="\n".join(d["text"][:120] for d in dropped),
                            tokens_before=before, tokens_after=ctx.prompt_tokens(),
                            detail={"kept": len(self.pinned)})

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
    """Entry-point factory: Scaffold passes `memory.options.keyword` as keyword arguments.

    Args:
        context: where the backend lives; its `counter` measures what `render` returns.
        keywords: words to pin messages by; default: capitalised words of the persona's
            identity text.
        max_pinned: pinned messages kept.

    Raises:
        ValueError: bad settings (Scaffold reports them as `memory.options.keyword: ...`).
    """
    if max_pinned < 1:
        raise ValueError(f"max_pinned must be at least 1, got {max_pinned}")
    if isinstance(keywords, str) or not (keywords is None or all(
            isinstance(k, str) and k.strip() for k in keywords)):
        raise ValueError(f"keywords must be a list of words, got {keywords!r}")
    if keywords is None:
        words = re.findall(r"\b[A-Z][a-z]{3,}\b", context.identity if context else "")
        keywords = sorted(set(words) - {"You", "The", "Your", "This", "When"})[:20] or ["you"]
    return KeywordMemory(keywords, max_pinned, counter=context.counter if context else None)
