"""The task contract: who acts each step, what they are sent, what tools they get, what is recorded."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scaffold.config import ExperimentSpec, TaskSpec
from scaffold.tools import Tool


class TaskTurn(BaseModel):
    """One message from the environment to an agent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    author: str = "user"
    """'user' (a real or simulated user), 'task' (the environment), or another agent's id."""
    kind: str = "normal"
    """'normal', 'pressure' (an identity challenge), 'feedback' (results of the agent's work)."""


class AgentTurn(BaseModel):
    """One act: an agent is sent `inputs` (in order) and then replies once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_id: str
    inputs: list[TaskTurn] = Field(min_length=1)


class TaskOutcome(BaseModel):
    """A fact the task records (a `task` event): tests passed, a sandbox verdict, a chunk read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """What kind of fact: 'tests', 'sandbox', 'chunk', 'speaker', 'done', ..."""
    text: str = ""
    """A one-line human summary."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Machine-readable details (JSON-serialisable)."""


class TaskTool(Tool):
    """A tool a task offers an agent (e.g. `python`): `await run(arguments)` returns
    `(result text, TaskOutcome | None)`."""


Complete = Callable[..., Awaitable[Any]]
"""`await complete(messages, *, agent_id, step, **params) -> Completion`, recorded as purpose
'user' through the run's model client (the simulated user's model role)."""


@dataclass
class TaskContext:
    """What a task factory is given besides its settings.

    Attributes:
        spec: the whole run spec (personas, agents, models).
        agent_ids: the run's agents, in config order.
        seed: the run seed; every random choice must derive from it.
        run_dir: the run directory (a task may keep files under run_dir/task/).
        complete: model access for simulated users (None in contexts that cannot call models).

    Task file paths in the settings are already absolute: loading the config resolves them
    against the config file's directory.
    """

    spec: ExperimentSpec
    agent_ids: list[str]
    seed: int = 0
    run_dir: Path | None = None
    complete: Complete | None = None

    @property
    def settings(self) -> TaskSpec:
        """The task section of the spec."""
        return self.spec.task

    @property
    def persona_names(self) -> dict[str, str]:
        """Each agent's persona name, by agent id."""
        return {a.id: self.spec.personas[a.persona].name for a in self.spec.agents}


def seeded_rng(*parts: Any) -> random.Random:
    """A generator seeded from `parts` joined by ':' (string seeds hash the same in every
    process, unlike hash())."""
    return random.Random(":".join(map(str, parts)))


class Task(ABC):
    """An environment as a state machine over steps.

    Invariants the runner relies on (they make kill -9 resume exact):
      - `next_turn(step)` does not change state: called twice with the same state it returns
        the same act (a simulated user may call a model to write it; the call is recorded).
      - Only `record` changes state, and `state()` captures all of it as JSON. After
        `load(state())` a fresh instance behaves exactly like this one.
      - Every random choice derives from the seed and the state, never from the clock.
    """

    name: str = "task"

    @abstractmethod
    async def next_turn(self, step: int) -> AgentTurn | None:
        """The next act within `step`, or None when every act of `step` is done."""

    @abstractmethod
    async def record(self, turn: AgentTurn, step: int, reply: str) -> list[TaskOutcome]:
        """Take the agent's final reply to `turn`; returns the facts to record as events."""

    def done(self) -> bool:
        """True when the task has nothing more to send (the run ends early)."""
        return False

    def tools(self, agent_id: str) -> list[TaskTool]:
        """Tools this agent may call (default: none)."""
        return []

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """Everything `record` has changed, as JSON-serialisable data."""

    @abstractmethod
    def load(self, state: dict[str, Any]) -> None:
        """Restore from `state()`."""

    async def close(self) -> None:
        """Release resources (sandboxes, files); called once when the run ends."""


class PerAgentTask(Task):
    """A task where every agent works its own copy of the environment, one act per step each.

    Subclasses implement `inputs_for` and optionally `on_reply`; per-agent state lives in
    `self.agent_state[agent_id]` (JSON data) and is checkpointed for them.
    """

    def __init__(self, ctx: TaskContext):
        self.ctx = ctx
        self.acted: dict[str, int] = {a: 0 for a in ctx.agent_ids}
        self.finished: set[str] = set()
        self.agent_state: dict[str, dict[str, Any]] = {a: {} for a in ctx.agent_ids}

    @abstractmethod
    async def inputs_for(self, agent_id: str, step: int) -> list[TaskTurn] | None:
        """What `agent_id` is sent at `step`; None when this agent's task is over."""

    async def on_reply(self, agent_id: str, step: int, turn: AgentTurn,
                       reply: str) -> list[TaskOutcome]:
        """React to a reply (update `agent_state`, return facts); default: nothing."""
        return []

    async def next_turn(self, step: int) -> AgentTurn | None:
        for agent_id in self.ctx.agent_ids:
            if agent_id in self.finished or self.acted[agent_id] >= step:
                continue
            inputs = await self.inputs_for(agent_id, step)
            if inputs is None:
                continue  # finished: `record` is never called, so say so through done()
            return AgentTurn(agent_id=agent_id, inputs=inputs)
        return None

    async def record(self, turn: AgentTurn, step: int, reply: str) -> list[TaskOutcome]:
        self.acted[turn.agent_id] = step
        outcomes = await self.on_reply(turn.agent_id, step, turn, reply)
        if self.agent_state[turn.agent_id].get("finished"):
            self.finished.add(turn.agent_id)
        return outcomes

    def done(self) -> bool:
        return all(a in self.finished for a in self.ctx.agent_ids)

    def state(self) -> dict[str, Any]:
        return {"acted": dict(self.acted), "finished": sorted(self.finished),
                "agents": self.agent_state}

    def load(self, state: dict[str, Any]) -> None:
        self.acted.update({k: int(v) for k, v in state.get("acted", {}).items()})
        self.finished = set(state.get("finished", []))
        self.agent_state.update(state.get("agents", {}))
