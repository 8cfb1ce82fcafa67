"""Lessons-learned notes: the agent writes short notes about the task and itself, kept capped."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from memory._contract import BackendContext, CompactionContext, MemoryRecord, snapshot_strings
from memory._text import word_count
from memory.budget import CUT_MARKER, FitCache, TokenCounter, default_counter
from scaffold.messages import Message, completed_context
from scaffold.registry import memory_backend

NOTES_HEADER = "[Memory] Notes you wrote about what you have learned:"
COMPACTING_KINDS = frozenset({"summarize", "truncate", "summary_rewrite"})
MIN_CUT_CHARS = 16
"""An older note that would keep fewer characters than this when cut is left out instead."""


def parse_notes(text: str) -> list[str]:
    """Non-empty lines of a reply, without bullets or numbering."""
    lines = (re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip() for line in text.splitlines())
    return [line for line in lines if word_count(line) >= 2]


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
        counter: the run's token counter (default: litellm's default encoding).
    """

    name = "notes"
    section = "notes"

    def __init__(self, on_compaction: bool = True, every: int | None = None,
                 prompt: str = "Write short notes on what you have learned.",
                 max_notes: int = 8, max_chars: int = 1200, max_tokens: int = 96,
                 counter: TokenCounter | None = None):
        self.on_compaction = on_compaction
        self.every = every
        self.prompt = prompt
        self.max_notes = max_notes
        self.max_chars = max_chars
        self.max_tokens = max_tokens
        self.notes: list[str] = []
        self.last_step = -1
        self.counter: TokenCounter | None = counter
        """The run's token counter (the stack sets the agent's); render measures with it."""
        self.last_cut: dict[str, int] | None = None
        """What the last render cut or left out to fit its budget (None: everything shown)."""
        self._fits = FitCache()

    def render(self, budget: int) -> list[dict[str, Any]]:
        """The notes as one marked block within `budget` tokens (counted with the run's
        counter), newest first: the first note that does not fit whole is cut (ending in
        CUT_MARKER) and older ones are left out; `last_cut` says what was cut and left out."""
        self.last_cut = None
        if not self.notes:
            return []
        counter, cut = self.counter or default_counter(), None
        lines: list[str] = []
        for note in reversed(self.notes):
            fit = self._fits.fit(counter, budget, note, self._frame(lines))
            if fit is None or (fit.cut and lines and fit.kept_chars < MIN_CUT_CHARS):
                break  # an older note cut to a stub says nothing: leave it out
            lines.insert(0, f"- {note[:fit.kept_chars]}{CUT_MARKER}" if fit.cut else f"- {note}")
            if fit.cut:
                cut = fit.report(budget, len(note))
                break
        if cut is not None or len(lines) < len(self.notes):
            self.last_cut = {**(cut or {"budget": budget}), "notes": len(self.notes),
                             "shown": len(lines), "left_out": len(self.notes) - len(lines)}
        return [{"role": "system", "content": "\n".join([NOTES_HEADER, *lines])}] if lines else []

    @staticmethod
    def _frame(newer: list[str]) -> Callable[[str], str]:
        shown = list(newer)
        return lambda note: "\n".join([NOTES_HEADER, f"- {note}", *shown])

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
        # on the last completed exchange: appended after a pending user turn, the prompt
        # would get that turn answered instead of the notes
        request = [*completed_context(ctx.model_input()),
                   {"role": "user", "content": self.prompt}]
        reply = await ctx.ask_agent(request, max_tokens=self.max_tokens)
        self.last_step = ctx.step
        new = parse_notes(reply.content)
        if not new:
            return MemoryRecord(kind="note", backend=self.name, status="failed", reason="empty",
                                author="agent", text=reply.content, tokens_before=before,
                                tokens_after=before)
        self.notes.extend(new)
        self._cap()
        after = ctx.prompt_tokens()  # renders the notes with their budget: sets last_cut
        detail: dict[str, Any] = {"kept": len(self.notes)}
        if self.last_cut:
            detail["cut"] = dict(self.last_cut)
        return MemoryRecord(kind="note", backend=self.name, author="agent", text="\n".join(new),
                            tokens_before=before, tokens_after=after, detail=detail)

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
    return NotesMemory(**settings, counter=context.counter if context else None)
