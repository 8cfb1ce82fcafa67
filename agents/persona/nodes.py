"""Nodes of the persona agent graph; each returns a partial state update."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.persona.state import PersonaState
from scaffold.messages import Message
from scaffold.runtime import AgentRuntime
from scaffold.tasks.base import AgentTurn


MAX_TOOL_ROUNDS = 4
"""Tool-call rounds allowed in one step before the step ends anyway."""


def _saved(rt: AgentRuntime, **update: Any) -> dict[str, Any]:
    return {"memory": rt.stack.snapshot(), "seq": rt.bus.seq, **update}


async def act(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any] | Command:
    """A whole act in one node: take the incoming turn into the context, let memory act if the
    next input would overflow (probes run around it), call the model, and finish the act
    unless the reply called tools.

    One superstep instead of four: each costs LangGraph CPU on every act. A failure anywhere
    in it resumes as a kill -9 does, from the act's input with memory and the event log as the
    previous act left them (the runner cuts the log at the checkpoint's `seq`).
    """
    rt = runtime.context
    _take_turn(state, rt)
    await rt.compact()
    return await _reply(state, rt, 0, pending=None)


async def respond(state: PersonaState, runtime: Runtime[AgentRuntime]
                  ) -> dict[str, Any] | Command:
    """Call the agent's model again after a tool round (and finish the act unless it calls
    tools again)."""
    return await _reply(state, runtime.context, state.get("tool_round", 0))


async def tools(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Run the tool calls of the last reply; their results go back into the context."""
    rt = runtime.context
    round_ = state.get("tool_round", 0)
    await rt.run_tools(Message.model_validate(state["pending_tools"]), round_)
    return _saved(rt, tool_round=round_ + 1, pending_tools=None)


def _take_turn(state: PersonaState, rt: AgentRuntime) -> None:
    rt.step = state["step"]
    for pending in state.get("pending") or []:
        rt.add_message(Message.model_validate(pending))


async def _reply(state: PersonaState, rt: AgentRuntime, round_: int,
                 **update: Any) -> dict[str, Any] | Command:
    """The model's reply to the current context; the act ends here unless it called tools
    with tool rounds left (at most MAX_TOOL_ROUNDS per step): then a `Command` goes on to
    `tools`. (Routing by the node's own result: a conditional edge re-reads the whole state,
    window included, on every act.)"""
    reply = await rt.respond(round_)
    pending_tools = reply.model_dump(mode="json") if reply.tool_calls else None
    update.update(last_reply=reply.content, pending_tools=pending_tools, tool_round=round_)
    if pending_tools is None or round_ >= MAX_TOOL_ROUNDS:
        update.update(await _finish_act(state, rt, reply.content))
        return _saved(rt, **update)
    return Command(update=_saved(rt, **update), goto="tools")


async def _finish_act(state: PersonaState, rt: AgentRuntime, reply: str) -> dict[str, Any]:
    """The task takes the reply; then end-of-act trackers (periodic probe rounds), which never
    change the context. Returns the state update."""
    update: dict[str, Any] = {}
    if state.get("turn") and rt.task is not None:
        turn = AgentTurn.model_validate(state["turn"])
        rt.record_outcomes(await rt.task.record(turn, rt.step, reply))
        rt.turns += 1
        update = {"turn": None, "turns": rt.turns, "task": rt.task.state(),
                  "task_step": rt.step, "task_seq": rt.bus.seq}
    await rt.trackers.call("on_step", rt, rt.step, agent_id=rt.id, step=rt.step)
    return update


# Nodes of the graph as it was before `act`: new acts never enter them, but a checkpoint
# written then (a failure between two of them, a fork's state recorded as `track`'s) resumes
# through them exactly as it would have.

async def observe(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Take the incoming turn into the context (earlier checkpoints only; see `act`)."""
    rt = runtime.context
    _take_turn(state, rt)
    return _saved(rt, pending=None, tool_round=0, pending_tools=None)


async def compact(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Let memory act (earlier checkpoints only; see `act`)."""
    rt = runtime.context
    await rt.compact()
    return _saved(rt)


async def track(state: PersonaState, runtime: Runtime[AgentRuntime]) -> dict[str, Any]:
    """Finish the act (earlier checkpoints and forks' states only; see `act`)."""
    rt = runtime.context
    return {"seq": rt.bus.seq, **await _finish_act(state, rt, state.get("last_reply") or "")}
