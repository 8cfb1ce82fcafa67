"""Sleep-time memory (Letta's sleep-time agents): a second model rewrites the core blocks."""

from __future__ import annotations

import threading
from typing import Any

from memory._contract import BackendContext, CompactionContext, MemoryRecord
from memory.core import BLOCKS, CoreMemory
from memory.summary import summary_failure, transcript
from memory.budget import TokenCounter
from scaffold.messages import Message
from scaffold.registry import memory_backend

ROLE = "sleeptime"
"""The model role of the sleep-time agent (models.sleeptime, agents[].sleeptime sampling)."""
KIND = "sleeptime_rewrite"
"""The memory event kind of one rewrite."""
COMPACTING_KINDS = frozenset({"summarize", "truncate", "summary_rewrite"})
DEFAULT_PROMPT = (
    "You maintain the memory of another AI agent. Rewrite its '{block}' memory block from the "
    "recent conversation: keep what is still true, add what was learned, drop what is wrong or "
    "outdated. Keep it short. Reply with the new block text only."
)


class SleeptimeMemory(CoreMemory):
    """Core blocks (persona, human) that a sleep-time agent rewrites between two agent steps.

    When it runs: in the compaction phase of a step, before that step's model call, when the
    step before completed a multiple of `every` steps, or when another backend compacted memory
    since the last rewrite (`on_compaction`). It sees the messages of completed steps that no
    rewrite has seen yet (at most `max_messages`), asks the `sleeptime` role once per block
    for the new block text, and applies the replies at once; the step's model call then sees
    the new blocks. Everything it depends on (unseen messages, pending trigger, step of the
    last rewrite) is in the snapshot the step's checkpoint saves after compaction, so a run
    killed mid-rewrite redoes it from the same inputs on resume, and one killed after it does
    not redo it.

    Args:
        persona: initial persona block (the self).
        human: initial block about the user.
        every: rewrite after every N completed steps (None: only after compactions).
        on_compaction: rewrite at the step after another backend compacted memory.
        blocks: blocks rewritten, one `sleeptime` call each.
        prompt: instruction to the sleep-time agent (`{block}`: the block's name).
        agent_edits: also offer the agent the core_memory_* tools.
        persona_limit: character limit of the persona block.
        human_limit: character limit of the human block.
        max_messages: unseen messages kept for the next rewrite (oldest dropped first).
        max_tokens: token cap of one rewritten block.
        history: versions of each block kept in the snapshot.
        counter: the run's token counter (default: litellm's default encoding).
    """

    name = "sleeptime"
    section = "core"
    replaces_identity = True

    def __init__(self, persona: str, human: str = "", every: int | None = 4,
                 on_compaction: bool = False, blocks: tuple[str, ...] | list[str] = BLOCKS,
                 prompt: str = DEFAULT_PROMPT, agent_edits: bool = False,
                 persona_limit: int = 2000, human_limit: int = 1000, max_messages: int = 24,
                 max_tokens: int = 160, history: int = 8, counter: TokenCounter | None = None):
        super().__init__(persona, human, read_only=not agent_edits,
                         persona_limit=max(persona_limit, len(persona)),
                         human_limit=max(human_limit, len(human)), counter=counter)
        unknown = [b for b in blocks if b not in BLOCKS]
        if unknown or not blocks:
            raise ValueError(f"blocks: expected some of {', '.join(BLOCKS)}, got {list(blocks)}")
        if every is None and not on_compaction:
            raise ValueError("every: the sleep-time agent never runs without every or "
                             "on_compaction")
        self.every = every
        self.on_compaction = on_compaction
        self.rewrite_blocks = [b for b in BLOCKS if b in blocks]
        self.prompt = prompt
        self.max_messages = max_messages
        self.max_tokens = max_tokens
        self.history_limit = history
        self.unseen: list[Message] = []
        """Messages no rewrite has seen yet, oldest first."""
        self.dropped = 0
        """Unseen messages dropped beyond max_messages since the last rewrite."""
        self.last_step = -1
        """The step whose compaction phase made the last rewrite."""
        self.pending: dict[str, Any] | None = None
        """A compaction by another backend since the last rewrite (kind, backend, step)."""
        self.history: dict[str, list[dict[str, Any]]] = {
            b: [{"step": 0, "author": "config", "text": self.blocks[b]}] for b in BLOCKS}
        """Versions of each block, oldest first, the current one last (capped)."""
        self._lock = threading.Lock()

    def _mode(self) -> str:
        """How the agent is told its blocks change: by the sleep-time agent (and maybe it)."""
        mode = "rewritten between steps by your sleep-time memory agent"
        if not self.read_only:
            mode += "; editable with core_memory_append/replace"
        return mode

    def observe(self, messages: list[Message]) -> list[MemoryRecord] | None:
        """Keep new turns for the next rewrite (at most `max_messages`)."""
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"sleeptime memory observes Message objects, got {type(message)}")
        with self._lock:
            for message in messages:
                self.step = message.step
                self.unseen.append(message)
            over = len(self.unseen) - self.max_messages
            if over > 0:
                del self.unseen[:over]
                self.dropped += over
        return None

    def on_memory(self, record: MemoryRecord) -> list[MemoryRecord] | None:
        """Note another backend's compaction: the next step's compaction phase rewrites."""
        if self.on_compaction and record.kind in COMPACTING_KINDS and record.status == "ok":
            self.pending = {"kind": record.kind, "backend": record.backend, "step": self.step}
        return None

    def _trigger(self, ctx: CompactionContext) -> str | None:
        """Why a rewrite is due at this step ('every', 'compaction'), or None."""
        if self.last_step == ctx.step or not any(m.step < ctx.step for m in self.unseen):
            return None
        completed = ctx.step - 1
        if self.every is not None and completed > 0 and completed % self.every == 0:
            return "every"
        compacted = any(r.kind in COMPACTING_KINDS and r.status == "ok" for r in ctx.records)
        if self.on_compaction and (self.pending is not None or compacted):
            return "compaction"
        return None

    async def maybe_compact(self, ctx: CompactionContext) -> MemoryRecord | None:
        """Rewrite the blocks when due, from the unseen messages of completed steps.

        The record is `ok` when at least one block's reply was usable; `reason` names the
        blocks whose reply was not (kept unchanged), and `detail.blocks` has each block's
        outcome."""
        trigger = self._trigger(ctx)
        if trigger is None or ctx.complete_role is None:
            return None
        before = ctx.prompt_tokens()
        await ctx.before_change(KIND)
        seen = [m for m in self.unseen if m.step < ctx.step]
        history = transcript(seen, ctx.agent_id)
        blocks: dict[str, dict[str, Any]] = {}
        for block in self.rewrite_blocks:
            blocks[block] = await self._rewrite(ctx, block, history)
        with self._lock:
            self.unseen = [m for m in self.unseen if m.step >= ctx.step]
        dropped, pending = self.dropped, self.pending
        self.dropped, self.pending, self.last_step = 0, None, ctx.step
        after = ctx.prompt_tokens()  # renders the new blocks with their budget: sets last_cut
        failed = [f"{b}: {c['reason']}" for b, c in blocks.items() if c["status"] == "failed"]
        ok = len(failed) < len(blocks)
        detail: dict[str, Any] = {"trigger": trigger, "step": ctx.step, "role": ROLE,
                                  "blocks": blocks, "dropped_messages": dropped}
        if pending is not None:
            detail["compaction"] = pending
        if self.last_cut:
            detail["cut"] = dict(self.last_cut)
        text = "\n\n".join(c["new"] for c in blocks.values() if c["status"] == "ok" and c["new"])
        return MemoryRecord(kind=KIND, backend=self.name, author=ROLE,
                            status="ok" if ok else "failed",
                            reason="; ".join(failed) or None,
                            policy="keep_previous" if failed else None,
                            tokens_before=before, tokens_after=after, text=text,
                            source_ids=[m.id for m in seen], detail=detail)

    async def _rewrite(self, ctx: CompactionContext, block: str, history: str
                       ) -> dict[str, Any]:
        """One block's rewrite: the call, and the block's old and new text (unchanged when
        the reply is unusable: empty, refused, runaway or over the block's limit, or when it
        differs from the block in whitespace only)."""
        assert ctx.complete_role is not None
        old = self.blocks[block]
        instruction = self.prompt.replace("{block}", block)
        current = f"Current {block} block:\n{old}" if old.strip() else \
            f"The {block} block is still empty: write it from the conversation."
        request = [{"role": "system", "content": instruction},
                   {"role": "user", "content": f"{current}\n\nRecent conversation:\n{history}"}]
        response = await ctx.complete_role(ROLE, request, max_tokens=self.max_tokens)
        reply = response.content.strip()
        reason = summary_failure(reply, response.finish_reason, ctx.counter.text(history),
                                 ctx.counter.text(reply))
        if reason is None and _echoes(reply, [instruction, current.splitlines()[0]]):
            reason = "echo"  # the instruction copied back: small models do
        if reason is None and len(reply) > self.limits[block]:
            reason = f"over_limit ({len(reply)} > {self.limits[block]} characters)"
        change: dict[str, Any] = {"old": old, "new": old, "changed": False,
                                  "status": "ok" if reason is None else "failed",
                                  "reason": reason, "request_hash": response.request_hash,
                                  "finish_reason": response.finish_reason}
        if reason is not None:
            change["reply"] = reply
        elif _normalized(reply) != _normalized(old):
            # a reply that differs from the block only in spaces and line breaks is the same
            # block: kept as it was, so neither the context nor the "changed" count moves
            self.blocks[block] = reply
            self._remember(block, ROLE)
            change.update(new=reply, changed=True)
        return change

    def _remember(self, block: str, author: str) -> None:
        versions = self.history[block]
        versions.append({"step": self.step, "author": author, "text": self.blocks[block]})
        del versions[:-self.history_limit]

    def _set(self, block: str, new: str, op: str) -> tuple[str, MemoryRecord]:
        """An edit by the agent (core_memory_* tools), kept in the block's history."""
        result = super()._set(block, new, op)
        self._remember(block, "agent")
        return result

    def snapshot(self) -> dict[str, Any]:
        """Blocks, their version history, and what the next rewrite depends on."""
        return {"blocks": dict(self.blocks), "read_only": self.read_only,
                "limits": dict(self.limits), "history": {b: list(v) for b, v in
                                                         self.history.items()},
                "unseen": [m.model_dump(mode="json") for m in self.unseen],
                "dropped": self.dropped, "last_step": self.last_step, "pending": self.pending}

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot.

        Raises:
            ValueError: not a sleeptime snapshot.
        """
        super().restore(data)
        history, unseen = data.get("history"), data.get("unseen")
        if not isinstance(history, dict) or not isinstance(unseen, list):
            raise ValueError("not a sleeptime snapshot: expected {'blocks', 'history', "
                             "'unseen', ...}")
        self.history = {b: [dict(v) for v in history.get(b, [])] for b in BLOCKS}
        self.unseen = [Message.model_validate(m) for m in unseen]
        self.dropped = int(data.get("dropped", 0))
        self.last_step = int(data.get("last_step", -1))
        pending = data.get("pending")
        self.pending = dict(pending) if isinstance(pending, dict) else None


def _normalized(text: str) -> str:
    """The text with every run of whitespace made one space, and none at the ends."""
    return " ".join(text.split())


def _echoes(reply: str, instructions: list[str]) -> bool:
    """Whether a reply is (a part of) one of the instructions it was given."""
    said = " ".join(reply.lower().split()).strip(" .:")
    return bool(said) and any(said in " ".join(i.lower().split()) for i in instructions)


@memory_backend("sleeptime")
def make_sleeptime(*, context: BackendContext | None = None, persona: str | None = None,
                   model: str | None = None, **settings: Any) -> SleeptimeMemory:
    """Factory for the registry; takes SleeptimeSpec fields (the model is the runtime's:
    `model` is resolved into the agent's helper models); the persona block defaults to the
    persona's identity text."""
    text = persona if persona is not None else (context.identity if context else "")
    return SleeptimeMemory(text, **settings, counter=context.counter if context else None)
