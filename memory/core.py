"""Core memory (Letta-style): persona and human blocks rendered every turn, optionally editable."""

from __future__ import annotations

from typing import Any

from memory._contract import BackendContext, CompactionContext, MemoryRecord, MemoryTool
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
    """

    name = "core"
    section = "core"
    replaces_identity = True
    """The persona block carries the identity, so the stack does not repeat it."""

    def __init__(self, persona: str, human: str = "", read_only: bool = True,
                 persona_limit: int = 2000, human_limit: int = 1000):
        self.blocks = {"persona": persona, "human": human}
        self.limits = {"persona": persona_limit, "human": human_limit}
        self.read_only = read_only
        self.step = 0

    def render(self, budget: int) -> list[dict[str, Any]]:
        """Both blocks with their sizes and limits (cut to the budget if ever needed)."""
        mode = "read-only" if self.read_only else "editable with core_memory_append/replace"
        parts = [f"[Memory] Core memory ({mode}):"]
        for block in BLOCKS:
            size, limit = len(self.blocks[block]), self.limits[block]
            parts.append(f'<{block} chars="{size}/{limit}">\n{self.blocks[block]}\n</{block}>')
        text = "\n".join(parts)
        return [{"role": "system", "content": text[: max(0, budget * 4)]}]

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
        record = MemoryRecord(kind="core_edit", backend=self.name, author="agent", text=new,
                              detail={"block": block, "op": op, "old": old, "new": new,
                                      "step": self.step})
        return f"{block} block updated ({len(new)}/{self.limits[block]} characters)", record

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
    return CoreMemory(text, human, read_only, max(persona_limit, len(text)), human_limit)
