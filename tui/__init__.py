"""Scaffold's terminal UI: watch runs live from their event logs, and steer them."""

from tui.app import ScaffoldApp
from tui.feed import EventTail, FeedBatch, RunFollower
from tui.state import AgentView, Dashboard, Limits, RunView

__all__ = ["AgentView", "Dashboard", "EventTail", "FeedBatch", "Limits", "RunFollower",
           "RunView", "ScaffoldApp"]
