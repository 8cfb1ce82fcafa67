"""Applies control commands to a live run between agent acts, recording each as an event."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from scaffold.bus import EventBus
from scaffold.config import ExperimentSpec
from scaffold.control import CONTROL_FILE, ControlCommand, ControlInbox
from scaffold.events import ControlEvent
from scaffold.recorder import EVENTS_FILE, read_events
from scaffold.runtime import AgentRuntime
from scaffold.tasks.base import TaskTurn
from scaffold.trackers.base import TrackerSet

PAUSE_POLL_S = 0.2
"""How often a paused run looks for new commands."""


def fork_spec_path(run_dir: Path, agent_id: str, step: int) -> Path:
    """Where a fork requested from a live run is written: next to the run directory."""
    return run_dir.parent / f"{run_dir.name}-fork-{agent_id}-s{step}.yaml"


def write_fork_spec(spec: ExperimentSpec, run_dir: Path, agent_id: str, step: int) -> Path:
    """A run spec that continues `run_dir` from `step` (edit its settings, then `scaffold run`).

    Returns:
        The file written.
    """
    data = spec.model_dump(mode="json", exclude={"sweep"})
    data["fork"] = {"run": str(run_dir.resolve()), "step": step, "agent": agent_id}
    path = fork_spec_path(run_dir, agent_id, step)
    header = (f"# Fork of {run_dir.name} at step {step} (selected agent: {agent_id}).\n"
              f"# Change any setting below, then: scaffold run {path.name}\n"
              f"# The new run starts from the step-{step} checkpoint with the same history.\n")
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    return path


class RunControls:
    """Reads `<run_dir>/control.jsonl` and applies new commands (see scaffold.control)."""

    def __init__(self, run_dir: Path, agents: dict[str, AgentRuntime], trackers: TrackerSet,
                 spec: ExperimentSpec, bus: EventBus):
        self.run_dir = run_dir
        self.agents = agents
        self.trackers = trackers
        self.spec = spec
        self.bus = bus
        self.inbox = ControlInbox(run_dir, _applied(run_dir))
        self.injected: dict[str, list[TaskTurn]] = {}
        self.paused = False

    def take_injected(self, agent_id: str) -> list[TaskTurn]:
        """User messages injected for this agent since its last act."""
        return self.injected.pop(agent_id, [])

    async def apply(self) -> None:
        """Apply new commands; while paused, wait here until a `resume` arrives."""
        while True:
            for command in self.inbox.poll():
                await self._apply(command)
            if not self.paused:
                return
            await asyncio.sleep(PAUSE_POLL_S)

    def _agent(self, command: ControlCommand) -> AgentRuntime | None:
        if command.agent_id is None:
            return next(iter(self.agents.values()))
        return self.agents.get(command.agent_id)

    async def _apply(self, command: ControlCommand) -> None:
        rt = self._agent(command)
        if rt is None:
            self._emit(command, None, f"ignored: no agent {command.agent_id!r} in this run")
            return
        if command.action in ("pause", "resume"):
            if self.paused != (command.action == "pause"):
                self.paused = command.action == "pause"
                self._emit(command, None, "")
        elif command.action == "inject":
            self.injected.setdefault(rt.id, []).append(
                TaskTurn(text=command.text, author="user", kind="injected"))
            self._emit(command, rt, command.text)
        elif command.action == "probe_now":
            self._emit(command, rt, "")
            await self.trackers.call("on_probe_request", rt, agent_id=rt.id, step=rt.step)
        elif command.action == "fork":
            path = write_fork_spec(self.spec, self.run_dir, rt.id, rt.step)
            self._emit(command, rt, str(path))

    def _emit(self, command: ControlCommand, rt: AgentRuntime | None, detail: str) -> None:
        step = rt.step if rt else max((a.step for a in self.agents.values()), default=0)
        self.bus.emit(ControlEvent, agent_id=rt.id if rt else None, step=step,
                      action=command.action, detail=detail, command_id=command.id)


def _applied(run_dir: Path) -> set[str]:
    """Ids of the commands the kept event log already applied (read only when a resumed run has
    a control file: a long log is not parsed for nothing)."""
    path = run_dir / EVENTS_FILE
    if not (run_dir / CONTROL_FILE).exists() or not path.exists():
        return set()
    return {e.command_id for e in read_events(path)
            if isinstance(e, ControlEvent) and e.command_id}
