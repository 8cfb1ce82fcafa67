"""Nodes of the persona agent graph; each returns a partial state update."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.persona.state import PersonaState
from scaffold.messages import Message
from scaffold.runtime import AgentRuntime


def _saved(rt: AgentRuntime, **update: Any) -> dict[str, Any]:
    return {"memory": rt.stack.snapshot(), "seq": rt.bus.seq, **update}


async def observe(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Take the incoming turn into the context."""
    rt = runtime.context
    rt.step = state["step"]
    pending = state.get("pending")
    if pending:
        rt.add_message(Message.model_validate(pending))
    return _saved(rt, pending=None)


async def compact(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Let memory act if the next input would overflow (probes run around it)."""
    rt = runtime.context
    await rt.compact()
    return _saved(rt)


async def respond(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Call the agent's model on its context and keep the reply."""
    rt = runtime.context
    reply = await rt.respond()
    return _saved(rt, last_reply=reply.content)


async def track(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """End-of-step trackers (periodic probe rounds); they never change the context."""
    rt = runtime.context
    await rt.trackers.call("on_step", rt, rt.step, agent_id=rt.id, step=rt.step)
    return {"seq": rt.bus.seq}
