"""Tracker hooks (no-op by default) and a set that isolates tracker failures from the run."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scaffold.events import MemoryEvent, TrackerErrorEvent
from scaffold.redact import redact

if TYPE_CHECKING:
    from scaffold.bus import Emit
    from scaffold.messages import Message
    from scaffold.runtime import AgentRuntime

log = logging.getLogger(__name__)


class Tracker:
    """Observes a run; every hook is optional. Hooks must not change the agent's state."""

    name = "tracker"

    async def on_run_start(self, agents: list[AgentRuntime]) -> None:
        """Called once before the first step (and again on resume)."""

    async def on_step(self, agent: AgentRuntime, step: int) -> None:
        """Called after an agent completes a step."""

    async def on_reply(self, agent: AgentRuntime, message: Message,
                       context: list[dict[str, Any]]) -> None:
        """Called after the agent wrote a reply (an assistant message), with the exact
        model input it answered."""

    async def before_memory_event(self, agent: AgentRuntime, kind: str) -> None:
        """Called right before a backend changes memory."""

    async def on_memory_event(self, agent: AgentRuntime, event: MemoryEvent) -> None:
        """Called after a memory change was recorded."""

    async def on_probe_request(self, agent: AgentRuntime) -> None:
        """Called when someone asks for a probe now (a `probe_now` control command)."""

    async def on_run_end(self, agents: list[AgentRuntime]) -> None:
        """Called once when the run finishes its steps."""


class TrackerSet:
    """Calls every tracker's hook; a failing tracker is recorded as an event and skipped."""

    def __init__(self, trackers: list[Tracker], emit: Emit):
        self.trackers = trackers
        self.emit = emit

    async def call(self, hook: str, *args: Any, agent_id: str | None = None,
                   step: int = 0) -> None:
        """Run `hook` on every tracker, isolating failures."""
        for tracker in self.trackers:
            try:
                await getattr(tracker, hook)(*args)
            except Exception as exc:
                log.warning("tracker %s failed in %s: %s", tracker.name, hook, exc)
                self.emit(TrackerErrorEvent, agent_id=agent_id, step=step, tracker=tracker.name,
                          hook=hook, error=redact(f"{type(exc).__name__}: {exc}"))
