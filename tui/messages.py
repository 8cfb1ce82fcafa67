"""Messages between the TUI's widgets and screens (dataclasses, as Textual allows)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class AgentSelected(Message):
    """The agents table's cursor moved to another agent."""

    key: str
    """`<run id>/<agent id>` of the agent now selected."""


@dataclass
class FilterChanged(Message):
    """The agent filter's text changed."""

    text: str
    """Case-insensitive text an agent's row must contain ('' shows every agent)."""
