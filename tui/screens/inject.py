"""The inject dialog: a user message for the selected agent's next turn."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class InjectScreen(ModalScreen[str | None]):
    """Returns the message typed (Enter), or None (Escape or nothing typed)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, agent: str, blink: bool = True) -> None:
        super().__init__()
        self.agent = agent
        self.blink = blink

    def compose(self) -> ComposeResult:
        """A title and one input."""
        with Vertical(id="inject-dialog"):
            yield Label(f"Message to {self.agent} (its next turn) · Enter sends, Escape cancels")
            field = Input(placeholder="user message", id="inject-text")
            field.cursor_blink = self.blink
            yield field

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Send what was typed (nothing typed sends nothing)."""
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Close without sending."""
        self.dismiss(None)
