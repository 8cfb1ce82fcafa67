"""Conformance suite (pytest) every memory backend, built-in or third-party, can run on itself.

Usage, in your own tests::

    from memory.testing import MemoryBackendConformance

    class TestMyBackend(MemoryBackendConformance):
        def make_backend(self, context):
            return MyBackend(..., context=context)
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from memory._contract import BackendContext, CompactionContext, MemoryRecord
from memory.budget import TokenCounter
from memory.stack import MemoryStack
from scaffold.messages import Message
from scaffold.models.cassette import CassetteResponse

COUNTER_MODEL = "scripted/default"
TOPICS = ("the harbor in Boston", "the space program and the moon", "a sailing trip",
          "the budget for next year", "a letter from an old friend", "a speech about peace")


class _StubModel:
    """Stands in for model roles at the memory boundary: short, well-formed replies."""

    async def summarize(self, messages: list[dict[str, Any]], max_tokens: int = 0,
                        attempt: int = 0) -> CassetteResponse:
        return CassetteResponse(content="We discussed the harbor, the moon and a speech.",
                                finish_reason="stop")

    async def ask_agent(self, messages: list[dict[str, Any]],
                        max_tokens: int = 0) -> CassetteResponse:
        return CassetteResponse(content="- The user likes history.\n- I stay true to myself.",
                                finish_reason="stop")


def conversation(n: int, prefix: str = "m") -> list[Message]:
    """n alternating user/assistant messages about varied topics."""
    return [Message(id=f"{prefix}{i}", role="user" if i % 2 == 0 else "assistant",
                    content=f"Message {i} is about {TOPICS[i % len(TOPICS)]}. " * 3,
                    author="user" if i % 2 == 0 else "agent", step=i // 2 + 1)
            for i in range(n)]


class MemoryBackendConformance:
    """Subclass in a test module and implement `make_backend`; pytest collects the checks."""

    budgets: tuple[int, ...] = (64, 256, 1024)
    """Budgets render() is checked against."""
    turns: int = 24
    """Messages in the driven conversation."""

    def make_backend(self, context: BackendContext) -> Any:
        """Build the backend under test (must be implemented by the subclass)."""
        raise NotImplementedError("subclasses return the backend under test")

    @pytest.fixture
    def context(self, tmp_path: Path) -> BackendContext:
        """A backend context rooted in a temporary run directory."""
        return BackendContext(run_dir=tmp_path / "run", run_id="conformance", agent_id="agent",
                              identity="You are Nova, a starship pilot in the year 3012.")

    def drive(self, backend: Any, messages: list[Message]) -> list[MemoryRecord]:
        """Feed messages one by one, compacting after each as a run does; returns records."""
        stack = MemoryStack("You are Nova.", [backend], TokenCounter(COUNTER_MODEL), 400)
        stub, records = _StubModel(), []

        async def before_change(kind: str) -> None:
            return None

        for i, message in enumerate(messages):
            records.extend(stack.observe([message]))
            ctx = CompactionContext(
                agent_id="agent", step=message.step, window=stack.window,
                counter=stack.counter, budget_tokens=400, prompt_tokens=stack.prompt_tokens,
                complete=stub.summarize, before_change=before_change,
                model_input=lambda: stack.model_input().messages, ask_agent=stub.ask_agent)
            records.extend(asyncio.run(stack.compact(ctx)))
        return records

    def test_render_stays_within_budget(self, context: BackendContext) -> None:
        backend = self.make_backend(context)
        self.drive(backend, conversation(self.turns))
        counter = TokenCounter(COUNTER_MODEL)
        for budget in self.budgets:
            rendered = backend.render(budget)
            assert all(m.get("role") and isinstance(m.get("content"), str) for m in rendered)
            used = counter.messages(rendered)
            assert used <= budget, f"render({budget}) used {used} tokens"

    def test_snapshot_restore_round_trip(self, context: BackendContext) -> None:
        backend = self.make_backend(context)
        self.drive(backend, conversation(self.turns))
        snapshot = json.loads(json.dumps(backend.snapshot()))
        other = self.make_backend(context)
        other.restore(snapshot)
        assert other.render(1024) == backend.render(1024)
        assert json.loads(json.dumps(other.snapshot())) == snapshot

    def test_records_carry_provenance(self, context: BackendContext) -> None:
        backend = self.make_backend(context)
        messages = conversation(self.turns)
        ids = {m.id for m in messages}
        for record in self.drive(backend, messages):
            assert isinstance(record, MemoryRecord)
            assert record.kind and record.author and record.backend == backend.name
            assert all(isinstance(s, str) and s for s in record.source_ids)
            if record.kind in ("summarize", "truncate", "insert"):
                assert set(record.source_ids) <= ids, record

    def test_concurrent_writers_lose_nothing(self, context: BackendContext) -> None:
        backend = self.make_backend(context)
        batches = [conversation(20, prefix=f"w{w}-") for w in range(8)]
        inserted: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def write(batch: list[Message]) -> None:
            try:
                for message in batch:
                    for record in backend.observe([message]) or []:
                        with lock:
                            inserted.extend(record.source_ids)
            except BaseException as exc:  # collected and re-raised in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(b,)) for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(inserted) == len(set(inserted)), "a message was stored twice"
        sequential = self.make_backend(context)
        expected = [i for b in batches for m in b for r in sequential.observe([m]) or []
                    for i in r.source_ids]
        assert set(inserted) == set(expected), "concurrent writes stored less than sequential"
        json.dumps(backend.snapshot())

    def test_bad_input_raises_clear_error(self, context: BackendContext) -> None:
        backend = self.make_backend(context)
        with pytest.raises((TypeError, ValueError)) as info:
            backend.observe([{"role": "user", "content": "not a Message"}])  # type: ignore[list-item]
        assert str(info.value)
        with pytest.raises((TypeError, ValueError)) as info:
            backend.restore("not a snapshot")  # type: ignore[arg-type]
        assert str(info.value)
