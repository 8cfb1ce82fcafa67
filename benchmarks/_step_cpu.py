"""CPU per step of scaffold's fixed per-step work, measured in place by wrapping it."""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PIECES: dict[str, list[tuple[str, str, str]]] = {
    "checkpoint write (serialize state, SQLite commit)": [
        ("langgraph.checkpoint.sqlite", "SqliteSaver", "put"),
        ("langgraph.checkpoint.sqlite", "SqliteSaver", "put_writes")],
    "checkpoint read (LangGraph loads the state each act)": [
        ("langgraph.checkpoint.sqlite", "SqliteSaver", "get_tuple")],
    "events (build, serialize, mask keys, write)": [("scaffold.bus", "EventBus", "emit")],
    "cassette (request hash, entry write)": [
        ("scaffold.models.client", "", "request_hash"),
        ("scaffold.models.cassette", "CassetteWriter", "append")],
    "memory accounting (model input, token counts, snapshots)": [
        ("memory.stack", "MemoryStack", "model_input"),
        ("memory.stack", "MemoryStack", "prompt_tokens"),
        ("memory.stack", "MemoryStack", "overrun"),
        ("memory.stack", "MemoryStack", "snapshot")],
}
"""Synchronous pieces of a step, by what they are for: (module, class or '' for a module
function, attribute)."""


@contextmanager
def measured() -> Iterator[Counter[str]]:
    """Wrap every piece for the duration; yields seconds of CPU (this thread) per piece. Nested
    calls count once, in the outermost piece."""
    import importlib

    spent: Counter[str] = Counter()
    depth = [0]
    undo: list[Callable[[], None]] = []

    def wrap(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if depth[0]:
                return fn(*args, **kwargs)
            depth[0] += 1
            start = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.thread_time() - start
                depth[0] -= 1
        return timed

    for label, targets in PIECES.items():
        for module_name, cls_name, attr in targets:
            owner: Any = importlib.import_module(module_name)
            owner = getattr(owner, cls_name) if cls_name else owner
            original = getattr(owner, attr)
            setattr(owner, attr, wrap(label, original))
            undo.append(functools.partial(setattr, owner, attr, original))
    try:
        yield spent
    finally:
        for restore in reversed(undo):
            restore()
