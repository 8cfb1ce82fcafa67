"""Conversation messages with ids and authors, and their OpenAI-format projection."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["system", "user", "assistant", "tool"]


class Message(BaseModel):
    """One message in an agent's context; `id` and `author` never reach the model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    """Unique within the run, e.g. 'jfk-m17'."""
    role: Role
    content: str = ""
    author: str
    """'user', 'task', 'tool', or the id of the agent that wrote it."""
    step: int
    """The step it was added in."""
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    def to_model(self) -> dict[str, Any]:
        """The OpenAI chat format litellm expects (a fresh dict each call; built once)."""
        return dict(self._model_dict)

    def to_json(self) -> dict[str, Any]:
        """`model_dump(mode="json")`, built once (a fresh top-level dict each call): memory
        snapshots dump every message of the window at every checkpoint."""
        return dict(self._json_dict)

    def model_copy(self, *, update: Mapping[str, Any] | None = None,
                   deep: bool = False) -> Message:
        """A copy; the projections cached on this message are rebuilt for it, not carried over
        (with `update` they would describe the original)."""
        copy = super().model_copy(update=update, deep=deep)
        for cached in ("_json_dict", "_model_dict"):
            copy.__dict__.pop(cached, None)
        return copy

    @cached_property
    def _json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @cached_property
    def _model_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name:
            out["name"] = self.name
        if self.tool_calls:
            out["tool_calls"] = self.tool_calls
        if self.tool_call_id:
            out["tool_call_id"] = self.tool_call_id
        return out


def to_model(messages: list[Message]) -> list[dict[str, Any]]:
    """Project a list of messages to the model format."""
    return [m.to_model() for m in messages]


def completed_context(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The context up to its last completed exchange: the messages that follow the last
    assistant reply without tool calls (a pending user turn, an assistant's tool call and its
    results) are dropped; the system message (identity and memory) always stays.

    A probe appended to a context that still ends with an unanswered user turn gets that turn
    answered instead of its own question; cut here, every round asks the persona on the state
    right after its last completed exchange, with memory as it is now.
    """
    end = len(messages)
    while end > 1 and not _completes_exchange(messages[end - 1]):
        end -= 1
    return messages[:end]


def _completes_exchange(message: dict[str, Any]) -> bool:
    return message.get("role") == "assistant" and not message.get("tool_calls")
