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
        turn: the task's act being answered (a serialised AgentTurn) until the task took the reply.
        turns: acts this agent has taken.
        task: the task's state after this agent's last act (see scaffold.tasks.Task.state).
        task_step: the step of that act.
        task_seq: the event seq when the task state was taken (the newest one wins on resume).
    """

    step: int
    pending: list[dict[str, Any]] | None
    memory: dict[str, Any]
    seq: int
    last_reply: str
    pending_tools: dict[str, Any] | None
    tool_round: int
    turn: dict[str, Any] | None
    turns: int
    task: dict[str, Any]
    task_step: int
    task_seq: int
