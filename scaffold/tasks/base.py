"""The task contract: what an environment sends the agent each step and when it is done."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict


class TaskTurn(BaseModel):
    """One input from the environment to an agent."""

    model_config = ConfigDict(frozen=True)

    text: str
    author: str = "user"
    """'user' for a simulated user, 'task' for an environment message."""
    kind: str = "normal"
    """'normal' or 'pressure' (an identity challenge)."""


@runtime_checkable
class Task(Protocol):
    """An environment. Turns depend only on the seed, the step and (optionally) the last reply,
    so a resumed run gets the same turns."""

    name: str

    def turn(self, step: int, last_reply: str | None = None) -> TaskTurn | None:
        """The input for `step` (1-based); None when the task is done."""
        ...

    def tools(self) -> list[dict[str, Any]]:
        """OpenAI-format tool schemas the agent may call (may be empty)."""
        ...
