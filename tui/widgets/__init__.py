"""The TUI's widgets: agents table, filter, drift chart, memory panel, transcript, logs."""

from tui.widgets.agents_table import AgentsTable
from tui.widgets.drift_chart import ChartLine, DriftChart
from tui.widgets.event_log import EventLog
from tui.widgets.filter_bar import FilterBar
from tui.widgets.memory_panel import MemoryPanel
from tui.widgets.transcript import ProbeLog, Transcript

__all__ = ["AgentsTable", "ChartLine", "DriftChart", "EventLog", "FilterBar", "MemoryPanel",
           "ProbeLog", "Transcript"]
