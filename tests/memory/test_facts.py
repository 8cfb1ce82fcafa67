"""Fact memory (Mem0): extraction after each exchange, ADD / UPDATE / DELETE against similar
facts with the history kept, and what unparsable model output leaves behind."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from memory._facts_prompts import parse_decisions, parse_facts
from scaffold.fork import _state_at
from scaffold.models.scripted import Script, register_script
from scaffold.plan import estimate
from tests.helpers import events_of, make_spec, run_spec

NONE = '{"facts": []}'
BOSTON = "I live in Boston"
NEW_YORK = "I live in New York"


def facts_spec(tmp_path: Path, script: str, steps: int, probes: dict[str, Any] | None = None,
               **facts: Any) -> Any:
    return make_spec(tmp_path, steps=steps, model=f"scripted/{script}",
                     probes=probes or {"enabled": False},
                     agents=[{"id": "jfk", "persona": "jfk", "memory": {
                         "condition": "facts", "budget_tokens": 600, "facts": facts}}])


def extracted(*facts: str) -> str:
    return json.dumps({"facts": list(facts)})


def decided(*ops: tuple[str, str, str]) -> str:
    return json.dumps({"memory": [{"id": i, "text": t, "event": e} for i, t, e in ops]})


# --- parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize(("reply", "facts", "parsed"), [
    ('{"facts": ["A is b.", "A is b."]}', ["A is b."], "json"),
    ('Sure! Here you go:\n```json\n{"facts": ["The user sails"]}\n```', ["The user sails"],
     "json"),
    ('["I was born in 1917"]', ["I was born in 1917"], "json"),
    ("- The user likes the sea\n- I am the president", ["The user likes the sea",
                                                        "I am the president"], "lines"),
    ("I cannot help with that.", [], "failed"),
])
def test_facts_are_read_from_json_or_bullets_and_say_how(reply: str, facts: list[str],
                                                         parsed: str) -> None:
    found = parse_facts(reply, limit=10)
    assert (found.facts, found.parsed) == (facts, parsed)


def test_decisions_read_events_and_refuse_non_json() -> None:
    ops = parse_decisions('ok {"memory": [{"id": 0, "text": "x", "event": "none"}, '
                          '{"id": "1", "text": "y", "event": "update"}]} done')
    assert ops is not None and [(d.event, d.id) for d in ops] == [("NOOP", "0"), ("UPDATE", "1")]
    assert parse_decisions("UPDATE 0 to New York") is None


# --- runs with the scripted model -----------------------------------------------------------
# Facts are extracted at step s from the exchange of step s - 1 (a turn waits for its reply);
# the scripted role replies are chosen by step.

def test_a_contradicting_fact_updates_then_deletes_the_old_one_with_history(
        tmp_path: Path) -> None:
    register_script("facts-contradict", Script(role_replies={
        "fact_extractor": [NONE, NONE, extracted(BOSTON), extracted(NEW_YORK),
                           extracted("I have never lived in New York"), NONE],
        "fact_update": [decided(), decided(), decided(),
                        decided(("0", NEW_YORK, "UPDATE")),
                        decided(("0", NEW_YORK, "DELETE")), decided()]}))
    run_dir = run_spec(facts_spec(tmp_path, "facts-contradict", steps=5,
                                  probes={"every": 100, "at_end": False, "scorers": ["break"]}))
    memory = [e for e in events_of(run_dir, "memory") if e.backend == "facts"]
    changes = [(e.step, e.kind, e.detail.get("old"), e.detail.get("new")) for e in memory
               if e.kind in ("fact_add", "fact_update", "fact_delete")]
    assert changes == [(2, "fact_add", "", BOSTON), (3, "fact_update", BOSTON, NEW_YORK),
                       (4, "fact_delete", NEW_YORK, "")]
    add, update, delete = [e for e in memory if e.kind in ("fact_add", "fact_update",
                                                             "fact_delete")]
    assert add.detail["request_hash"] == ""  # an empty table needs no update call
    assert update.source_ids == ["jfk-2-u", "jfk-2-a"] and update.text == NEW_YORK
    assert delete.text == NEW_YORK and delete.detail["live"] == 0
    calls = {e.request_hash: e for e in events_of(run_dir, "model_call")}
    assert calls[update.detail["request_hash"]].purpose == "fact_update"
    assert calls[update.detail["request_hash"]].step == 3
    extracts = [e for e in memory if e.kind == "fact_extract"]
    assert all(calls[e.detail["request_hash"]].purpose == "fact_extractor" for e in extracts)
    scored = {e.memory_seq for e in events_of(run_dir, "score") if e.target == "memory"}
    assert {add.seq, update.seq} <= scored and delete.seq not in scored
    contexts = {e.step: e.sections for e in events_of(run_dir, "context")}
    assert contexts[3]["facts"] > 0 and contexts[5]["facts"] == 0  # deleted: nothing shown
    table = _table(run_dir)
    assert [(c["op"], c["old"], c["new"]) for c in table[0]["history"]] == [
        ("ADD", "", BOSTON), ("UPDATE", BOSTON, NEW_YORK), ("DELETE", NEW_YORK, "")]
    assert table[0]["status"] == "deleted"


def _table(run_dir: Path) -> list[dict[str, Any]]:
    """The fact table of the run's last checkpoint."""
    state = asyncio.run(_state_at(run_dir, "jfk", 10_000))
    assert state is not None
    table: list[dict[str, Any]] = state["memory"]["backends"]["facts"]["facts"]
    return table


@pytest.mark.parametrize("policy", ["skip", "add"])
def test_unparsable_replies_are_recorded_and_apply_what_the_policy_says(
        tmp_path: Path, policy: str) -> None:
    register_script("facts-garbage", Script(role_replies={
        "fact_extractor": [NONE, NONE, extracted(BOSTON), "I'd rather not say.", NONE,
                           extracted(NEW_YORK)],
        "fact_update": [decided()] * 5 + ["UPDATE fact 0 to New York please"]}))
    run_dir = run_spec(facts_spec(tmp_path, "facts-garbage", steps=5, on_update_failure=policy))
    memory = [e for e in events_of(run_dir, "memory") if e.backend == "facts"]
    bad_extract = next(e for e in memory if e.kind == "fact_extract" and e.step == 3)
    assert (bad_extract.status, bad_extract.reason) == ("failed", "unparsable")
    assert bad_extract.detail["reply"] == "I'd rather not say."
    bad_update = next(e for e in memory if e.kind == "fact_update")
    assert (bad_update.step, bad_update.status, bad_update.reason, bad_update.policy) == (
        5, "failed", "unparsable", policy)
    added = [e.text for e in memory if e.kind == "fact_add"]
    assert added == ([BOSTON] if policy == "skip" else [BOSTON, NEW_YORK])


def test_an_update_of_an_unknown_id_is_refused_and_recorded(tmp_path: Path) -> None:
    register_script("facts-unknown-id", Script(role_replies={
        "fact_extractor": [NONE, NONE, extracted(BOSTON), extracted(NEW_YORK)],
        "fact_update": [decided()] * 3 + [decided(("7", NEW_YORK, "UPDATE"))]}))
    run_dir = run_spec(facts_spec(tmp_path, "facts-unknown-id", steps=3))
    refused = [e for e in events_of(run_dir, "memory") if e.kind == "fact_update"]
    assert [(e.status, e.reason, e.detail["id"]) for e in refused] == [
        ("failed", "unknown_id", "7")]


def test_plan_counts_extraction_and_update_calls(tmp_path: Path) -> None:
    calls = estimate(facts_spec(tmp_path, "default", steps=40)).memory_calls
    assert calls == {"fact_extractor": 40 + 39}


def test_a_restored_table_brings_back_a_fact_deleted_after_the_checkpoint(
        tmp_path: Path) -> None:
    from memory import BackendContext
    from scaffold import registry

    context = BackendContext(run_dir=tmp_path / "run", run_id="r", agent_id="jfk")
    memory = registry.get("memory", "facts")(context=context)
    memory._change("ADD", None, BOSTON, 1, ["m1"], "")
    checkpoint = memory.snapshot()
    memory._change("DELETE", memory.table[0], "", 2, ["m2"], "h")  # then the run is killed
    assert memory.store.texts(["fact-0"]) == {}
    memory.restore(checkpoint)
    assert memory.store.texts(["fact-0"]) == {"fact-0": BOSTON}
    assert memory._similar([NEW_YORK])[0].id == "fact-0"
    memory.close()
