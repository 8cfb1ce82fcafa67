"""Model-call limits shared by concurrent runs: calls in flight and requests per minute."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from scaffold.config import ExecutionSpec


class ModelLimits:
    """Per-model semaphores and request-rate spacing, created lazily per model name.

    Args:
        spec: the execution settings.
    """

    def __init__(self, spec: ExecutionSpec | None = None):
        self.spec = spec or ExecutionSpec()
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._rate_locks: dict[str, asyncio.Lock] = {}

    def capacity(self, model: str) -> int:
        """Calls of `model` allowed in flight."""
        if model.startswith("local/"):
            return 1
        return self.spec.model_concurrency.get(model, self.spec.default_model_concurrency)

    @asynccontextmanager
    async def slot(self, model: str) -> AsyncIterator[None]:
        """Hold one call slot of `model` (waiting for the rate limit first)."""
        semaphore = self._slots.setdefault(model, asyncio.Semaphore(self.capacity(model)))
        async with semaphore:
            await self._pace(model)
            yield

    async def _pace(self, model: str) -> None:
        rpm = self.spec.requests_per_minute.get(model)
        if not rpm:
            return
        lock = self._rate_locks.setdefault(model, asyncio.Lock())
        async with lock:
            now = time.monotonic()
            start = max(now, self._next_start.get(model, now))
            self._next_start[model] = start + 60.0 / rpm
            if start > now:
                await asyncio.sleep(start - now)
