"""Engine log records routed to the TUI's event log while it owns the terminal."""

from __future__ import annotations

import logging
import queue
import sys
from typing import Any

from tui._log_lines import LogLine

_STYLES = {logging.WARNING: "yellow", logging.ERROR: "red", logging.CRITICAL: "bold red"}


class LogCapture(logging.Handler):
    """While started, root log records go to `inbox` as event-log lines instead of the terminal
    (a stream handler writing to the terminal would tear through the screen)."""

    def __init__(self, inbox: queue.SimpleQueue[Any], level: int = logging.WARNING):
        super().__init__(level)
        self.inbox = inbox
        self._removed: list[logging.Handler] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record as a log line (called from any thread)."""
        try:
            text = f"{record.name}: {record.getMessage()}"
        except Exception:
            text = f"{record.name}: {record.msg!r}"
        self.inbox.put(LogLine(None, "log", record.levelname.lower(), text,
                               _STYLES.get(record.levelno, "")))

    def start(self) -> None:
        """Take over from handlers that write to the terminal."""
        root = logging.getLogger()
        terminal = {sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__}
        self._removed = [h for h in root.handlers if type(h) is logging.StreamHandler
                         and getattr(h, "stream", None) in terminal]
        for handler in self._removed:
            root.removeHandler(handler)
        root.addHandler(self)

    def stop(self) -> None:
        """Give the terminal handlers back."""
        root = logging.getLogger()
        root.removeHandler(self)
        for handler in self._removed:
            root.addHandler(handler)
        self._removed = []
