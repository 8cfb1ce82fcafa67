"""Summarize-on-overflow: when it fires, what it keeps, how it handles bad summaries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from memory import CompactionContext, ContextWindow, MemoryStack, TokenCounter
from memory.summary import SummaryMemory, summary_failure
from memory.window import WindowMemory
from scaffold.messages import Message
from scaffold.models.cassette import CassetteResponse

MODEL = "scripted/default"


class Summarizer:
    """Stands in at the model boundary: returns queued summaries and records requests."""

    def __init__(self, replies: list[str] | None = None):
        self.replies = list(replies or [])
        self.requests: list[list[dict[str, Any]]] = []

    async def __call__(self, messages: list[dict[str, Any]], max_tokens: int,
                       attempt: int = 0) -> CassetteResponse:
        self.requests.append(messages)
        text = self.replies.pop(0) if self.replies else "We talked about the weather and books."
        return CassetteResponse(content=text, finish_reason="stop")


def make_stack(backend: Any, budget: int = 300) -> MemoryStack:
    return MemoryStack("You are John F. Kennedy.", [backend], TokenCounter(MODEL), budget)


def context(stack: MemoryStack, summarizer: Summarizer, step: int = 1,
            before: list[str] | None = None) -> CompactionContext:
    async def before_change(kind: str) -> None:
        if before is not None:
            before.append(kind)

    return CompactionContext(agent_id="jfk", step=step, window=stack.window,
                             counter=stack.counter, budget_tokens=stack.budget_tokens,
                             prompt_tokens=stack.prompt_tokens, complete=summarizer,
                             before_change=before_change)


def msg(i: int, role: str = "user", **kw: Any) -> Message:
    content = kw.pop("content", f"message number {i} about the harbor and the garden " * 3)
    return Message(id=f"m{i}", role=role, content=content, author="user" if role == "user"
                   else "jfk", step=i, **kw)


def test_fires_exactly_when_prompt_exceeds_threshold() -> None:
    backend = SummaryMemory(threshold=0.5, keep_last=2)
    stack = make_stack(backend)
    summarizer = Summarizer()
    fired_at = []
    for i in range(12):
        stack.observe([msg(i, "user" if i % 2 == 0 else "assistant")])
        over = stack.prompt_tokens() > 0.5 * stack.budget_tokens
        records = asyncio.run(stack.compact(context(stack, summarizer, step=i)))
        assert bool(records) == over, f"step {i}: over={over} records={records}"
        if records:
            fired_at.append(i)
            rec = records[0]
            assert rec.kind == "summarize" and rec.status == "ok"
            assert rec.tokens_before > 0.5 * stack.budget_tokens
            assert rec.tokens_after < rec.tokens_before
            assert len(stack.window.messages) == 2
    assert len(fired_at) >= 2


def test_keep_last_and_recursive_fold() -> None:
    backend = SummaryMemory(threshold=0.3, keep_last=3)
    stack = make_stack(backend)
    replies = [f"summary number {k} of the talk" for k in range(8)]
    summarizer = Summarizer(list(replies))
    for i in range(8):
        stack.observe([msg(i, "user" if i % 2 == 0 else "assistant")])
        asyncio.run(stack.compact(context(stack, summarizer)))
        assert len(stack.window.messages) <= 3
    n = len(summarizer.requests)
    assert n >= 2
    assert "Previous summary" not in summarizer.requests[0][1]["content"]
    for k in range(1, n):
        assert f"summary number {k - 1} of the talk" in summarizer.requests[k][1]["content"]
    assert backend.summaries == [f"summary number {n - 1} of the talk"]
    rendered = stack.model_input().messages[0]["content"]
    assert backend.summaries[0] in rendered and "[Memory]" in rendered


def test_append_mode_keeps_all_summaries() -> None:
    backend = SummaryMemory(threshold=0.3, keep_last=2, recursive=False)
    stack = make_stack(backend)
    summarizer = Summarizer(["alpha summary here", "beta summary here"])
    for i in range(8):
        stack.observe([msg(i, "user" if i % 2 == 0 else "assistant")])
        asyncio.run(stack.compact(context(stack, summarizer)))
    assert backend.summaries[:2] == ["alpha summary here", "beta summary here"]
    assert len(summarizer.requests) >= 2
    assert "Previous summary" not in summarizer.requests[1][1]["content"]


def test_never_separates_tool_call_from_result() -> None:
    window = ContextWindow()
    call = {"id": "c1", "type": "function", "function": {"name": "python", "arguments": "{}"}}
    window.add(msg(0))
    window.add(msg(1, "assistant", content="", tool_calls=[call]))
    window.add(msg(2, "tool", content="42", tool_call_id="c1"))
    window.add(msg(3, "assistant"))
    window.add(msg(4))
    # keep_last=3 would start the kept part at the tool result: the call must stay with it.
    evicted = window.evictable(keep_last=3)
    assert [m.id for m in evicted] == ["m0"]
    # keep_last=2 keeps m3, m4: the pair leaves together.
    assert [m.id for m in window.evictable(keep_last=2)] == ["m0", "m1", "m2"]
    # a share that would cut after the call takes the result along, or stops before the call.
    ids = [m.id for m in window.evictable(keep_last=1, share=0.5)]
    assert ids in (["m0"], ["m0", "m1", "m2"])


def test_eviction_share_honoured() -> None:
    window = ContextWindow([msg(i) for i in range(10)])
    assert len(window.evictable(keep_last=2, share=0.5)) == 4
    assert len(window.evictable(keep_last=2, share=0.25)) == 2
    assert len(window.evictable(keep_last=2)) == 8


def test_probe_hook_runs_before_the_change() -> None:
    backend = SummaryMemory(threshold=0.3, keep_last=2)
    stack = make_stack(backend)
    seen: list[str] = []
    for i in range(6):
        stack.observe([msg(i)])
        asyncio.run(stack.compact(context(stack, Summarizer(), before=seen)))
    assert seen and set(seen) == {"summarize"}


@pytest.mark.parametrize("text,reason", [
    ("", "empty"),
    ("  ok ", "empty"),
    ("I'm sorry, but I can't assist with that.", "refused"),
    ("As an AI language model, I cannot summarize this conversation.", "refused"),
    ("We met. We met. We met. We met.", "runaway"),
    ("The President discussed the harbor, the budget and a speech for Monday.", None),
])
def test_failure_detection(text: str, reason: str | None) -> None:
    assert summary_failure(text, "stop", 500, 20) == reason


def test_refused_summary_keeps_previous_and_is_recorded() -> None:
    backend = SummaryMemory(threshold=0.3, keep_last=2, on_failure="keep_previous")
    backend.restore({"summaries": ["an earlier good summary"]})
    stack = make_stack(backend)
    for i in range(6):
        stack.observe([msg(i)])
    summarizer = Summarizer(["I'm sorry, but I can't assist with that."])
    records = asyncio.run(stack.compact(context(stack, summarizer)))
    assert records[0].status == "failed" and records[0].reason == "refused"
    assert records[0].policy == "keep_previous"
    assert backend.summaries == ["an earlier good summary"]


def test_retry_policy_asks_again() -> None:
    backend = SummaryMemory(threshold=0.3, keep_last=2, on_failure="retry", retries=2)
    stack = make_stack(backend)
    for i in range(6):
        stack.observe([msg(i)])
    summarizer = Summarizer(["", "A good summary of the harbor talk."])
    records = asyncio.run(stack.compact(context(stack, summarizer)))
    assert records[0].status == "ok" and len(summarizer.requests) == 2
    assert backend.summaries == ["A good summary of the harbor talk."]


def test_accept_policy_stores_but_flags() -> None:
    backend = SummaryMemory(threshold=0.3, keep_last=2, on_failure="accept")
    stack = make_stack(backend)
    for i in range(6):
        stack.observe([msg(i)])
    refusal = "I'm sorry, but I cannot help with that request."
    records = asyncio.run(stack.compact(context(stack, Summarizer([refusal]))))
    assert records[0].status == "failed" and records[0].policy == "accept"
    assert backend.summaries == [refusal]


def test_window_truncation_drops_oldest() -> None:
    backend = WindowMemory(threshold=0.5, keep_last=2)
    stack = make_stack(backend)
    for i in range(10):
        stack.observe([msg(i)])
        records = asyncio.run(stack.compact(context(stack, Summarizer())))
        for r in records:
            assert r.kind == "truncate" and r.tokens_after <= 0.5 * stack.budget_tokens
    assert stack.window.messages[-1].id == "m9"


def test_snapshot_restore_round_trip() -> None:
    backend = SummaryMemory(threshold=0.3, keep_last=2)
    stack = make_stack(backend)
    for i in range(6):
        stack.observe([msg(i)])
        asyncio.run(stack.compact(context(stack, Summarizer())))
    other = make_stack(SummaryMemory(threshold=0.3, keep_last=2))
    other.restore(stack.snapshot())
    assert other.model_input().messages == stack.model_input().messages


def test_append_mode_rewrites_over_char_cap() -> None:
    backend = SummaryMemory(threshold=0.3, keep_last=2, recursive=False, append_char_cap=200)
    stack = make_stack(backend)
    long = "The President spoke about the harbor, the budget and the treaty at length. " * 2
    summarizer = Summarizer([long, long, "One short rewritten summary of it all."] + [long] * 5)
    kinds = []
    for i in range(10):
        stack.observe([msg(i)])
        kinds += [r.kind for r in asyncio.run(stack.compact(context(stack, summarizer)))]
        if "summary_rewrite" in kinds:
            break
    assert "summary_rewrite" in kinds
    assert backend.summaries == ["One short rewritten summary of it all."]


def test_warns_once_when_what_it_keeps_is_over_the_threshold(
        caplog: pytest.LogCaptureFixture) -> None:
    backend = SummaryMemory(threshold=0.5, keep_last=4)
    stack = make_stack(backend, budget=200)  # four kept messages alone are over 100 tokens
    summarizer = Summarizer()
    with caplog.at_level("WARNING", logger="memory.summary"):
        for i in range(10):
            stack.observe([msg(i, "user" if i % 2 == 0 else "assistant")])
            asyncio.run(stack.compact(context(stack, summarizer, step=i)))
    warnings = [r.getMessage() for r in caplog.records if r.name == "memory.summary"]
    assert len(warnings) == 1 and "every step will summarize again" in warnings[0]
    assert "jfk" in warnings[0] and "budget 200" in warnings[0]


def test_no_warning_when_compaction_makes_room(caplog: pytest.LogCaptureFixture) -> None:
    backend = SummaryMemory(threshold=0.5, keep_last=2)
    stack = make_stack(backend, budget=600)
    with caplog.at_level("WARNING", logger="memory.summary"):
        for i in range(16):
            stack.observe([msg(i, "user" if i % 2 == 0 else "assistant")])
            asyncio.run(stack.compact(context(stack, Summarizer(), step=i)))
    assert backend.summaries and not [r for r in caplog.records if r.name == "memory.summary"]
