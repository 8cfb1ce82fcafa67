"""Core memory (Letta-style): persona and human blocks rendered every turn, optionally editable."""

from __future__ import annotations

from typing import Any

from memory._contract import BackendContext, CompactionContext, MemoryRecord, MemoryTool
from memory.budget import CUT_MARKER, Fit, FitCache, TokenCounter, default_counter
from scaffold.messages import Message
from scaffold.registry import memory_backend

BLOCKS = ("persona", "human")


class CoreMemory:
    """Two always-visible blocks with character limits. Read-only blocks protect the persona;
    editable ones are changed by the agent through `core_memory_append` / `core_memory_replace`,
    each edit recorded with who, when, old and new.

    Args:
        persona: initial persona block (the self).
        human: initial block about the user.
        read_only: offer no editing tools.
        persona_limit: character limit of the persona block.
        human_limit: character limit of the human block.
        counter: the run's token counter (default: litellm's default encoding).
    """

    name = "core"
    section = "core"
    replaces_identity = True
    """The persona block carries the identity, so the stack does not repeat it."""

    def __init__(self, persona: str, human: str = "", read_only: bool = True,
                 persona_limit: int = 2000, human_limit: int = 1000,
                 counter: TokenCounter | None = None):
        self.blocks = {"persona": persona, "human": human}
        self.limits = {"persona": persona_limit, "human": human_limit}
        self.read_only = read_only
        self.step = 0
        self.counter: TokenCounter | None = counter
        """The run's token counter (the stack sets the agent's); render measures with it."""
        self.last_cut: dict[str, Any] | None = None
        """What the last render cut to fit its budget (None: nothing was cut)."""
        self._last_budget: int | None = None
        self._fits = FitCache()

    def render(self, budget: int) -> list[dict[str, Any]]:
        """Both blocks with their sizes and limits, within `budget` tokens (counted with the
        run's counter): when they do not fit, the human block is cut first, then the persona
        block, each ending in CUT_MARKER; `last_cut` says what was cut."""
        self._last_budget = budget
        fit, block = self._fit(budget)
        if fit is None:  # not even the frame fits: nothing can be shown
            self.last_cut = {"budget": budget, "block": "persona", "kept_chars": 0}
            return []
        self.last_cut = {**fit.report(budget, len(self.blocks[block])), "block": block} \
            if fit.cut else None
        return [{"role": "system", "content": fit.text}]

    def _fit(self, budget: int) -> tuple[Fit | None, str]:
        """The rendered blocks fitted to `budget`, and the block that was cut to fit."""
        counter = self.counter or default_counter()
        persona, human = self.blocks["persona"], self.blocks["human"]
        fit = self._fits.fit(counter, budget, human, lambda h: self._text(persona, h))
        if fit is not None:
            return fit, "human"
        cut_human = CUT_MARKER if human else ""
        fit = self._fits.fit(counter, budget, persona, lambda p: self._text(p, cut_human))
        if fit is None:  # not even the frame fits: the persona text bare, rather than nothing
            fit = self._fits.fit(counter, budget, persona, lambda p: p)
        return fit, "persona"

    def _mode(self) -> str:
        """How the agent is told its blocks may change."""
        return "read-only" if self.read_only else "editable with core_memory_append/replace"

    def _text(self, persona: str, human: str) -> str:
        parts = [f"[Memory] Core memory ({self._mode()}):"]
        for block, body in (("persona", persona), ("human", human)):
            size, limit = len(self.blocks[block]), self.limits[block]
            parts.append(f'<{block} chars="{size}/{limit}">\n{body}\n</{block}>')
        return "\n".join(parts)

    def observe(self, messages: list[Message]) -> list[MemoryRecord] | None:
        """Core memory changes only through tools; remember the step for edit records."""
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"core memory observes Message objects, got {type(message)}")
            self.step = message.step
        return None

    async def maybe_compact(self, ctx: CompactionContext) -> MemoryRecord | None:
        """Core blocks never compact."""
        return None

    def tools(self) -> list[MemoryTool]:
        """Editing tools, unless read-only."""
        if self.read_only:
            return []
        block_arg = {"type": "string", "enum": list(BLOCKS), "description": "persona or human"}
        return [
            MemoryTool("core_memory_append", "Append text to a core memory block.",
                       {"type": "object", "properties": {"block": block_arg,
                                                         "content": {"type": "string"}},
                        "required": ["block", "content"]}, self._append),
            MemoryTool("core_memory_replace", "Replace text in a core memory block.",
                       {"type": "object", "properties": {"block": block_arg,
                                                         "old": {"type": "string"},
                                                         "new": {"type": "string"}},
                        "required": ["block", "old", "new"]}, self._replace),
        ]

    def _append(self, args: dict[str, Any]) -> tuple[str, MemoryRecord | None]:
        block = self._block(args)
        content = str(args.get("content", ""))
        old = self.blocks[block]
        return self._set(block, (old + "\n" + content).strip(), "append")

    def _replace(self, args: dict[str, Any]) -> tuple[str, MemoryRecord | None]:
        block = self._block(args)
        old_text, new_text = str(args.get("old", "")), str(args.get("new", ""))
        if not old_text or old_text not in self.blocks[block]:
            raise ValueError(f"text to replace not found in the {block} block")
        return self._set(block, self.blocks[block].replace(old_text, new_text, 1), "replace")

    def _block(self, args: dict[str, Any]) -> str:
        block = args.get("block")
        if block not in BLOCKS:
            raise ValueError(f"block must be one of {', '.join(BLOCKS)}, got {block!r}")
        return str(block)

    def _set(self, block: str, new: str, op: str) -> tuple[str, MemoryRecord]:
        if len(new) > self.limits[block]:
            raise ValueError(f"the {block} block would have {len(new)} characters; its limit "
                             f"is {self.limits[block]}")
        old, self.blocks[block] = self.blocks[block], new
        detail: dict[str, Any] = {"block": block, "op": op, "old": old, "new": new,
                                  "step": self.step}
        result = f"{block} block updated ({len(new)}/{self.limits[block]} characters)"
        if self._last_budget is not None:
            self.render(self._last_budget)
            if self.last_cut:  # shown cut from now on: say so in the event and to the agent
                detail["cut"] = dict(self.last_cut)
                result += (f"; core memory is over its {self._last_budget}-token share of the "
                           f"context, so the {self.last_cut['block']} block is shown cut")
        record = MemoryRecord(kind="core_edit", backend=self.name, author="agent", text=new,
                              detail=detail)
        return result, record

    def snapshot(self) -> dict[str, Any]:
        """Blocks and mode."""
        return {"blocks": dict(self.blocks), "read_only": self.read_only}

    def restore(self, data: dict[str, Any]) -> None:
        """Load blocks.

        Raises:
            ValueError: the snapshot is not a core memory snapshot.
        """
        blocks = data.get("blocks") if isinstance(data, dict) else None
        if not isinstance(blocks, dict) or not all(isinstance(blocks.get(b), str) for b in BLOCKS):
            raise ValueError("not a core memory snapshot: expected {'blocks': {persona, human}}")
        self.blocks = {b: blocks[b] for b in BLOCKS}


@memory_backend("core")
def make_core(*, context: BackendContext | None = None, read_only: bool = True,
              persona: str | None = None, human: str = "", persona_limit: int = 2000,
              human_limit: int = 1000) -> CoreMemory:
    """Factory for the registry; the persona block defaults to the persona's identity text."""
    text = persona if persona is not None else (context.identity if context else "")
    return CoreMemory(text, human, read_only, max(persona_limit, len(text)), human_limit,
                      counter=context.counter if context else None)
