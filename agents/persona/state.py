"""State of the persona agent graph: what is checkpointed after each step."""

from __future__ import annotations

from typing import Any, TypedDict


class PersonaState(TypedDict, total=False):
    """Checkpointed state; the live objects stay in the AgentRuntime context.

    Keys:
        step: the step being (or last) run.
        pending: the incoming turn (a serialised Message) not yet observed.
        memory: the memory stack snapshot (window + backends).
        seq: the last event seq written when this state was produced (resume cuts the log here).
        last_reply: the agent's last reply text.
        pending_tools: the last reply (serialised Message) while its tool calls are unrun.
        tool_round: tool-call rounds done in this step.
    """

    step: int
    pending: dict[str, Any] | None
    memory: dict[str, Any]
    seq: int
    last_reply: str
    pending_tools: dict[str, Any] | None
    tool_round: int
