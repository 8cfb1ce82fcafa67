"""Lessons-learned notes: the agent writes short notes about the task and itself, kept capped."""

from __future__ import annotations

import re
from typing import Any

from memory._contract import BackendContext, CompactionContext, MemoryRecord, snapshot_strings
from scaffold.messages import Message
from scaffold.registry import memory_backend

NOTES_HEADER = "[Memory] Notes you wrote about what you have learned:"
COMPACTING_KINDS = frozenset({"summarize", "truncate", "summary_rewrite"})


def parse_notes(text: str) -> list[str]:
    """Non-empty lines of a reply, without bullets or numbering."""
    lines = (re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip() for line in text.splitlines())
    return [line for line in lines if len(line.split()) >= 2]


class NotesMemory:
    """Asks the agent for notes on each compaction (and/or every K steps); merges the oldest
    notes when over the cap, so the newest lessons are kept verbatim.

    Args:
        on_compaction: write notes whenever another backend compacts memory.
        every: also write every K steps (None: only on compaction).
        prompt: what the agent is asked.
        max_notes: notes kept; beyond it the two oldest are merged.
        max_chars: total characters kept.
        max_tokens: token cap for one note-writing reply.
    """

    name = "notes"
    section = "notes"

    def __init__(self, on_compaction: bool = True, every: int | None = None,
                 prompt: str = "Write short notes on what you have learned.",
                 max_notes: int = 8, max_chars: int = 1200, max_tokens: int = 96):
        self.on_compaction = on_compaction
        self.every = every
        self.prompt = prompt
        self.max_notes = max_notes
        self.max_chars = max_chars
        self.max_tokens = max_tokens
        self.notes: list[str] = []
        self.last_step = -1

    def render(self, budget: int) -> list[dict[str, Any]]:
        """The notes as one marked block (newest kept when the budget is tight)."""
        if not self.notes:
            return []
        lines, used = [], len(NOTES_HEADER)
        for note in reversed(self.notes):
            if used + len(note) + 3 > budget * 4:
                break
            lines.insert(0, f"- {note}")
            used += len(note) + 3
        return [{"role": "system", "content": "\n".join([NOTES_HEADER, *lines])}] if lines else []

    def observe(self, messages: list[Message]) -> list[MemoryRecord] | None:
        """Notes are written at compaction time only."""
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"notes memory observes Message objects, got {type(message)}")
        return None

    def _due(self, ctx: CompactionContext) -> bool:
        if self.last_step == ctx.step:
            return False
        compacted = any(r.kind in COMPACTING_KINDS and r.status == "ok" for r in ctx.records)
        periodic = self.every is not None and ctx.step > 0 and ctx.step % self.every == 0
        return (self.on_compaction and compacted) or periodic

    async def maybe_compact(self, ctx: CompactionContext) -> MemoryRecord | None:
        """Ask the agent for notes when due; record what it wrote."""
        if ctx.ask_agent is None or ctx.model_input is None or not self._due(ctx):
            return None
        before = ctx.prompt_tokens()
        await ctx.before_change("note")
        request = [*ctx.model_input(), {"role": "user", "content": self.prompt}]
        reply = await ctx.ask_agent(request, max_tokens=self.max_tokens)
        self.last_step = ctx.step
        new = parse_notes(reply.content)
        if not new:
            return MemoryRecord(kind="note", backend=self.name, status="failed", reason="empty",
                                author="agent", text=reply.content, tokens_before=before,
                                tokens_after=before)
        self.notes.extend(new)
        self._cap()
        return MemoryRecord(kind="note", backend=self.name, author="agent", text="\n".join(new),
                            tokens_before=before, tokens_after=ctx.prompt_tokens(),
                            detail={"kept": len(self.notes)})

    def _cap(self) -> None:
        while len(self.notes) > 1 and (len(self.notes) > self.max_notes
                                       or sum(map(len, self.notes)) > self.max_chars):
            merged = f"{self.notes[0]}; {self.notes[1]}"
            limit = max(40, self.max_chars // max(1, self.max_notes))
            self.notes[:2] = [merged if len(merged) <= limit else merged[: limit - 1] + "…"]
        if self.notes and len(self.notes[0]) > self.max_chars:
            self.notes[0] = self.notes[0][: self.max_chars - 1] + "…"

    def snapshot(self) -> dict[str, Any]:
        """Notes and when they were last written."""
        return {"notes": list(self.notes), "last_step": self.last_step}

    def restore(self, data: dict[str, Any]) -> None:
        """Load notes.

        Raises:
            ValueError: not a notes snapshot.
        """
        self.notes = snapshot_strings(data, "notes", "notes")
        self.last_step = int(data.get("last_step", -1))


@memory_backend("notes")
def make_notes(*, context: BackendContext | None = None, **settings: Any) -> NotesMemory:
    """Factory for the registry; takes NotesSpec fields."""
    return NotesMemory(**settings)
