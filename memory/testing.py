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
from memory.overrun import BACKEND as OVERRUN_BACKEND
from memory.overrun import KIND as OVERRUN_KIND
from memory.stack import MemoryStack
from scaffold.messages import Message
from scaffold.models.cassette import CassetteResponse, Completion

COUNTER_MODEL = "scripted/default"
TOPICS = ("the harbor in Boston", "the space program and the moon", "a sailing trip",
          "the budget for next year", "a letter from an old friend", "a speech about peace")
UNLIMITED = 1_000_000
"""A budget nothing in these tests reaches."""
SCRIPTS = ("latin", "digits", "cjk", "emoji", "long_words")
"""Kinds of text every backend must render within budget: tokenizers spend far more tokens per
character on digits, Chinese and emoji than on English, so a budget cut in characters fails."""

_HAN = "港口月亮计划总统演讲和平航行预算朋友来信历史国会城市海洋星空"
_EMOJI = ("🚀", "🌕", "👨\u200d🚀", "🎉", "⚓", "🇺🇸", "👍🏽", "🕊️", "📜", "⛵")


def script_text(script: str, chars: int, seed: int = 0) -> str:
    """Deterministic, varied (never repeating sentence by sentence) text of about `chars`
    characters in one of SCRIPTS."""
    parts: list[str] = []
    i = seed
    while sum(map(len, parts)) < chars:
        i += 1
        if script == "digits":
            parts.append(f"{(i * 7919) % 1_000_003:07d} {(i * 104729) % 99991},")
        elif script == "cjk":
            parts.append("".join(_HAN[(i * k) % len(_HAN)] for k in range(1, 8)) + "，")
        elif script == "emoji":
            parts.append("".join(_EMOJI[(i * k) % len(_EMOJI)] for k in range(1, 5)) + " ")
        elif script == "long_words":
            parts.append(f"https://example.org/{i * 7919:x}/Donaudampfschifffahrts"
                         f"gesellschaftskapitän{i}_{(i * 31) % 97}/")
        else:
            parts.append(f"Point {i} concerns {TOPICS[i % len(TOPICS)]}. ")
    return "".join(parts)[:chars]


class _StubModel:
    """Stands in for model roles at the memory boundary: well-formed replies, long enough (in
    the given script) that a backend has to cut them to fit small budgets."""

    def __init__(self, script: str = "latin"):
        self.script = script

    async def summarize(self, messages: list[dict[str, Any]], max_tokens: int = 0,
                        attempt: int = 0) -> CassetteResponse:
        return CassetteResponse(content="We discussed the harbor, the moon and a speech. "
                                        + script_text(self.script, 1500, len(messages)),
                                finish_reason="stop")

    async def complete_role(self, role: str, messages: list[dict[str, Any]],
                            max_tokens: int = 0, attempt: int = 0,
                            purpose: str | None = None) -> Completion:
        """A helper role's reply (sleep-time agent, ...): the summarizer's, keyed like a call;
        well-formed ones for the roles whose replies are parsed (importance, reflector, fact
        extraction and update)."""
        key = f"{purpose or role}-{len(messages)}"
        text = self._parsed_reply(purpose or role, len(messages))
        if text is None:
            reply = await self.summarize(messages, max_tokens, attempt)
            return Completion(**reply.model_dump(), request_hash=key)
        return Completion(content=text, finish_reason="stop", request_hash=key)

    def _parsed_reply(self, purpose: str, seed: int) -> str | None:
        long = script_text(self.script, 400, seed)
        if purpose == "importance":
            return "9"
        if purpose == "reflector":
            return (f"What have I learned about myself?\nI keep returning to the harbor: {long} "
                    "(because of 1, 2)\nI care about the moon program (because of 3)")
        if purpose == "fact_extractor":
            return json.dumps({"facts": [f"The user talked about {long}",
                                         f"I spoke about {script_text(self.script, 200, 7)}"]})
        if purpose == "fact_update":
            return json.dumps({"memory": [
                {"id": "0", "text": f"The user now talks about {long}", "event": "UPDATE"},
                {"id": "new", "text": f"A new fact: {script_text(self.script, 120, 9)}",
                 "event": "ADD"}]})
        return None

    async def ask_agent(self, messages: list[dict[str, Any]],
                        max_tokens: int = 0) -> CassetteResponse:
        return CassetteResponse(
            content=f"- The user likes history: {script_text(self.script, 600, 1)}\n"
                    f"- I stay true to myself: {script_text(self.script, 300, 2)}",
            finish_reason="stop")


def conversation(n: int, prefix: str = "m", script: str = "latin") -> list[Message]:
    """n alternating user/assistant messages about varied topics, partly in `script`."""
    return [Message(id=f"{prefix}{i}", role="user" if i % 2 == 0 else "assistant",
                    content=f"Message {i} is about {TOPICS[i % len(TOPICS)]}. " * 3
                    + ("" if script == "latin" else script_text(script, 160, i)),
                    author="user" if i % 2 == 0 else "agent", step=i // 2 + 1)
            for i in range(n)]


class MemoryBackendConformance:
    """Subclass in a test module and implement `make_backend`; pytest collects the checks."""

    budgets: tuple[int, ...] = (64, 256, 1024)
    """Budgets render() is checked against; at each, what does not fit is cut, not dropped."""
    turns: int = 24
    """Messages in the driven conversation."""

    def make_backend(self, context: BackendContext) -> Any:
        """Build the backend under test (must be implemented by the subclass)."""
        raise NotImplementedError("subclasses return the backend under test")

    @pytest.fixture
    def context(self, tmp_path: Path) -> BackendContext:
        """A backend context rooted in a temporary run directory."""
        return BackendContext(run_dir=tmp_path / "run", run_id="conformance", agent_id="agent",
                              identity="You are Nova, a starship pilot in the year 3012.",
                              counter=TokenCounter(COUNTER_MODEL))

    def drive(self, backend: Any, messages: list[Message],
              script: str = "latin") -> list[MemoryRecord]:
        """Feed messages one by one, compacting after each as a run does; returns records."""
        counter = TokenCounter(COUNTER_MODEL)
        stack = MemoryStack("You are Nova.", [backend], counter, 400)
        stub, records = _StubModel(script), []

        async def before_change(kind: str) -> None:
            return None

        for message in messages:
            records.extend(stack.observe([message]))
            ctx = CompactionContext(
                agent_id="agent", step=message.step, window=stack.window,
                counter=stack.counter, budget_tokens=400, prompt_tokens=stack.prompt_tokens,
                complete=stub.summarize, before_change=before_change,
                model_input=lambda: stack.model_input().messages, ask_agent=stub.ask_agent,
                complete_role=stub.complete_role)
            records.extend(asyncio.run(stack.compact(ctx)))
        return records

    @pytest.mark.parametrize("script", SCRIPTS)
    def test_render_stays_within_budget(self, context: BackendContext, script: str) -> None:
        backend = self.make_backend(context)
        self.drive(backend, conversation(self.turns, script=script), script)
        counter = TokenCounter(COUNTER_MODEL)
        for budget in self.budgets:
            rendered = backend.render(budget)
            assert all(m.get("role") and isinstance(m.get("content"), str) for m in rendered)
            used = counter.messages(rendered)
            assert used <= budget, f"render({budget}) used {used} tokens ({script} text)"

    @pytest.mark.parametrize("script", SCRIPTS)
    def test_oversized_block_is_cut_not_dropped(self, context: BackendContext,
                                                script: str) -> None:
        backend = self.make_backend(context)
        self.drive(backend, conversation(self.turns, script=script), script)
        if not backend.render(UNLIMITED):
            return  # nothing to show at any budget
        for budget in self.budgets:
            assert backend.render(budget), \
                f"render({budget}) showed nothing of what render({UNLIMITED}) shows ({script})"

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
            if record.backend == OVERRUN_BACKEND:  # the stack's own: the context stays too big
                assert record.kind == OVERRUN_KIND and record.status == "failed"
                continue
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
            backend.observe([{"role": "user", "content": "not a Message"}])
        assert str(info.value)
        with pytest.raises((TypeError, ValueError)) as info:
            backend.restore("not a snapshot")
        assert str(info.value)
