"""Probe rounds: clean contexts, seeds per answer, sampling settings of every role, recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import JFK_PERSONA, events_of, make_spec, run_spec, spec_dict

from scaffold.config import parse_experiment
from scaffold.errors import ConfigError
from scaffold.models.cassette import load_cassette
from scaffold.trackers.probes import completed_context, probe_seed

SKEPTIC = {"name": "Skeptic", "identity": "You are a sceptical journalist from 2024.",
           "anchors": ["I am a journalist and I ask hard questions."]}


def test_completed_context_drops_what_is_not_answered_yet() -> None:
    system = {"role": "system", "content": "You are JFK."}
    done = [system, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello."}]
    pending = {"role": "user", "content": "Explain how a language model works."}
    call = {"role": "assistant", "content": "", "tool_calls": [{"id": "c"}]}
    result = {"role": "tool", "content": "ok", "tool_call_id": "c"}
    assert completed_context([*done, pending]) == done
    assert completed_context([*done, pending, call, result]) == done
    assert completed_context(done) == done
    assert completed_context([system, pending]) == [system]


def test_every_round_answers_its_own_question(tmp_path: Path) -> None:
    """scripted/context-hash answers the oldest unanswered user turn, as a chat model does:
    a probe asked behind a pending user turn would answer that turn instead."""
    spec = make_spec(tmp_path, model="scripted/context-hash",
                     probes={"every": 2, "samples": 1, "temperature": 0.0})
    run_dir = run_spec(spec)
    probes = events_of(run_dir, "probe")
    assert {p.trigger for p in probes} >= {"periodic", "before_memory", "after_memory"}
    wrong = [(p.round_id, p.question, p.answer) for p in probes
             if not p.answer.endswith(f"probe: {p.question}")]
    assert not wrong


def probe_requests(run_dir: Path) -> list[Any]:
    return [e for e in load_cassette(run_dir / "cassette.jsonl") if e.purpose == "probe"]


def test_each_answer_has_its_own_seed(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, steps=6, probes={"every": 3, "generic": False})  # 3 samples, 0.7
    run_dir = run_spec(spec)
    probes = events_of(run_dir, "probe")
    assert {p.sample for p in probes} == {0, 1, 2}
    requests = {e.hash: e for e in probe_requests(run_dir)}
    seeds = [requests[p.request_hash].params["seed"] for p in probes]
    assert len(set(seeds)) == len(seeds)
    assert all(requests[p.request_hash].params["temperature"] == 0.7 for p in probes)
    assert seeds == [probe_seed(0, "jfk", p.round_id, p.probe_id, p.sample) for p in probes]
    again = run_spec(spec, tmp_path / "again")
    assert [(p.round_id, p.probe_id, p.request_hash) for p in events_of(again, "probe")] == \
        [(p.round_id, p.probe_id, p.request_hash) for p in probes]
    assert probe_seed(1, "jfk", probes[0].round_id, "who", 0) != \
        probe_seed(0, "jfk", probes[0].round_id, "who", 0)


def test_several_samples_at_temperature_zero_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_experiment(spec_dict(probes={"samples": 3, "temperature": 0}))
    assert "probes.samples" in str(caught.value) and "temperature" in str(caught.value)
    assert parse_experiment(spec_dict(probes={"temperature": 0})).probes.samples == 1
    assert parse_experiment(spec_dict(probes={})).probes.samples == 3


def test_every_role_samples_as_configured_and_is_recorded(tmp_path: Path) -> None:
    agent = {"id": "jfk", "persona": "jfk",
             "memory": {"condition": "full", "budget_tokens": 400,
                        "summary": {"threshold": 0.75, "keep_last": 4, "max_tokens": 96}},
             "generation": {"temperature": 0.5, "top_p": 0.8, "seed": 40, "max_tokens": 64},
             "summarizer": {"temperature": 0.3, "top_p": 0.7, "seed": 50},
             "notes": {"temperature": 0.2, "seed": 60}}
    spec = make_spec(
        tmp_path, steps=8, agents=[agent], personas={"jfk": JFK_PERSONA, "skeptic": SKEPTIC},
        models={"user": "scripted/default"},
        task={"kind": "pressure", "user": {"persona": "skeptic", "temperature": 0.9,
                                           "top_p": 0.6, "seed": 70, "max_tokens": 40}},
        probes={"every": 4, "top_p": 0.95, "seed": 80, "scorers": ["rules", "judge"]},
        judge={"temperature": 0.1, "top_p": 0.5, "seed": 90, "max_tokens": 50})
    run_dir = run_spec(spec)
    params: dict[str, list[dict[str, Any]]] = {}
    for entry in load_cassette(run_dir / "cassette.jsonl"):
        params.setdefault(entry.purpose, []).append(entry.params)
    assert {"agent", "summarizer", "notes", "probe", "judge", "user"} <= set(params)
    expect = {"agent": (0.5, 0.8, 64), "summarizer": (0.3, 0.7, 96), "notes": (0.2, 0.8, None),
              "probe": (0.7, 0.95, 64), "judge": (0.1, 0.5, 50), "user": (0.9, 0.6, 40)}
    for purpose, (temperature, top_p, max_tokens) in expect.items():
        for p in params[purpose]:
            assert (p["temperature"], p["top_p"]) == (temperature, top_p), purpose
            assert max_tokens is None or p["max_tokens"] == max_tokens, purpose
    assert {p["seed"] for p in params["agent"]} == {40 + s for s in range(1, 9)}
    assert {p["seed"] for p in params["summarizer"]} == {50}
    assert {p["seed"] for p in params["judge"]} == {90}
    assert all(p["seed"] - 70 in range(1, 9) for p in params["user"])
    sampling = json.loads((run_dir / "manifest.json").read_text())["sampling"]
    assert sampling["agents"]["jfk"]["summarizer"] == {
        "temperature": 0.3, "top_p": 0.7, "seed": 50, "max_tokens": 96,
        "retry_temperature": 0.7}
    assert sampling["agents"]["jfk"]["notes"]["temperature"] == 0.2
    assert sampling["probes"]["samples"] == 3 and sampling["probes"]["seed"] == 80
    assert sampling["user"]["top_p"] == 0.6 and sampling["judge"]["seed"] == 90
    assert sampling["local"] == {"n_ctx": 4096, "n_threads": None, "kv_state": True}


def test_default_sampling_is_reported(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=1, probes={"generic": False}))
    sampling = json.loads((run_dir / "manifest.json").read_text())["sampling"]
    assert sampling["probes"]["temperature"] == 0.7 and sampling["probes"]["samples"] == 3
    assert sampling["agents"]["jfk"]["summarizer"]["temperature"] == 0.0
    assert sampling["agents"]["jfk"]["summarizer"]["retry_temperature"] == 0.7
