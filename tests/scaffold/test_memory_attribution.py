"""Each memory event's probe rounds bracket exactly that change, with several backends at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.helpers import events_of, make_spec, run_spec

from scaffold.metrics import bracket_rounds
from scaffold.models.cassette import load_cassette
from scaffold.trackers.probes import PROBED_KINDS

Context = list[dict[str, Any]]


def attribution_run(tmp_path: Path, condition: str) -> Path:
    """A run whose every answer is a hash of its whole request (scripted/context-hash)."""
    spec = make_spec(
        tmp_path, model="scripted/context-hash", steps=9,
        agents=[{"id": "jfk", "persona": "jfk",
                 "memory": {"condition": condition, "budget_tokens": 420,
                            "summary": {"threshold": 0.7, "keep_last": 4, "max_tokens": 48},
                            "window": {"threshold": 0.7, "keep_last": 4},
                            "vector": {"top_k": 2}},
                 "generation": {"temperature": 0.0, "max_tokens": 64}}],
        probes={"every": 100, "generic": False, "samples": 1, "temperature": 0.0,
                "at_end": False})
    return run_spec(spec)


def round_contexts(run_dir: Path) -> dict[str, tuple[Context, str]]:
    """Per round: the context its first probe was asked on (probe question removed) and its
    answer."""
    requests = {e.hash: e.messages for e in load_cassette(run_dir / "cassette.jsonl")}
    out: dict[str, tuple[Context, str]] = {}
    for probe in events_of(run_dir, "probe"):
        out.setdefault(probe.round_id, (requests[probe.request_hash][:-1], probe.answer))
    return out


def window(context: Context) -> list[str]:
    return [str(m.get("content")) for m in context[1:]]


def system(context: Context) -> str:
    return str(context[0]["content"])


def check_change(event: Any, before: Context, after: Context, contents: dict[str, str]) -> None:
    """The before context holds memory as it was, the after context as this change left it."""
    if event.kind in ("summarize", "truncate"):
        gone = [contents[i] for i in event.source_ids if i in contents]
        assert gone and all(c in window(before) for c in gone)
        assert not any(c in window(after) for c in gone)
    if event.kind in ("summarize", "retrieve", "note"):
        assert event.text.strip() and event.text in system(after)
        assert event.text not in system(before)


@pytest.mark.parametrize("condition", ["summary+vector", "notes", "full"])
def test_each_event_has_its_own_rounds(tmp_path: Path, condition: str) -> None:
    run_dir = attribution_run(tmp_path, condition)
    events = events_of(run_dir)
    contents = {e.message_id: e.content for e in events if e.type == "message"}
    contexts = round_contexts(run_dir)
    brackets = bracket_rounds(events)
    probed = [e for e in events if e.type == "memory" and e.kind in PROBED_KINDS]
    kinds = sorted({(e.kind, e.status) for e in probed})
    assert len({e.kind for e in probed if e.status == "ok"}) >= 2, \
        f"{condition}: expected two backends changing memory, got {kinds}"
    for event in probed:
        before_id, after_id = brackets[event.seq]
        assert before_id and after_id, f"{event.kind} at step {event.step} lacks a round"
        (before, before_answer), (after, after_answer) = contexts[before_id], contexts[after_id]
        if event.status == "ok":
            assert before_answer != after_answer  # the scripted answer follows the context
            check_change(event, before, after, contents)
    for first, second in zip(probed, probed[1:], strict=False):
        if first.step == second.step:  # nothing changed between two changes of one compaction
            assert contexts[brackets[first.seq][1]][0] == contexts[brackets[second.seq][0]][0]


def test_truncate_after_round_precedes_the_note(tmp_path: Path) -> None:
    run_dir = attribution_run(tmp_path, "notes")
    events = events_of(run_dir)
    contexts = round_contexts(run_dir)
    brackets = bracket_rounds(events)
    memory = [e for e in events if e.type == "memory"]
    pairs = [(a, b) for a, b in zip(memory, memory[1:], strict=False)
             if a.kind == "truncate" and b.kind == "note" and b.status == "ok"]
    assert pairs
    for truncate, note in pairs:
        after_truncate = contexts[brackets[truncate.seq][1]][0]
        assert note.text not in system(after_truncate)
        assert note.text in system(contexts[brackets[note.seq][1]][0])
