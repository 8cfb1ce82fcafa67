"""Following run directories: tail each events.jsonl by byte offset, discover new runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.events import Event, parse_event
from scaffold.recorder import EVENTS_FILE

CHUNK_BYTES = 1 << 20
"""Most bytes read from one log per poll, so a long log is consumed in bounded steps."""
_RESCAN_EVERY = 10
"""Polls between two scans of the followed directory for new runs."""

log = logging.getLogger(__name__)


@dataclass
class FeedBatch:
    """Events read from one run's log in one poll.

    Attributes:
        run_dir: the run directory.
        events: new complete events, in log order.
        reset: the log shrank (a resumed run cut its tail): forget what was read before.
    """

    run_dir: Path
    events: list[Event] = field(default_factory=list)
    reset: bool = False


class EventTail:
    """Reads the complete lines appended to an event log since the last poll.

    A half-written last line is left for the next poll. A log that was cut (a resumed run
    truncates to its last checkpoint, then appends again) is noticed by the last line read no
    longer being where it was; it is then read again from the start, flagged as a reset.
    """

    def __init__(self, path: Path, chunk_bytes: int = CHUNK_BYTES):
        self.path = path
        self.chunk_bytes = chunk_bytes
        self.offset = 0
        self.behind = False
        """True when the last poll stopped at the chunk limit: more is waiting."""
        self._last_line = b""
        self._seen_mtime_ns = -1
        """Modification time at the poll that read up to `offset`: unchanged, nothing is new."""

    def poll(self) -> FeedBatch:
        """New events since the last call (none when the file does not exist yet)."""
        batch = FeedBatch(self.path.parent)
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return batch
        size = stat.st_size
        if size == self.offset and stat.st_mtime_ns == self._seen_mtime_ns:
            return batch  # untouched since it was read: no need to open it
        self._seen_mtime_ns = stat.st_mtime_ns
        data = self._read(size)
        if data is None:
            self.offset, self._last_line, batch.reset = 0, b"", True
            data = self._read(size) or b""
        end = data.rfind(b"\n") + 1
        if end == 0 and len(data) == self.chunk_bytes:
            log.warning("%s: skipped an event line longer than %d bytes", self.path,
                        self.chunk_bytes)
            end, data, self._last_line = len(data), b"", b""  # rather than stall on it
        self.offset += end
        self.behind = self.offset < size
        lines = [line for line in data[:end].splitlines() if line.strip()]
        if lines:
            self._last_line = lines[-1] + b"\n"
        for line in lines:
            try:
                batch.events.append(parse_event(line))
            except ValueError:
                log.warning("%s: skipped a line that is not a valid event", self.path)
        return batch

    def _read(self, size: int) -> bytes | None:
        """Bytes after the offset, or None when the log no longer holds what was read."""
        start = self.offset - len(self._last_line)
        if size < self.offset:
            return None
        if size == self.offset and not self._last_line:
            return b""
        with self.path.open("rb") as fh:
            fh.seek(start)
            data = fh.read(len(self._last_line) + self.chunk_bytes)
        if not data.startswith(self._last_line):
            return None
        return data[len(self._last_line):]


class RunFollower:
    """Follows run directories: given ones (run mode), or every run under a directory (attach).

    Args:
        root: a run directory or a directory of runs (an experiment or output directory),
            rescanned now and then for runs that appear later.
        runs: run directories to follow, whether or not they exist yet.
    """

    def __init__(self, root: Path | None = None, runs: list[Path] | tuple[Path, ...] = ()):
        self.root = root
        self.tails: dict[Path, EventTail] = {}
        for run_dir in runs:
            self._add(run_dir)
        self._polls = 0

    @property
    def behind(self) -> bool:
        """True when some log has more bytes waiting than the last poll read."""
        return any(t.behind for t in self.tails.values())

    def _add(self, run_dir: Path) -> None:
        if run_dir not in self.tails:
            self.tails[run_dir] = EventTail(run_dir / EVENTS_FILE)

    def scan(self) -> None:
        """Pick up runs that appeared under the root (at most two levels down)."""
        if self.root is None:
            return
        if (self.root / EVENTS_FILE).exists() or (self.root / "manifest.json").exists():
            self._add(self.root)
            return
        for pattern in (f"*/{EVENTS_FILE}", f"*/*/{EVENTS_FILE}"):
            for path in sorted(self.root.glob(pattern)):
                self._add(path.parent)

    def poll(self) -> list[FeedBatch]:
        """New events of every followed run (batches with nothing new are left out)."""
        if self._polls % _RESCAN_EVERY == 0:
            self.scan()
        self._polls += 1
        batches = [tail.poll() for tail in list(self.tails.values())]
        return [b for b in batches if b.events or b.reset]
