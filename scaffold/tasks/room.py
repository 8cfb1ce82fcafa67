"""A shared room: N agents in one channel, one speaker per step, by a configurable policy."""

from __future__ import annotations

import re
from typing import Any

from scaffold.registry import task
from scaffold.tasks.base import AgentTurn, Task, TaskContext, TaskOutcome, TaskTurn, seeded_rng
from scaffold.tasks.selfchat import SILENCE

MODERATOR = "moderator"
"""Author of the room's opener and goal (the environment)."""


class RoomTask(Task):
    """Agents take turns in a channel. A speaker receives the channel messages it has not seen
    (each authored by the agent that wrote it, so memory keeps their provenance), at most
    `history` of them, and replies to the room."""

    name = "room"

    def __init__(self, ctx: TaskContext):
        self.ctx = ctx
        self.settings = ctx.settings.room
        self.ids = list(ctx.agent_ids)
        self.names = ctx.persona_names
        self.channel: list[dict[str, Any]] = []
        self.last_spoke: dict[str, int] = {}
        self.last_step = 0
        self.last_speaker: str | None = None

    def speaker(self, step: int) -> str:
        """Who speaks at `step`, from the policy and the channel so far."""
        policy = self.settings.policy
        if policy == "round_robin":
            return self.ids[(step - 1) % len(self.ids)]
        if policy == "random":
            rng = seeded_rng(self.ctx.seed, "room", step)
            return rng.choice([a for a in self.ids if a != self.last_speaker])
        mentioned = self.mentioned(self.channel[-1]) if self.channel else []
        if mentioned:
            return mentioned[0]
        after = self.ids.index(self.last_speaker) + 1 if self.last_speaker else 0
        return self.ids[after % len(self.ids)]

    def mentioned(self, message: dict[str, Any]) -> list[str]:
        """Agents a message names (by id or persona name), in order of first mention; never
        its author."""
        text, hits = message["text"], []
        for agent_id in self.ids:
            if agent_id == message["author"]:
                continue
            where = [m.start() for name in {agent_id, self.names[agent_id]}
                     for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I)]
            if where:
                hits.append((min(where), agent_id))
        return [agent_id for _, agent_id in sorted(hits)]

    async def next_turn(self, step: int) -> AgentTurn | None:
        if self.last_step >= step:
            return None
        speaker = self.speaker(step)
        inputs = []
        if speaker not in self.last_spoke:
            if self.settings.goal:
                inputs.append(TaskTurn(text=f"Shared goal of this room: {self.settings.goal}",
                                       author=MODERATOR, kind="goal"))
            inputs.append(TaskTurn(text=self.settings.opener, author=MODERATOR))
        seen = self.last_spoke.get(speaker, 0)
        unseen = [m for m in self.channel if m["step"] > seen][-self.settings.history:]
        inputs += [TaskTurn(text=f"{self.names[m['author']]} ({m['author']}): {m['text']}",
                            author=m["author"]) for m in unseen]
        return AgentTurn(agent_id=speaker, inputs=inputs)

    async def record(self, turn: AgentTurn, step: int, reply: str) -> list[TaskOutcome]:
        message = {"step": step, "author": turn.agent_id, "text": reply.strip() or SILENCE}
        self.channel = [*self.channel, message][-self.settings.history:]
        self.last_spoke[turn.agent_id] = step
        self.last_step, self.last_speaker = step, turn.agent_id
        heard = sorted({t.author for t in turn.inputs})
        return [TaskOutcome(name="speaker", text=f"{turn.agent_id} spoke",
                            data={"speaker": turn.agent_id, "policy": self.settings.policy,
                                  "heard": heard, "mentions": self.mentioned(message)})]

    def state(self) -> dict[str, Any]:
        return {"channel": self.channel, "last_spoke": self.last_spoke,
                "last_step": self.last_step, "last_speaker": self.last_speaker}

    def load(self, state: dict[str, Any]) -> None:
        self.channel = list(state.get("channel", []))
        self.last_spoke = {k: int(v) for k, v in state.get("last_spoke", {}).items()}
        self.last_step = int(state.get("last_step", 0))
        self.last_speaker = state.get("last_speaker")


@task("room")
def make_room(ctx: TaskContext) -> RoomTask:
    """Factory for the registry."""
    return RoomTask(ctx)
