"""The agent filter: an input shown by `/`, filtering the agents table as you type."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input

from tui.messages import FilterChanged


class FilterBar(Input):
    """Hidden until opened; Enter keeps the filter and returns to the table, Escape clears it."""

    BINDINGS = [Binding("escape", "clear", "clear filter", show=False)]

    def __init__(self, *, id: str | None = None, blink: bool = True) -> None:  # noqa: A002
        super().__init__(placeholder="filter agents: run, agent, persona, memory or status",
                         id=id)
        self.cursor_blink = blink

    def open(self) -> None:
        """Show the bar and type into it."""
        self.display = True
        self.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter while typing."""
        event.stop()
        self.post_message(FilterChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Keep the filter; back to the table (the bar stays up while it filters)."""
        event.stop()
        self.screen.focus_next("AgentsTable")
        self.display = bool(self.value)

    def action_clear(self) -> None:
        """Drop the filter and hide the bar."""
        self.value = ""
        self.post_message(FilterChanged(""))
        self.screen.focus_next("AgentsTable")
        self.display = False
