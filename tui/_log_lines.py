"""The event log's lines: which events it shows, and how each reads."""

from __future__ import annotations

from dataclasses import dataclass

from scaffold.events import (
    ControlEvent,
    Event,
    MemoryEvent,
    ModelRetryEvent,
    RunEnd,
    RunStart,
    TaskEvent,
    TrackerErrorEvent,
)
from tui._render import one_line


@dataclass(frozen=True)
class LogLine:
    """One line of the event log."""

    step: int | None
    """The step it happened in; None for lines of the TUI itself."""
    agent: str
    kind: str
    text: str
    style: str = ""
    run_id: str = ""
    """The run it comes from ('' for the TUI's own lines)."""


def log_line(event: Event) -> LogLine | None:
    """The event log's line for an event, or None for events the log leaves out."""
    agent = event.agent_id or "run"
    if isinstance(event, RunStart):
        steps = event.spec.get("steps", "?")
        return LogLine(event.step, agent, "resumed" if event.resumed else "started",
                       f"{steps} steps", "bold")
    if isinstance(event, RunEnd):
        return LogLine(event.step, agent, event.status, event.reason or "",
                       "bold" if event.status == "done" else "bold red")
    if isinstance(event, MemoryEvent) and event.kind != "insert":
        text = f"{event.status} {event.tokens_before}→{event.tokens_after} tokens"
        if event.status != "ok":
            text += f": {event.reason or 'failed'}"
        elif event.text:
            text += f": {one_line(event.text, 48)}"
        return LogLine(event.step, agent, event.kind, text, "" if event.status == "ok" else "red")
    if isinstance(event, ControlEvent):
        return LogLine(event.step, agent, event.action, one_line(event.detail, 120) or "applied",
                       "magenta")
    if isinstance(event, TrackerErrorEvent):
        return LogLine(event.step, agent, "tracker", f"{event.tracker}.{event.hook}: "
                       f"{one_line(event.error, 100)}", "red")
    if isinstance(event, ModelRetryEvent):
        return LogLine(event.step, agent, "retry", f"{event.model} attempt {event.attempt}: "
                       f"{one_line(event.error, 80)}", "yellow")
    if isinstance(event, TaskEvent):
        return LogLine(event.step, agent, "task", one_line(event.text or event.name, 100))
    return None


