"""BudgetGuard: a context memory cannot bring within budget is reported, once per doubling."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from memory import CompactionContext, MemoryStack, TokenCounter
from memory.overrun import BudgetGuard, overrun_causes
from memory.summary import SummaryMemory
from memory.window import WindowMemory
from scaffold.messages import Message
from scaffold.models.cassette import CassetteResponse

COUNTER = TokenCounter("scripted/default")
SECTIONS = {"persona": 20, "messages": 0}


def test_reported_on_entering_and_each_doubling_then_reset() -> None:
    guard = BudgetGuard()
    assert guard.check("nova", 380, 400, SECTIONS, []) is None
    first = guard.check("nova", 450, 400, {**SECTIONS, "messages": 430}, ["cause"])
    assert first is not None and first.status == "failed" and first.kind == "budget"
    assert first.backend == "stack" and first.tokens_before == first.tokens_after == 450
    assert "1.1x the budget of 400" in (first.reason or "") and "cause" in (first.reason or "")
    assert first.detail["sections"]["messages"] == 430 and first.detail["budget"] == 400
    assert guard.check("nova", 790, 400, SECTIONS, []) is None  # same level: said already
    assert guard.check("nova", 800, 400, SECTIONS, []) is not None  # 2x
    assert guard.check("nova", 1500, 400, SECTIONS, []) is None
    assert guard.check("nova", 1700, 400, SECTIONS, []) is not None  # 4x
    assert guard.check("nova", 300, 400, SECTIONS, []) is None
    assert guard.check("nova", 420, 400, SECTIONS, []) is not None  # over again: said again


def test_snapshot_keeps_what_was_reported() -> None:
    guard = BudgetGuard()
    guard.check("nova", 900, 400, SECTIONS, [])
    resumed = BudgetGuard()
    resumed.restore(guard.snapshot())
    assert resumed.check("nova", 900, 400, SECTIONS, []) is None
    fresh = BudgetGuard()
    fresh.restore({})
    assert fresh.check("nova", 900, 400, SECTIONS, []) is not None


def test_causes_name_what_keeps_the_context_large() -> None:
    window = WindowMemory(keep_last=50)
    assert overrun_causes([window], 12, {"persona": 10}, 400) == [
        "window keep_last=50 keeps all 12 messages"]
    assert overrun_causes([], 12, {"persona": 500}, 400) == [
        "no backend in this condition removes messages from the context",
        "the persona section alone is 500 tokens"]


def message(i: int) -> Message:
    return Message(id=f"m{i}", role="user" if i % 2 == 0 else "assistant",
                   content=f"Message {i} is about the harbor, the moon and the budget. " * 3,
                   author="user" if i % 2 == 0 else "nova", step=i // 2 + 1)


def drive(backend: Any, budget: int, n: int) -> list[Any]:
    """Observe n messages, compacting after each; returns every record."""
    stack = MemoryStack("You are Nova.", [backend], COUNTER, budget)

    async def summarize(messages: list[dict[str, Any]], max_tokens: int = 0,
                        attempt: int = 0) -> CassetteResponse:
        return CassetteResponse(content="We talked about the harbor and the moon.",
                                finish_reason="stop")

    async def before_change(kind: str) -> None:
        return None

    records = []
    for i in range(n):
        stack.observe([message(i)])
        ctx = CompactionContext(agent_id="nova", step=i, window=stack.window, counter=COUNTER,
                                budget_tokens=budget, prompt_tokens=stack.prompt_tokens,
                                complete=summarize, before_change=before_change)
        records.extend(asyncio.run(stack.compact(ctx)))
    return records


@pytest.mark.parametrize("backend", [WindowMemory(keep_last=40), SummaryMemory(keep_last=40)],
                         ids=["window", "summary"])
def test_stack_reports_a_keep_last_the_budget_cannot_hold(
        backend: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="memory.overrun"):
        records = drive(backend, 300, 40)  # 40 messages of ~45 tokens: 6x the budget
    failed = [r for r in records if r.kind == "budget"]
    assert [round(r.detail["ratio"]) for r in failed] == [1, 2, 4]
    assert all(r.status == "failed" and "keep_last=40" in (r.reason or "") for r in failed)
    warnings = [r.getMessage() for r in caplog.records if r.name == "memory.overrun"]
    assert len(warnings) == 3 and all("nova" in w and "budget_tokens" in w for w in warnings)


@pytest.mark.parametrize("backend", [WindowMemory(keep_last=2), SummaryMemory(keep_last=2)],
                         ids=["window", "summary"])
def test_nothing_reported_while_memory_keeps_the_budget(backend: Any) -> None:
    assert not [r for r in drive(backend, 300, 40) if r.kind == "budget"]
