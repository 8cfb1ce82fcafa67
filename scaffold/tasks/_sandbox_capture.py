"""Bounded capture of a sandboxed process's output: head and tail kept, the middle cut."""

from __future__ import annotations

import asyncio
import codecs

READ_CHUNK = 1 << 16


class OutputBudget:
    """Characters all of one run's streams may produce before the run is killed.

    Args:
        limit_chars: the total beyond which `exceeded` is set.
    """

    def __init__(self, limit_chars: int):
        self.limit_chars = limit_chars
        self.total_chars = 0
        self.exceeded = asyncio.Event()

    def spend(self, chars: int) -> None:
        """Count `chars` more characters; trips `exceeded` past the limit."""
        self.total_chars += chars
        if self.total_chars > self.limit_chars:
            self.exceeded.set()


class OutputCapture:
    """One stream's text within `limit_chars`: the first half and the last half are kept.

    Memory stays bounded however much the process writes: the middle is dropped as it arrives
    and only counted.

    Args:
        limit_chars: characters kept in all (head + tail).
    """

    def __init__(self, limit_chars: int):
        self.head_limit = limit_chars // 2
        self.tail_limit = limit_chars - self.head_limit
        self.head = ""
        self.tail = ""
        self.total_chars = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @property
    def truncated(self) -> bool:
        """True when characters were cut from the middle."""
        return self.total_chars > self.head_limit + self.tail_limit

    def feed(self, data: bytes, final: bool = False) -> None:
        """Take raw bytes (`final`: the stream has ended)."""
        text = self._decoder.decode(data, final)
        self.total_chars += len(text)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += text[:room]
            text = text[room:]
        if text:
            self.tail = (self.tail + text)[-self.tail_limit:]

    def text(self) -> str:
        """The kept text, with a marker saying how much was cut where."""
        cut = self.total_chars - len(self.head) - len(self.tail)
        if cut <= 0:
            return self.head + self.tail
        return f"{self.head}\n[... {cut} characters cut ...]\n{self.tail}"


async def drain(stream: asyncio.StreamReader | None, capture: OutputCapture,
                budget: OutputBudget) -> None:
    """Read `stream` to its end in chunks, into `capture`, charging `budget`."""
    if stream is None:
        return
    while chunk := await stream.read(READ_CHUNK):
        before = capture.total_chars
        capture.feed(chunk)
        budget.spend(capture.total_chars - before)
    capture.feed(b"", final=True)
