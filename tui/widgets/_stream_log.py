"""A RichLog that shows a bounded `Stream`, writing only what is new since the last look."""

from __future__ import annotations

from typing import Generic, TypeVar

from rich.console import RenderableType
from textual.widgets import RichLog

from tui.state import Stream

T = TypeVar("T")


class StreamLog(RichLog, Generic[T]):
    """Subclasses say how one item looks; `show` does the bookkeeping."""

    def __init__(self, *, max_lines: int, id: str | None = None) -> None:  # noqa: A002
        super().__init__(max_lines=max_lines, min_width=20, wrap=True, markup=False, id=id)
        self._source: object = None
        self._seen = 0

    def show(self, stream: Stream[T] | None, source: object) -> None:
        """Follow `stream`; a different `source` (another agent) starts the log afresh."""
        if source != self._source:
            self.clear()
            self._source, self._seen = source, 0
        if stream is None:
            return
        for item in stream.since(self._seen):
            self.write(self.render_item(item))
        self._seen = stream.total

    def render_item(self, item: T) -> RenderableType:
        """How one item looks."""
        raise NotImplementedError
