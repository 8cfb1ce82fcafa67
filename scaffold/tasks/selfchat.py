"""Self-chat: two agents in conversation, each with its own persona and memory, turns alternating."""

from __future__ import annotations

from typing import Any

from scaffold.registry import task
from scaffold.tasks.base import AgentTurn, Task, TaskContext, TaskOutcome, TaskTurn

SILENCE = "(no reply)"
"""What the other agent receives when a reply was empty."""


class SelfChatTask(Task):
    """An opener to the first agent (as if from the second), then one act per step, alternating:
    at step k the speaker receives the other agent's last reply, authored by that agent."""

    name = "selfchat"

    def __init__(self, ctx: TaskContext):
        settings = ctx.settings.selfchat
        first = settings.first or ctx.agent_ids[0]
        second = next(a for a in ctx.agent_ids if a != first)
        self.order = (first, second)
        self.opener = settings.opener
        self.last_step = 0
        self.last: dict[str, str] | None = None

    def speaker(self, step: int) -> str:
        """Who speaks at `step` (1-based)."""
        return self.order[(step - 1) % 2]

    def other(self, agent_id: str) -> str:
        """The speaker's partner."""
        return self.order[1] if agent_id == self.order[0] else self.order[0]

    async def next_turn(self, step: int) -> AgentTurn | None:
        if self.last_step >= step:
            return None
        speaker = self.speaker(step)
        if self.last is None:
            inputs = [TaskTurn(text=self.opener, author=self.other(speaker))]
        else:
            inputs = [TaskTurn(text=self.last["text"], author=self.last["author"])]
        return AgentTurn(agent_id=speaker, inputs=inputs)

    async def record(self, turn: AgentTurn, step: int, reply: str) -> list[TaskOutcome]:
        self.last_step = step
        self.last = {"author": turn.agent_id, "text": reply.strip() or SILENCE}
        return []

    def state(self) -> dict[str, Any]:
        return {"last_step": self.last_step, "last": self.last}

    def load(self, state: dict[str, Any]) -> None:
        self.last_step = int(state.get("last_step", 0))
        self.last = state.get("last")


@task("selfchat")
def make_selfchat(ctx: TaskContext) -> SelfChatTask:
    """Factory for the registry."""
    return SelfChatTask(ctx)
