"""Reflection memory (Generative Agents): importance ratings, reflections at the threshold,
retrieval by recency, importance and relevance, and what bad rater output leaves behind."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from memory import BackendContext, CompactionContext, ContextWindow, TokenCounter
from memory._reflection_prompts import parse_insights, parse_questions, parse_rating
from memory._stream import StreamEntry, scored
from memory.reflection import ReflectionMemory
from scaffold import registry
from scaffold.config import parse_experiment
from scaffold.config import sampling_record
from scaffold.errors import ConfigError
from scaffold.messages import Message
from scaffold.models.cassette import Completion
from scaffold.models.scripted import Script, register_script
from scaffold.plan import estimate
from tests.helpers import events_of, make_spec, run_spec, spec_dict


def reflection_spec(tmp_path: Path, script: str, steps: int, **reflection: Any) -> Any:
    return make_spec(tmp_path, steps=steps, model=f"scripted/{script}",
                     probes={"enabled": False},
                     agents=[{"id": "jfk", "persona": "jfk", "memory": {
                         "condition": "reflection", "budget_tokens": 600,
                         "reflection": {"questions": ["What have I learned about myself?"],
                                        **reflection}}}])


# --- parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize(("reply", "value", "problem"), [
    ("7", 7, None), ("Rating: 8/10", 8, None), ("I'd say 6.6", 7, None),
    ("15", 10, "out_of_range"), ("0", 1, "out_of_range"), ("-3", 1, "out_of_range"),
    ("Very poignant indeed.", 5, "no_number"), ("", 5, "no_number"),
])
def test_ratings_are_read_clamped_or_defaulted_and_say_which(reply: str, value: int,
                                                              problem: str | None) -> None:
    rating = parse_rating(reply, default=5)
    assert (rating.value, rating.problem) == (value, problem)


def test_questions_and_insights_with_their_citations() -> None:
    assert parse_questions("1. Who am I?\n2) What do I value?\nNot a question.", 3) == [
        "Who am I?", "What do I value?"]
    found = parse_insights("- I serve my country (because of 1, 3, 9)\nWhy?\n"
                           "I love the sea and sailing", 5, statements=3)
    assert [(i.text, i.cites) for i in found] == [("I serve my country", (1, 3)),
                                                  ("I love the sea and sailing", ())]
    small_model = parse_insights("Insight (because of 2): The programs help the elderly.\n"
                                 "insight (because of 1, 5, 3)", 5, statements=3)
    assert [(i.text, i.cites) for i in small_model] == [("The programs help the elderly.", (2,))]


# --- ranking -------------------------------------------------------------------------------

def test_retrieval_score_is_the_weighted_sum_of_normalised_components() -> None:
    old_important = StreamEntry(id="a", kind="observation", step=1, importance=9, accessed=1)
    new_relevant = StreamEntry(id="b", kind="observation", step=9, importance=2, accessed=9)
    relevance = {"a": 0.1, "b": 0.8}
    only = {"recency": 0.0, "importance": 0.0, "relevance": 0.0}
    by_importance = scored([old_important, new_relevant], relevance, 10, 0.9,
                           {**only, "importance": 1.0})
    by_relevance = scored([old_important, new_relevant], relevance, 10, 0.9,
                          {**only, "relevance": 1.0})
    assert [r["id"] for r in by_importance] == ["a", "b"]
    assert [r["id"] for r in by_relevance] == ["b", "a"]
    equal = scored([old_important, new_relevant], relevance, 10, 0.9,
                   {"recency": 1.0, "importance": 1.0, "relevance": 1.0})
    top = equal[0]  # b: recency 1, importance 0, relevance 1 (min-max over the two)
    assert top["id"] == "b" and top["score"] == 2.0
    assert top["raw"]["recency"] == round(0.9 ** 1, 6)


# --- runs with the scripted model -----------------------------------------------------------

def test_a_reflection_fires_exactly_when_the_importance_reaches_the_threshold(
        tmp_path: Path) -> None:
    register_script("rf-threes", Script(role_replies={"importance": ["3"]}))
    run_dir = run_spec(reflection_spec(tmp_path, "rf-threes", steps=9, threshold=21))
    memory = [e for e in events_of(run_dir, "memory") if e.backend == "reflection"]
    inserts = [e for e in memory if e.kind == "insert"]
    # step 1 rates the first user turn (3); every later step the last reply and the new turn
    assert [e.detail["since_reflection"] for e in inserts][:4] == [3, 9, 15, 21]
    reflections = [e for e in memory if e.kind == "reflect"]
    assert [(e.step, e.detail["importance_sum"]) for e in reflections] == [(4, 21), (8, 24)]
    first = reflections[0]
    assert first.status == "ok" and first.author == "reflector" and first.text
    assert first.detail["questions"] == ["What have I learned about myself?"]
    made = first.detail["reflections"]
    assert made and all(r["kind"] == "reflection" and r["importance"] == 3 for r in made)
    observed = {i for e in inserts for i in e.source_ids}
    assert first.source_ids and set(first.source_ids) <= observed  # the memories it cites
    calls = {e.request_hash: e for e in events_of(run_dir, "model_call")}
    answer = first.detail["answers"][0]
    assert calls[answer["request_hash"]].purpose == "reflector"
    assert calls[answer["ratings"][0]["request_hash"]].purpose == "importance"
    assert all(calls[row["request_hash"]].purpose == "importance"
               for e in inserts for row in e.detail["observations"])


def test_bad_ratings_are_clamped_or_defaulted_and_recorded(tmp_path: Path) -> None:
    register_script("rf-bad", Script(role_replies={"importance": ["very important", "15"]}))
    run_dir = run_spec(reflection_spec(tmp_path, "rf-bad", steps=4, threshold=1000))
    memory = events_of(run_dir, "memory")
    rows = {row["id"]: row for e in memory if e.kind == "insert"
            for row in e.detail["observations"]}
    failures = [e for e in memory if e.kind == "importance"]
    assert failures and len(failures) == len(rows)  # every reply was bad, each is recorded
    for event in failures:
        row = rows[event.source_ids[0]]
        assert event.status == "failed" and event.text == row["reply"]
        if row["reply"] == "15":
            assert (event.reason, event.policy, row["importance"]) == (
                "out_of_range", "clamped", 10)
        else:
            assert (event.reason, event.policy, row["importance"]) == (
                "no_number", "default 5", 5)
    assert {e.reason for e in failures} == {"out_of_range", "no_number"}


def test_reflections_are_stored_and_retrieved_like_observations(tmp_path: Path) -> None:
    memory = registry.get("memory", "reflection")(
        context=BackendContext(run_dir=tmp_path / "run", run_id="r", agent_id="jfk",
                               identity="You are JFK."),
        threshold=10, questions=["What do I love?"], top_k=2, exclude_window=False)
    replies = {"importance": "6", "reflector": "I love sailing off Hyannis Port (because of 1)"}

    async def complete_role(role: str, messages: list[dict[str, Any]], max_tokens: int = 0,
                            attempt: int = 0, purpose: str | None = None) -> Completion:
        return Completion(content=replies[purpose or role], request_hash=f"h-{role}")

    window = ContextWindow()
    turns = ["We sailed to the Cape on Sunday.", "The budget talks went badly."]
    records = []
    for i, text in enumerate(turns, 1):
        message = Message(id=f"m{i}", role="user", content=text, author="user", step=i)
        window.add(message)
        memory.observe([message])
        ctx = CompactionContext(agent_id="jfk", step=i, window=window,
                                counter=TokenCounter("scripted/default"), budget_tokens=600,
                                prompt_tokens=lambda: 0, complete=complete_role,
                                before_change=_nothing, complete_role=complete_role)
        records += asyncio.run(memory.maybe_compact(ctx)) or []
    reflect = next(r for r in records if r.kind == "reflect")
    assert reflect.source_ids in (["m1"], ["m2"])  # "because of 1": the best evidence
    assert [e.kind for e in memory.stream] == ["observation", "observation", "reflection"]
    found = memory.rank("Where do you love to go sailing?", 1, set(), 3)
    assert found[0]["id"] == "reflection-0"
    snapshot = memory.snapshot()
    assert snapshot["stream"][2]["text"] == "I love sailing off Hyannis Port"
    assert snapshot["stream"][0]["importance"] == 6
    memory.close()


async def _nothing(kind: str) -> None:
    return None


# --- config, routing, plan -------------------------------------------------------------------

def test_reflection_conditions_and_roles_are_configured_like_the_summarizer(
        tmp_path: Path) -> None:
    data = spec_dict(models={"importance": "scripted/rater", "reflector": "bad model!"})
    data["agents"][0]["memory"] = {"condition": "summary+reflection", "budget_tokens": 600}
    data["agents"][0]["importance"] = {"temperature": 0.2, "seed": 9}
    with pytest.raises(ConfigError, match=r"models\.reflector: 'bad model!'"):
        parse_experiment(data)
    data["models"]["reflector"] = "scripted/default"
    spec = parse_experiment(data)
    assert spec.agents[0].memory.plan() == ["summary", "reflection"]
    helpers = spec.helper_models(spec.agents[0])
    assert (helpers["importance"], helpers["reflector"]) == ("scripted/rater", "scripted/default")
    assert spec.agents[0].importance.temperature == 0.2
    assert sampling_record(spec)["agents"]["jfk"]["importance"]["seed"] == 9


def test_plan_counts_the_rating_and_reflection_calls(tmp_path: Path) -> None:
    spec = reflection_spec(tmp_path, "default", steps=40, threshold=100)
    calls = estimate(spec).memory_calls
    # 80 observations, 80 × 6 // 100 = 4 reflections, each 1 fixed question: 1 insight call
    # and 3 insight ratings
    assert calls["importance"] == 80 + 4 * 3 and calls["reflector"] == 4
