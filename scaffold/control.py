"""Commands to a live run (pause, resume, inject, probe now, fork) through its control file.

Any process may append a command to `<run_dir>/control.jsonl` (the TUI does, attached or not);
the run applies new commands between agent acts and records each as a `control` event. A
command is applied once: its id is in the event log, and a resumed run skips ids it finds there.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONTROL_FILE = "control.jsonl"
Action = Literal["pause", "resume", "inject", "probe_now", "fork"]


class ControlCommand(BaseModel):
    """One command for a run.

    Attributes:
        id: unique id (the applied `control` event carries it).
        action: what to do.
        agent_id: the agent it concerns (inject, probe_now, fork); None for the whole run.
        text: the injected user message (inject).
        ts: when it was written.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    action: Action
    agent_id: str | None = None
    text: str = ""
    ts: float = Field(default_factory=time.time)


def send_command(run_dir: Path, action: Action, agent_id: str | None = None,
                 text: str = "") -> ControlCommand:
    """Append a command to a run's control file (safe while the run is writing events).

    Raises:
        ValueError: `inject` without text.
    """
    if action == "inject" and not text.strip():
        raise ValueError("inject needs a message text")
    command = ControlCommand(action=action, agent_id=agent_id, text=text)
    line = (command.model_dump_json() + "\n").encode()
    fd = os.open(Path(run_dir) / CONTROL_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write of a short line with O_APPEND: never interleaved
    finally:
        os.close(fd)
    return command


class ControlInbox:
    """Reads commands a run has not applied yet; cheap to poll (a stat when nothing is new)."""

    def __init__(self, run_dir: Path, applied: set[str] | None = None):
        self.path = Path(run_dir) / CONTROL_FILE
        self.applied = set(applied or ())
        self._offset = 0

    def poll(self) -> list[ControlCommand]:
        """New, unapplied commands in file order (malformed lines are skipped)."""
        try:
            if self.path.stat().st_size <= self._offset:
                return []
        except FileNotFoundError:
            return []
        with self.path.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # a half-written last line waits for the next poll
        self._offset += end
        commands = []
        for line in data[:end].splitlines():
            try:
                command = ControlCommand.model_validate(json.loads(line))
            except (ValueError, ValidationError):
                continue
            if command.id not in self.applied:
                self.applied.add(command.id)
                commands.append(command)
        return commands
