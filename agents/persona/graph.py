"""The persona agent: one node per act, tool rounds routed from it by Command."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents.persona.nodes import act, compact, observe, respond, tools, track
from agents.persona.state import PersonaState
from scaffold.registry import register
from scaffold.runtime import AgentRuntime


@register("agent", "persona")
def build_graph(checkpointer: Any = None) -> Any:
    """Compile the graph; pass a LangGraph checkpointer to make steps resumable.

    An act is one superstep, `act`; a reply that calls tools routes on to `tools` then
    `respond` per round (by `Command`, no conditional edge). `observe`, `compact` and `track`
    are the nodes of the earlier four-node act: no new act enters them, they keep checkpoints
    written then resumable.
    """
    builder = StateGraph(PersonaState, context_schema=AgentRuntime)
    builder.add_node("act", act, destinations=("tools",))
    builder.add_node("tools", tools)
    builder.add_node("respond", respond, destinations=("tools",))
    builder.add_node("observe", observe)
    builder.add_node("compact", compact)
    builder.add_node("track", track)
    builder.add_edge(START, "act")
    builder.add_edge("tools", "respond")
    builder.add_edge("observe", "compact")
    builder.add_edge("compact", "respond")
    builder.add_edge("track", END)
    return builder.compile(checkpointer=checkpointer)


graph = build_graph()
"""Compiled without a checkpointer, for LangGraph Studio (see langgraph.json)."""
