"""The event log: run starts and ends, memory operations, control actions, errors."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from tui._log_lines import LogLine
from tui.widgets._stream_log import StreamLog


class EventLog(StreamLog[LogLine]):
    """One line per event worth reading, newest at the bottom (capped by `max_lines`)."""

    show_runs = False
    """Name the run on each line (set while more than one run is followed)."""

    def render_item(self, item: LogLine) -> RenderableType:
        """`step [run] agent kind text`."""
        text = Text("   · " if item.step is None else f"{item.step:>4} ", style="dim")
        if self.show_runs and item.run_id:
            text.append(f"{item.run_id} ", "dim")
        text.append(f"{item.agent} ", "bold")
        text.append(f"{item.kind} ", "cyan")
        text.append(item.text, item.style)
        return text
