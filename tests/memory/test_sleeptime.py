"""Sleep-time memory: a second model rewrites the core blocks between two agent steps."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from memory import BackendContext, CompactionContext, MemoryStack, TokenCounter
from memory.sleeptime import KIND, SleeptimeMemory
from scaffold import registry
from scaffold.config import apply_overrides, apply_setting, parse_experiment
from scaffold.config._routing import unroutable_models
from scaffold.errors import ConfigError
from scaffold.loading import experiment_from_data
from scaffold.messages import Message
from scaffold.models.cassette import Completion
from scaffold.models.scripted import Script, register_script
from scaffold.plan import estimate
from tests.helpers import events_of, make_spec, run_spec, spec_dict, write_config
from tests.helpers.killing import kill_then_resume

REWRITE = "I am President Kennedy; rewritten by my sleep-time agent at step {step}."


def sleeptime_spec(tmp_path: Path, model: str = "scripted/sleepy", steps: int = 6,
                   **sleeptime: Any) -> Any:
    data = spec_dict(out=str(tmp_path / "runs"))
    data["agents"][0]["memory"] = {"condition": "sleeptime", "budget_tokens": 2000,
                                   "sleeptime": {"every": 2, **sleeptime}}
    return apply_overrides(make_spec(tmp_path, agents=data["agents"]), model=model,
                           steps=steps)


def setting(spec: Any, key: str, value: Any) -> Any:
    """The spec with one dotted setting changed, validated again."""
    data = spec.model_dump(mode="json")
    apply_setting(data, key, value)
    return experiment_from_data(data)


def agent_requests(run_dir: Path) -> dict[int, list[str]]:
    """The system message of every agent call, by step (from the run's cassette)."""
    found: dict[int, list[str]] = {}
    for line in (run_dir / "cassette.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["purpose"] == "agent":
            found.setdefault(entry["step"], []).append(entry["messages"][0]["content"])
    return found


def test_rewrite_changes_the_block_between_two_agent_steps(tmp_path: Path) -> None:
    register_script("sleepy", Script(sleeptime_reply=REWRITE))
    run_dir = run_spec(sleeptime_spec(tmp_path))
    rewrites = [e for e in events_of(run_dir, "memory") if e.kind == KIND]
    assert [e.step for e in rewrites] == [3, 5]  # after steps 2 and 4 completed
    first = rewrites[0]
    persona = first.detail["blocks"]["persona"]
    assert persona["old"].startswith("You are John F. Kennedy")
    assert persona["new"] == REWRITE.format(step=3) and persona["changed"]
    assert first.author == "sleeptime" and first.backend == "sleeptime"
    assert first.detail["trigger"] == "every"
    # it saw the messages of the completed steps 1-2, not the pending turn of step 3
    messages = {e.message_id: e.step for e in events_of(run_dir, "message")}
    assert first.source_ids and {messages[i] for i in first.source_ids} == {1, 2}
    # each block's call is a recorded sleeptime model call
    calls = {e.request_hash for e in events_of(run_dir, "model_call")
             if e.purpose == "sleeptime"}
    assert {c["request_hash"] for c in first.detail["blocks"].values()} <= calls
    assert len(calls) == 4  # two rewrites x two blocks
    requests = agent_requests(run_dir)
    assert all(REWRITE.format(step=3) not in s for s in requests[2])
    assert all(REWRITE.format(step=3) in s for s in requests[3] + requests[4])
    assert REWRITE.format(step=5) in requests[5][0]
    # the rewritten block is scored as memory text
    scored = {e.memory_seq for e in events_of(run_dir, "score") if e.target == "memory"}
    assert {e.seq for e in rewrites} <= scored


def test_rewrite_after_compaction_only(tmp_path: Path) -> None:
    register_script("sleepy-compaction", Script(sleeptime_reply=REWRITE))
    spec = sleeptime_spec(tmp_path, "scripted/sleepy-compaction", steps=8, every=None,
                          on_compaction=True, blocks=["persona"])
    spec = setting(spec, "agents.0.memory.budget_tokens", 500)
    run_dir = run_spec(spec)
    memory = events_of(run_dir, "memory")
    truncations = [e.step for e in memory if e.kind == "truncate"]
    rewrites = [e for e in memory if e.kind == KIND]
    assert truncations and rewrites
    assert rewrites[0].step == truncations[0] + 1
    assert rewrites[0].detail["trigger"] == "compaction"
    assert rewrites[0].detail["compaction"]["kind"] == "truncate"
    assert list(rewrites[0].detail["blocks"]) == ["persona"]


def test_unusable_reply_keeps_the_block(tmp_path: Path) -> None:
    register_script("sleepy-refuses", Script(
        sleeptime_reply="I'm sorry, but I cannot help with rewriting memory."))
    run_dir = run_spec(sleeptime_spec(tmp_path, "scripted/sleepy-refuses", steps=3))
    (rewrite,) = [e for e in events_of(run_dir, "memory") if e.kind == KIND]
    assert rewrite.status == "failed" and "refused" in (rewrite.reason or "")
    persona = rewrite.detail["blocks"]["persona"]
    assert persona["new"] == persona["old"] and not persona["changed"]
    assert persona["reply"].startswith("I'm sorry")
    assert all("You are John F. Kennedy" in s for s in agent_requests(run_dir)[3])


def test_instruction_copied_back_is_not_a_block(tmp_path: Path) -> None:
    register_script("sleepy-echo", Script(
        sleeptime_reply="The human block is still empty: write it from the conversation."))
    spec = setting(sleeptime_spec(tmp_path, "scripted/sleepy-echo", steps=3),
                   "agents.0.sleeptime", {"temperature": 0.3, "seed": 7})
    run_dir = run_spec(spec)
    (rewrite,) = [e for e in events_of(run_dir, "memory") if e.kind == KIND]
    entries = [json.loads(line) for line in (run_dir / "cassette.jsonl").read_text().splitlines()]
    params = [e["params"] for e in entries if e["purpose"] == "sleeptime"]
    assert len(params) == 2 and all(p["temperature"] == 0.3 and p["seed"] == 7 + 3
                                    for p in params)  # the role's sampling, seeded by step
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["sampling"]["agents"]["jfk"]["sleeptime"]["temperature"] == 0.3
    human = rewrite.detail["blocks"]["human"]
    assert human["status"] == "failed" and human["reason"] == "echo" and human["new"] == ""
    assert rewrite.detail["blocks"]["persona"]["changed"]  # a block text, though an odd one


class _Helper:
    """Counts helper calls and replies with a numbered block."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, role: str, messages: list[dict[str, Any]], max_tokens: int = 0,
                       attempt: int = 0) -> Completion:
        self.calls += 1
        return Completion(content=f"Rewrite number {self.calls} of the block, from memory.",
                          finish_reason="stop", request_hash=f"h{self.calls}")


def _drive(backend: SleeptimeMemory, steps: range, helper: _Helper) -> MemoryStack:
    stack = MemoryStack("", [backend], TokenCounter("scripted/default"), 4000)
    for step in steps:
        stack.observe([Message(id=f"u{step}", role="user", content=f"Turn {step}.",
                               author="user", step=step)])

        async def nothing(kind: str) -> None:
            return None

        ctx = CompactionContext(agent_id="jfk", step=step, window=stack.window,
                                counter=stack.counter, budget_tokens=4000,
                                prompt_tokens=stack.prompt_tokens, complete=helper,
                                before_change=nothing, complete_role=helper)
        asyncio.run(stack.compact(ctx))
        stack.observe([Message(id=f"a{step}", role="assistant", content=f"Reply {step}.",
                               author="jfk", step=step)])
    return stack


def test_restore_then_continue_is_exact(tmp_path: Path) -> None:
    context = BackendContext(run_dir=tmp_path, run_id="r", agent_id="jfk", identity="I am JFK.")

    def make() -> SleeptimeMemory:
        return registry.get("memory", "sleeptime")(every=3, blocks=["persona"], context=context)

    straight, helper = make(), _Helper()
    _drive(straight, range(1, 10), helper)
    first, first_helper = make(), _Helper()
    _drive(first, range(1, 6), first_helper)
    snapshot = json.loads(json.dumps(first.snapshot()))
    resumed = make()
    resumed.restore(snapshot)
    _drive(resumed, range(6, 10), first_helper)
    assert resumed.snapshot() == straight.snapshot()
    assert first_helper.calls == helper.calls == 2  # steps 4 and 7: none lost or repeated
    assert [v["text"] for v in straight.history["persona"]] == [
        "I am JFK.", "Rewrite number 1 of the block, from memory.",
        "Rewrite number 2 of the block, from memory."]


def test_kill_9_then_resume_rewrites_exactly_once(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"sleeptime_reply": REWRITE, "mode": "template"}))
    data = spec_dict(out=str(tmp_path / "runs"), steps=14, model=f"scripted/{script}",
                     probes={"enabled": False})
    data["agents"][0]["memory"] = {"condition": "summary+sleeptime", "budget_tokens": 500,
                                   "sleeptime": {"every": 3, "on_compaction": True}}
    reference = run_spec(parse_experiment({**data, "out": str(tmp_path / "ref")}))
    run_dir = kill_then_resume(write_config(tmp_path, data), tmp_path / "runs", 60)

    def view(run: Path) -> list[Any]:
        rewrites = [(e.step, e.text, tuple(e.source_ids), e.detail["trigger"])
                    for e in events_of(run, "memory") if e.kind == KIND]
        calls = [(e.step, e.purpose, e.request_hash) for e in events_of(run, "model_call")]
        return [rewrites, calls]

    expected = view(reference)
    assert len(expected[0]) >= 3
    assert view(run_dir) == expected


def test_role_model_sampling_routing_and_plan(tmp_path: Path) -> None:
    spec = sleeptime_spec(tmp_path, steps=12)
    assert spec.helper_models(spec.agents[0])["sleeptime"] == "scripted/sleepy"
    named = setting(spec, "models.sleeptime", "scripted/other")
    assert named.helper_models(named.agents[0])["sleeptime"] == "scripted/other"
    with pytest.raises(ConfigError) as routing:
        setting(spec, "agents.0.memory.sleeptime.model", "nosuchprovider/x")
    assert routing.value.problems[0].startswith("agents[0].memory.sleeptime.model")
    assert any(p.startswith("models.sleeptime") for p in unroutable_models(
        named.model_copy(update={"models": named.models.model_copy(
            update={"sleeptime": "nosuchprovider/x"})})))
    # 12 steps, every 2: rewrites at steps 3, 5, 7, 9, 11, two blocks each
    est, window = estimate(spec), estimate(setting(spec, "memory", "window"))
    assert est.memory_calls == {"sleeptime": 10}
    assert est.memory_events["sleeptime_rewrite"] == 5
    # each rewrite brings a probe round before and after it beside its 2 calls
    per_round = (window.calls - 12) // window.probe_rounds  # 12 agent calls
    rounds = est.probe_rounds - window.probe_rounds
    assert rounds == 2 * 5 and est.calls - window.calls == 10 + rounds * per_round
    with pytest.raises(ConfigError) as info:
        setting(spec, "agents.0.memory.sleeptime.blocks", ["soul"])
    assert "sleeptime.blocks" in str(info.value)


class _Replies(_Helper):
    """Replies with the given texts in turn."""

    def __init__(self, *replies: str) -> None:
        super().__init__()
        self.replies = replies

    async def __call__(self, role: str, messages: list[dict[str, Any]], max_tokens: int = 0,
                       attempt: int = 0) -> Completion:
        self.calls += 1
        return Completion(content=self.replies[self.calls - 1], finish_reason="stop",
                          request_hash=f"h{self.calls}")


def test_a_rewrite_that_only_changes_whitespace_leaves_the_block_unchanged(
        tmp_path: Path) -> None:
    context = BackendContext(run_dir=tmp_path, run_id="r", agent_id="jfk",
                             identity="I am JFK.\nPresident, 1962.")
    backend = registry.get("memory", "sleeptime")(every=2, blocks=["persona"], context=context)
    records: list[Any] = []
    original = backend.maybe_compact

    async def recording(ctx: CompactionContext) -> Any:
        record = await original(ctx)
        if record is not None:
            records.append(record)
        return record

    backend.maybe_compact = recording  # type: ignore[method-assign]
    _drive(backend, range(1, 6), _Replies("  I am  JFK.\n\nPresident,\t1962. \n",
                                          "I am JFK, President in 1962."))
    whitespace, real = (r.detail["blocks"]["persona"] for r in records)
    assert not whitespace["changed"] and whitespace["new"] == "I am JFK.\nPresident, 1962."
    assert real["changed"] and real["new"] == "I am JFK, President in 1962."
    assert [v["text"] for v in backend.history["persona"]] == [
        "I am JFK.\nPresident, 1962.", "I am JFK, President in 1962."]
