"""EventBus: stamps events with seq and time and hands them to subscribers in order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from scaffold.events import Event

E = TypeVar("E", bound=Event)
Subscriber = Callable[[Event], None]


class Emit(Protocol):
    """What emits an event for the model client and trackers: `EventBus.emit`, or a stand-in
    that records nothing (returns None)."""

    def __call__(self, cls: type[E], *, step: int, agent_id: str | None = None,
                 **fields: Any) -> E | None: ...

log = logging.getLogger(__name__)


class EventBus:
    """Creates every event of a run; the first subscriber (the recorder) must not fail.

    Args:
        run_id: the run the events belong to.
        start_seq: the last seq already written (when resuming).
    """

    def __init__(self, run_id: str, start_seq: int = 0):
        self.run_id = run_id
        self.seq = start_seq
        self._primary: list[Subscriber] = []
        self._secondary: list[Subscriber] = []

    def subscribe(self, fn: Subscriber, primary: bool = False) -> None:
        """Add a subscriber; errors in primary ones propagate, others are logged."""
        (self._primary if primary else self._secondary).append(fn)

    def unsubscribe(self, fn: Subscriber) -> None:
        """Remove a subscriber."""
        for subs in (self._primary, self._secondary):
            if fn in subs:
                subs.remove(fn)

    def emit(self, cls: type[E], *, step: int, agent_id: str | None = None, **fields: Any) -> E:
        """Build, number and publish one event."""
        self.seq += 1
        event = cls(seq=self.seq, run_id=self.run_id, agent_id=agent_id, step=step,
                    ts=time.time(), **fields)
        for fn in self._primary:
            fn(event)
        for fn in self._secondary:
            try:
                fn(event)
            except Exception:  # a live view must never break the run
                log.exception("event subscriber failed")
        return event
