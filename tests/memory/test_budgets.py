"""Memory renders within its token budget in any script; what does not fit is cut and said so."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from memory import CUT_MARKER, BackendContext, CompactionContext, MemoryStack, TokenCounter
from memory._text import word_count
from memory.budget import fit_body
from memory.core import CoreMemory, make_core
from memory.notes import NotesMemory, parse_notes
from memory.summary import SummaryMemory, summary_failure
from memory.testing import SCRIPTS, script_text
from scaffold.messages import Message
from scaffold.models.cassette import CassetteResponse

COUNTER = TokenCounter("scripted/default")


def cost(rendered: list[dict[str, Any]]) -> int:
    return COUNTER.messages(rendered)


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("budget", [30, 100, 400])
def test_fit_body_fits_and_keeps_a_prefix(script: str, budget: int) -> None:
    body = script_text(script, 3000)
    fit = fit_body(COUNTER, budget, body, lambda text: f"[header]\n{text}")
    assert fit is not None and fit.cut
    assert fit.tokens == COUNTER.message({"role": "system", "content": fit.text}) <= budget
    assert fit.text.endswith(CUT_MARKER) and fit.full_tokens > budget
    assert body.startswith(fit.text.removeprefix("[header]\n").removesuffix(CUT_MARKER))
    assert fit.kept_chars > 0


def test_fit_body_leaves_what_fits_alone_and_gives_up_below_the_frame() -> None:
    fit = fit_body(COUNTER, 100, "short text", lambda text: f"[header]\n{text}")
    assert fit is not None and not fit.cut and fit.text == "[header]\nshort text"
    assert fit_body(COUNTER, 5, "short text", lambda text: f"[header]\n{text}") is None


@pytest.mark.parametrize("script", ["digits", "cjk", "emoji"])
def test_summary_renders_within_budget_in_tokens(script: str) -> None:
    """Before: budget 100 rendered 370 tokens of digits and 465 of Chinese (cut at 400 chars)."""
    memory = SummaryMemory(counter=COUNTER)
    memory.summaries = [script_text(script, 2000)]
    rendered = memory.render(100)
    assert rendered and 90 <= cost(rendered) <= 100
    assert rendered[0]["content"].endswith(CUT_MARKER)
    assert memory.last_cut is not None and memory.last_cut["tokens"] > 100


def test_summarize_event_says_what_was_cut() -> None:
    memory = SummaryMemory(threshold=0.5, keep_last=2, counter=COUNTER)
    stack = MemoryStack("You are Nova.", [memory], COUNTER, 400)
    for i in range(12):
        stack.observe([Message(id=f"m{i}", role="user" if i % 2 == 0 else "assistant",
                               content=script_text("latin", 200, i), step=i // 2,
                               author="user" if i % 2 == 0 else "nova")])
    record = asyncio.run(memory.maybe_compact(context(stack, script_text("cjk", 1500))))
    assert record is not None and record.status == "ok"
    cut = record.detail["cut"]
    assert cut["budget"] == 100 and cut["tokens"] > 100 >= cut["rendered_tokens"]
    assert 0 < cut["kept_chars"] < cut["chars"]


def test_oversized_note_is_cut_not_dropped() -> None:
    """Before: one note longer than the budget made the whole notes block vanish."""
    memory = NotesMemory(counter=COUNTER)
    memory.notes = ["The user asked about the harbor.", script_text("digits", 1200)]
    rendered = memory.render(60)
    assert rendered and cost(rendered) <= 60
    assert rendered[0]["content"].endswith(CUT_MARKER)
    assert memory.last_cut is not None
    assert memory.last_cut["shown"] == 1 and memory.last_cut["left_out"] == 1


def test_note_event_says_what_was_cut_and_left_out() -> None:
    memory = NotesMemory(every=1, counter=COUNTER)
    stack = MemoryStack("You are Nova.", [memory], COUNTER, 240)  # notes get 60 tokens
    long_note = f"- I keep these numbers: {script_text('digits', 800)}"
    record = asyncio.run(memory.maybe_compact(context(stack, long_note, step=1)))
    assert record is not None and record.status == "ok"
    assert record.detail["cut"]["shown"] == 1 and record.detail["cut"]["tokens"] > 60
    assert cost(memory.render(60)) <= 60


def test_core_cuts_the_human_block_first_then_the_persona() -> None:
    core = CoreMemory("You are Nova, a starship pilot.", script_text("emoji", 800),
                      counter=COUNTER)
    rendered = core.render(80)
    assert cost(rendered) <= 80 and "You are Nova, a starship pilot." in rendered[0]["content"]
    assert core.last_cut is not None and core.last_cut["block"] == "human"
    core.blocks["persona"] = script_text("cjk", 800)
    rendered = core.render(80)
    assert cost(rendered) <= 80 and core.last_cut is not None
    assert core.last_cut["block"] == "persona"


def test_core_edit_that_overflows_says_so(tmp_path: Path) -> None:
    core = make_core(context=BackendContext(run_dir=tmp_path, run_id="r", agent_id="nova",
                                            identity="You are Nova.", counter=COUNTER),
                     read_only=False, human_limit=4000)
    core.render(60)
    append = next(t for t in core.tools() if t.name == "core_memory_append")
    text, record = append.run({"block": "human", "content": script_text("cjk", 600)})
    assert record is not None and record.detail["cut"]["block"] == "human"
    assert "shown cut" in text
    assert cost(core.render(60)) <= 60


def test_words_are_counted_in_scripts_without_spaces() -> None:
    assert word_count("我们讨论了港口和月亮") == 5
    assert word_count("好的") == 1
    assert word_count("The harbor, the moon.") == 4
    assert summary_failure("我们讨论了波士顿港口、登月计划和和平演讲。", "stop", 100, 20) is None
    assert summary_failure("好的。", "stop", 100, 2) == "empty"
    assert parse_notes("- 用户喜欢历史。\n- 我是总统。\n- ok") == ["用户喜欢历史。", "我是总统。"]


def context(stack: MemoryStack, reply: str, step: int = 1) -> CompactionContext:
    """A compaction context whose summarizer and agent both answer `reply`."""

    async def complete(messages: list[dict[str, Any]], max_tokens: int = 0,
                       attempt: int = 0) -> CassetteResponse:
        return CassetteResponse(content=reply, finish_reason="stop")

    async def before_change(kind: str) -> None:
        return None

    return CompactionContext(agent_id="nova", step=step, window=stack.window, counter=COUNTER,
                             budget_tokens=stack.budget_tokens, prompt_tokens=stack.prompt_tokens,
                             complete=complete, before_change=before_change,
                             model_input=lambda: stack.model_input().messages,
                             ask_agent=complete)
