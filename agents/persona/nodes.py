"""Nodes of the persona agent graph; each returns a partial state update."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.persona.state import PersonaState
from scaffold.messages import Message
from scaffold.runtime import AgentRuntime
from scaffold.tasks.base import AgentTurn


MAX_TOOL_ROUNDS = 4
"""Tool-call rounds allowed in one step before the step ends anyway."""


def _saved(rt: AgentRuntime, **update: Any) -> dict[str, Any]:
    return {"memory": rt.stack.snapshot(), "seq": rt.bus.seq, **update}


async def observe(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Take the incoming turn into the context."""
    rt = runtime.context
    rt.step = state["step"]
    for pending in state.get("pending") or []:
        rt.add_message(Message.model_validate(pending))
    return _saved(rt, pending=None, tool_round=0, pending_tools=None)


async def compact(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Let memory act if the next input would overflow (probes run around it)."""
    rt = runtime.context
    await rt.compact()
    return _saved(rt)


async def respond(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Call the agent's model on its context and keep the reply."""
    rt = runtime.context
    reply = await rt.respond(state.get("tool_round", 0))
    return _saved(rt, last_reply=reply.content, pending_tools=reply.model_dump(mode="json")
                  if reply.tool_calls else None)


async def tools(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Run the tool calls of the last reply; their results go back into the context."""
    rt = runtime.context
    round_ = state.get("tool_round", 0)
    await rt.run_tools(Message.model_validate(state["pending_tools"]), round_)
    return _saved(rt, tool_round=round_ + 1, pending_tools=None)


async def after_respond(state: PersonaState) -> str:
    """Tools when the reply called some (at most MAX_TOOL_ROUNDS per step), else tracking.
    (A coroutine: LangGraph runs a plain function in a thread pool, a hop per step.)"""
    if state.get("pending_tools") and state.get("tool_round", 0) < MAX_TOOL_ROUNDS:
        return "tools"
    return "track"


async def track(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """The task takes the reply; then end-of-act trackers (periodic probe rounds), which never
    change the context."""
    rt = runtime.context
    update: dict[str, Any] = {}
    if state.get("turn") and rt.task is not None:
        turn = AgentTurn.model_validate(state["turn"])
        rt.record_outcomes(await rt.task.record(turn, rt.step, state.get("last_reply") or ""))
        rt.turns += 1
        update = {"turn": None, "turns": rt.turns, "task": rt.task.state(),
                  "task_step": rt.step, "task_seq": rt.bus.seq}
    await rt.trackers.call("on_step", rt, rt.step, agent_id=rt.id, step=rt.step)
    return {"seq": rt.bus.seq, **update}
