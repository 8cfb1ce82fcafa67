"""The embedded model's per-owner KV states: exact continuation, probes that leave no trace."""

from __future__ import annotations

from typing import Any

import pytest

from scaffold.models import _local_run, local
from scaffold.models._kv_state import StateBook, common_prefix

MODEL = "qwen2.5-0.5b-instruct"
PARAMS = {"temperature": 0.0, "max_tokens": 12, "seed": 0}
SYSTEM = {"role": "system", "content": "You are John F. Kennedy, President in 1962."}
TURNS = ("Good morning, Mr. President.", "What is on your desk today?")
PROBES = ("Who are you?", "What year is it?")


def _reply(messages: list[dict[str, Any]], run: str, agent: str = "jfk",
           measuring: bool = False) -> str:
    owner = (run, agent, "agent")
    result = local._generate(MODEL, messages, PARAMS, owner, measuring)
    return str(result["choices"][0]["message"]["content"])


def _conversation(run: str, probe: bool, noise: bool = False) -> list[str]:
    """Agent replies over TURNS; optionally probes and another agent's calls in between."""
    messages: list[dict[str, Any]] = [SYSTEM]
    replies = []
    for turn in TURNS:
        messages.append({"role": "user", "content": turn})
        replies.append(_reply(messages, run))
        messages.append({"role": "assistant", "content": replies[-1]})
        if probe:
            for question in PROBES:
                _reply([*messages, {"role": "user", "content": question}], run, measuring=True)
        if noise:
            _reply([{"role": "user", "content": "Write one line about the sea."}], run, "nova")
    local.release_run(run)
    return replies


def test_common_prefix_counts_leading_equal_tokens() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([1, 2], [1, 2, 3]) == 2


def test_release_forgets_only_that_runs_states() -> None:
    book = StateBook()
    snapshot: Any = object()
    book.states = {("a", "x", "agent"): snapshot, ("b", "x", "agent"): snapshot}
    book.round_bases = {("a", "x", "agent"): ("k", snapshot)}
    book.live = ("a", "x", "agent")
    assert book.release("a") == 1
    assert list(book.states) == [("b", "x", "agent")]
    assert not book.round_bases and book.live is None


@pytest.mark.slow
def test_probes_and_other_agents_leave_no_trace_in_an_agents_replies() -> None:
    alone = _conversation("kv-alone", probe=False)
    busy = _conversation("kv-busy", probe=True, noise=True)
    assert busy == alone


@pytest.mark.slow
def test_a_probes_answer_does_not_depend_on_what_ran_before_it() -> None:
    context = [SYSTEM, {"role": "user", "content": TURNS[0]}]
    _reply(context, "kv-probe")
    asked = [*context, {"role": "assistant", "content": "Good morning."},
             {"role": "user", "content": PROBES[0]}]
    first = _reply(asked, "kv-probe", measuring=True)
    _reply([{"role": "user", "content": "Name a colour."}], "kv-probe", "other")
    _reply([*asked[:-1], {"role": "user", "content": PROBES[1]}], "kv-probe", measuring=True)
    again = _reply(asked, "kv-probe", measuring=True)
    local.release_run("kv-probe")
    assert again == first


@pytest.mark.slow
def test_round_base_is_evaluated_once_per_context() -> None:
    context = [SYSTEM, {"role": "user", "content": TURNS[0]}]
    _reply(context, "kv-round")
    book = local._load(local.resolve_model_path(MODEL)).book
    before = (book.stats.round_bases, book.stats.round_base_hits)
    for question in PROBES:
        _reply([*context, {"role": "assistant", "content": "Hello."},
                {"role": "user", "content": question}], "kv-round", measuring=True)
    local.release_run("kv-round")
    assert (book.stats.round_bases - before[0], book.stats.round_base_hits - before[1]) == (1, 1)


def test_thread_counts_default_to_llama_cpp_pythons_and_a_setting_sets_both(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local.os, "cpu_count", lambda: 8)
    assert local.thread_counts(None) == (4, 8)
    assert local.thread_counts(3) == (3, 3)
    monkeypatch.setattr(local.os, "cpu_count", lambda: 1)
    assert local.thread_counts(None) == (1, 1)


def test_release_keeps_other_runs_round_bases() -> None:
    book = StateBook()
    snapshot: Any = object()
    book.round_bases = {("a", "x", "agent"): ("k", snapshot), ("b", "x", "agent"): ("k", snapshot)}
    assert book.release("a") == 0
    assert list(book.round_bases) == [("b", "x", "agent")]


@pytest.mark.slow
@pytest.mark.parametrize("params", [PARAMS, {"temperature": 0.8, "top_p": 0.9, "max_tokens": 16,
                                             "seed": 7, "stop": ["\n\n"]}])
def test_completion_from_rendered_tokens_is_create_chat_completions(params: dict[str, Any]
                                                                     ) -> None:
    loaded = local._load(local.resolve_model_path(MODEL))
    messages = [SYSTEM, {"role": "user", "content": TURNS[1]}]
    with loaded.lock:
        loaded.book.clear(loaded.llama)
        expected = loaded.llama.create_chat_completion(messages=messages, **params)
        loaded.book.clear(loaded.llama)
        rendered = loaded.render(messages)
        got = _local_run.complete(loaded, rendered, loaded.tokenize(rendered), params)
        loaded.book.clear(loaded.llama)
    assert got["choices"][0]["message"] == expected["choices"][0]["message"]
    assert got["choices"][0]["finish_reason"] == expected["choices"][0]["finish_reason"]
    assert got["usage"] == expected["usage"]


def test_completion_defaults_are_create_chat_completions() -> None:
    import inspect

    from llama_cpp import Llama

    chat = inspect.signature(Llama.create_chat_completion).parameters
    plain = inspect.signature(Llama.create_completion).parameters
    assert {k: chat[k].default for k in _local_run.CHAT_DEFAULTS} == _local_run.CHAT_DEFAULTS
    differing = {k for k in chat.keys() & plain.keys() if chat[k].default != plain[k].default}
    assert differing - {"stop"} <= _local_run.CHAT_DEFAULTS.keys()  # stop: complete() sets it
    assert {"temperature", "max_tokens"} <= differing
