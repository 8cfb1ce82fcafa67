"""Expected memory events of a run, for `scaffold plan`: when the context fills, how often each
backend then truncates, summarizes, retrieves or rewrites, simulated act by act."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from scaffold.config import AgentSpec, ExperimentSpec
from scaffold.config._budget import min_tokens

REPLY_FILL = 0.9
"""Share of its token cap a reply (or summary) is expected to use. Measured on the embedded
0.5B model: the JFK example's first summary came at step 7 with 682 prompt tokens (replies of
at most 72 tokens), and a 24-step sleep-time run truncated 17 times from step 8 on."""
TOKENS_PER_COUNTED = 1.25
"""Real tokens per token of `min_tokens` (its lower bound): the JFK identity counts 72 there and
90 for litellm's default encoding."""
MESSAGE_TOKENS = 4
"""A message's own cost in a prompt: its role and delimiters."""
DEFAULT_USER_TOKENS = 16
"""A user turn whose text is not known before the run (a plugin task's)."""
TOOL_KINDS = {"core": "core_edit", "files": "file_edit"}
"""Events of backends that change memory only when the agent calls a tool: none expected (the
0.5B model never called one), at most one per act."""


REWRITE_FILL = 0.5
"""Share of its token cap a sleep-time rewrite of a block is expected to take, when it is
longer than the block it replaces (the scripted model's rewrites: 0.5 of the cap)."""
CORE_FRAME_TOKENS = 16
"""Core memory's frame around its blocks (header and tags)."""


@dataclass(frozen=True)
class Flow:
    """How one agent's prompt grows: tokens always there, and what each act adds."""

    blocks: dict[str, int]
    """Tokens of each always-rendered block (the identity, or the core blocks)."""
    user: int
    reply: int
    capacity: int
    """Tokens above which the compacting backend acts (threshold × budget)."""

    @property
    def fixed(self) -> int:
        return sum(self.blocks.values())


def _tokens(text: str) -> int:
    return int(min_tokens(text) * TOKENS_PER_COUNTED) + MESSAGE_TOKENS if text else 0


def user_tokens(spec: ExperimentSpec, fill: float) -> int:
    """Expected tokens of one turn an agent answers: the task's own turns where they are
    known, another model's reply (a simulated user, a self-chat partner) at `fill` of its cap."""
    from scaffold.tasks.conversation import EVERYDAY_TOPICS

    task = spec.task
    if task.kind == "pressure":
        return int(task.user.max_tokens * fill) + MESSAGE_TOKENS
    if task.kind in ("selfchat", "room"):
        caps = [a.generation.max_tokens for a in spec.agents]
        return int(sum(caps) / len(caps) * fill) + MESSAGE_TOKENS
    if task.kind == "conversation":
        turns = list(task.turns) or list(EVERYDAY_TOPICS)
        return sum(_tokens(t) for t in turns) // len(turns)
    return DEFAULT_USER_TOKENS


def flow(spec: ExperimentSpec, agent: AgentSpec, fill: float) -> Flow:
    """The prompt's growth for one agent with replies at `fill` of their cap."""
    memory = agent.memory
    persona = spec.personas[agent.persona]
    blocks = {"identity": _tokens(persona.identity)}
    plan = memory.plan()
    for name in ("core", "sleeptime"):
        if name in plan:
            core = getattr(memory, name)
            blocks = {"frame": CORE_FRAME_TOKENS,
                      "persona": _tokens(core.persona or persona.identity),
                      "human": _tokens(core.human)}
    overflow = memory.summary if "summary" in plan else memory.window
    return Flow(blocks=blocks, user=user_tokens(spec, fill),
                reply=int(agent.generation.max_tokens * fill) + MESSAGE_TOKENS,
                capacity=int(overflow.threshold * memory.budget_tokens))


def _rewrite_due(agent: AgentSpec, act: int, compacted_before: bool) -> bool:
    """Whether the sleep-time agent rewrites at this act: after every N completed acts, or
    after a compaction when `on_compaction`."""
    sleeptime = agent.memory.sleeptime
    every = sleeptime.every is not None and act > 1 and (act - 1) % sleeptime.every == 0
    return every or (sleeptime.on_compaction and compacted_before)


def compactions(spec: ExperimentSpec, agent: AgentSpec, acts: int, fill: float,
                overflow: bool = True) -> tuple[Counter[str], int]:
    """Truncations, summaries and sleep-time rewrites over `acts` acts, and the act of the
    first compaction (acts + 1 when none): memory acts before each act's model call, on the
    prompt with the new turn; a rewritten block takes `REWRITE_FILL` of its cap if longer.
    `overflow=False`: the context never fills (scheduled rewrites only)."""
    memory, plan = agent.memory, agent.memory.plan()
    f = flow(spec, agent, fill)
    blocks = dict(f.blocks)
    kept = memory.summary.keep_last * (f.user + f.reply) // 2
    summary = int(memory.summary.max_tokens * fill)
    rewritten = int(memory.sleeptime.max_tokens * REWRITE_FILL) + MESSAGE_TOKENS
    events, first, compacted = Counter[str](), acts + 1, False
    history = 0
    for act in range(1, acts + 1):
        if "sleeptime" in plan and _rewrite_due(agent, act, compacted):
            events["sleeptime_rewrite"] += 1
            for block in memory.sleeptime.blocks:
                blocks[block] = max(blocks.get(block, 0), rewritten)
        history += f.user
        compacted = overflow and sum(blocks.values()) + history > f.capacity
        if compacted:
            first = min(first, act)
            if "summary" in plan:
                events["summarize"] += 1
                history = min(history, summary + kept + f.user)
            elif "window" in plan:
                events["truncate"] += 1
                history = f.capacity - sum(blocks.values())
        history += f.reply
    return events, first


def memory_events(spec: ExperimentSpec, agent: AgentSpec, acts: int, fill: float,
                  tools: bool = False, overflow: bool = True) -> Counter[str]:
    """Memory events of one agent by kind, with replies at `fill` of their cap; `tools`: one
    tool-driven edit per act (an upper bound) instead of none; `overflow=False`: only the
    scheduled events of a context that never fills."""
    memory, plan = agent.memory, agent.memory.plan()
    events, first = compactions(spec, agent, acts, fill, overflow)
    compacted = events["summarize"] + events["truncate"]
    if overflow and {"vector", "reflection"} & set(plan):
        # with exclude_window, something can be retrieved once the first turns left the
        # context, and the query (the newest turn) changes every act
        last_only = memory.vector.exclude_window if "vector" in plan else \
            memory.reflection.exclude_window
        events["retrieve"] = max(0, acts - first) if last_only else max(0, acts - 1)
    if "notes" in plan:
        notes = memory.notes
        due = {a for a in range(1, acts + 1) if notes.every and a % notes.every == 0}
        events["note"] = min(acts, len(due) + (compacted if notes.on_compaction else 0))
    if tools:
        for backend, kind in TOOL_KINDS.items():
            editable = backend == "files" or (backend == "core" and not memory.core.read_only)
            if backend in plan and editable:
                events[kind] = acts
    return +events
