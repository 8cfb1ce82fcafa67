"""One persona agent as a LangGraph graph."""

from agents.persona.graph import build_graph
from agents.persona.state import PersonaState

__all__ = ["PersonaState", "build_graph"]
