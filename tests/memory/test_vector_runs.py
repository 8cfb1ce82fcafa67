"""Vector memory across runs: namespaces per run directory, stale collections, and retrieval
that ranks the same way however the store was built, reopened or resumed."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from memory import BackendContext
from memory._chroma import NAMESPACE_FILE, run_namespace
from memory.collections import list_collections, prune_collections
from memory.vector import VectorMemory, VectorStoreError
from scaffold import registry
from scaffold.cli import app
from scaffold.config import parse_experiment
from scaffold.messages import Message
from tests.helpers import events_of, run_spec, spec_dict, write_config
from tests.helpers.killing import kill_then_resume

DOG = "My dog Rex is a golden retriever; he loves swimming off the beach at Hyannis Port."
QUESTION = "What breed is your dog, and where does he like to swim?"
HARBOR = "Tell me about the harbor at Hyannis Port."
TURNS = [HARBOR, "What do you think of the space program?", HARBOR]
"""User turns, cycled: the same text comes back every few steps, so retrieval has ties."""


def make_vector(run_dir: Path, run_id: str = "run-1", agent: str = "jfk",
                **settings: Any) -> VectorMemory:
    context = BackendContext(run_dir=run_dir, run_id=run_id, agent_id=agent)
    return registry.get("memory", "vector")(context=context, **settings)


def msg(i: int, content: str, agent: str = "jfk") -> Message:
    return Message(id=f"{agent}-m{i}", role="user", content=content, author="user", step=i)


@pytest.fixture
def backends() -> Iterator[list[VectorMemory]]:
    opened: list[VectorMemory] = []
    yield opened
    for backend in opened:
        backend.close()


# --- namespaces ---------------------------------------------------------------------------

def test_namespace_is_kept_by_the_directory_and_new_when_it_is_made_again(
        tmp_path: Path) -> None:
    run_dir = tmp_path / "run-1"
    first = run_namespace(run_dir)
    assert re.fullmatch(r"[0-9a-f]{8}", first)
    assert run_namespace(run_dir) == first  # a resumed run keeps it
    shutil.rmtree(run_dir)
    assert run_namespace(run_dir) != first  # deleted and made again: a new one


def test_agents_asking_at_once_get_one_namespace(tmp_path: Path) -> None:
    got: list[str] = []
    barrier = threading.Barrier(8)

    def ask() -> None:
        barrier.wait()
        got.append(run_namespace(tmp_path / "run"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len(set(got)) == 1
    assert sorted(p.name for p in (tmp_path / "run" / "memory").iterdir()) == [NAMESPACE_FILE]


def test_corrupt_namespace_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / NAMESPACE_FILE).write_text("not hex\n")
    with pytest.raises(VectorStoreError, match="namespace.*corrupt"):
        make_vector(tmp_path)


def test_a_store_without_a_namespace_is_refused_not_silently_started_afresh(
        tmp_path: Path) -> None:
    make_vector(tmp_path).close()
    (tmp_path / "memory" / NAMESPACE_FILE).unlink()  # as in a run dir from before namespaces
    with pytest.raises(VectorStoreError, match="cannot be told apart.*move memory/chroma aside"):
        make_vector(tmp_path)
    assert not (tmp_path / "memory" / NAMESPACE_FILE).exists()
    shutil.rmtree(tmp_path / "memory" / "chroma")
    make_vector(tmp_path).close()  # moved aside: starts afresh


def test_rerun_after_deleting_the_run_dir_sees_nothing_old_on_a_server(
        tmp_path: Path, chroma_server: str, backends: list[VectorMemory]) -> None:
    for collection in (None, "shared-across-runs"):
        run_dir = tmp_path / (collection or "own") / "run-1"
        old = make_vector(run_dir, chroma_url=chroma_server, collection=collection)
        old.observe([msg(7, DOG)])
        assert [r["text"] for r in old.search(QUESTION)] == [DOG]
        old.close()
        resumed = make_vector(run_dir, chroma_url=chroma_server, collection=collection)
        backends.append(resumed)
        assert [r["id"] for r in resumed.search(QUESTION)] == ["run-1/jfk-m7"]
        shutil.rmtree(run_dir)  # "delete the run dir to run it again"
        fresh = make_vector(run_dir, chroma_url=chroma_server, collection=collection)
        backends.append(fresh)
        assert fresh.search(QUESTION) == [], collection
        fresh.observe([msg(1, HARBOR)])
        assert [r["text"] for r in fresh.search(QUESTION)] == [HARBOR]


def _server_data(out: Path, url: str, steps: int = 16) -> dict[str, Any]:
    data = spec_dict(out=str(out), steps=steps, probes={"enabled": False})
    data["task"] = {"turns": [DOG, *TURNS, QUESTION]}
    data["agents"][0]["memory"] = {"condition": "vector", "budget_tokens": 300,
                                   "vector": {"top_k": 3, "chroma_url": url}}
    return data


def _retrieved_steps(run_dir: Path) -> list[tuple[int, list[int]]]:
    return [(e.step, [int(n) for n in re.findall(r"\(step (\d+), ", e.text)])
            for e in events_of(run_dir, "memory") if e.kind == "retrieve"]


def test_a_run_started_again_never_retrieves_the_deleted_runs_memories(
        tmp_path: Path, chroma_server: str) -> None:
    spec = parse_experiment(_server_data(tmp_path / "runs", chroma_server))
    first = run_spec(spec)
    before = _retrieved_steps(first)
    shutil.rmtree(first)
    again = run_spec(spec)
    assert again == first
    # the deleted run stored every step: had the new run seen it, it would have retrieved
    # memories from steps it had not reached yet
    assert all(s < step for step, steps in _retrieved_steps(again) for s in steps)
    assert _retrieved_steps(again) == before


def test_stale_collections_are_listed_and_pruned(tmp_path: Path, chroma_server: str,
                                                 backends: list[VectorMemory]) -> None:
    root = tmp_path / "runs"
    for name in ("gone", "kept"):
        for collection in (None, "prune-shared"):
            backend = make_vector(root / name, run_id=name, chroma_url=chroma_server,
                                  collection=collection)
            backend.observe([msg(1, DOG), msg(2, HARBOR)])
            backend.close()
    remade = make_vector(root / "remade", run_id="remade", chroma_url=chroma_server)
    remade.observe([msg(1, DOG)])
    remade.close()
    shutil.rmtree(root / "gone")
    shutil.rmtree(root / "remade")
    backends.append(make_vector(root / "remade", run_id="remade", chroma_url=chroma_server))

    listed = sorted((r.name.split("-")[0], r.owner, tuple(x.state for x in r.runs))
                    for r in list_collections(chroma_server, root))
    assert listed == [("gone", "run", ("stale",)), ("kept", "run", ("live",)),
                      ("prune", "shared", ("stale", "live")),  # by run dir: gone, kept
                      ("remade", "run", ("live",)), ("remade", "run", ("stale",))]
    shown = CliRunner().invoke(app, ["memory", "collections", "--chroma-url", chroma_server,
                                     "--under", str(root)])
    assert shown.exit_code == 0, shown.output
    assert "3 stale run(s)" in shown.output and "--prune" in shown.output

    pruned = CliRunner().invoke(app, ["memory", "collections", "--chroma-url", chroma_server,
                                      "--under", str(root), "--prune"])
    assert pruned.exit_code == 0, pruned.output
    assert "removed 5 stale memories from 3 collection(s)" in pruned.output
    after = list_collections(chroma_server, root)
    assert all(run.state == "live" for r in after for run in r.runs)
    shared = next(r for r in after if r.owner == "shared")
    assert [(Path(x.run_dir).name, x.memories) for x in shared.runs] == [("kept", 2)]
    assert sorted(Path(r.runs[0].run_dir).name for r in after if r.owner == "run") == [
        "kept", "remade"]
    assert prune_collections(chroma_server, root) == []  # nothing left to remove


def test_collections_command_explains_an_unreachable_server(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["memory", "collections", "--chroma-url",
                                      "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "http://127.0.0.1:9" in result.output and "chroma run" in result.output


# --- deterministic retrieval --------------------------------------------------------------

def test_ties_break_by_recency_then_id_however_the_store_was_filled(
        tmp_path: Path, backends: list[VectorMemory]) -> None:
    steps = list(range(1, 31))
    texts = {i: HARBOR if i % 3 else f"Filler number {i} about the weather." for i in steps}
    forward = make_vector(tmp_path / "forward", top_k=4)
    backward = make_vector(tmp_path / "backward", top_k=4)
    backends.extend([forward, backward])
    for i in steps:
        forward.observe([msg(i, texts[i])])
    for i in reversed(steps):
        backward.observe([msg(i, texts[i])])
    expected = ["run-1/jfk-m29", "run-1/jfk-m28", "run-1/jfk-m26", "run-1/jfk-m25"]
    assert [r["id"] for r in forward.search(HARBOR)] == expected
    assert [r["id"] for r in backward.search(HARBOR)] == expected
    # the window's copies are excluded; the next most recent take their place
    window = {"jfk-m29", "jfk-m28"}
    assert [r["id"] for r in forward.search(HARBOR, window)] == [
        "run-1/jfk-m26", "run-1/jfk-m25", "run-1/jfk-m23", "run-1/jfk-m22"]
    distances = {r["distance"] for r in forward.search(HARBOR)}
    assert len(distances) == 1  # they really tie
    forward.close()
    reopened = make_vector(tmp_path / "forward", top_k=4)
    backends.append(reopened)
    assert [r["id"] for r in reopened.search(HARBOR)] == expected


def _resume_data(out: Path, condition: str) -> dict[str, Any]:
    data = spec_dict(out=str(out), steps=40, probes={"enabled": False})
    data["task"] = {"turns": TURNS}
    data["agents"][0]["memory"] = {"condition": condition, "budget_tokens": 500,
                                   "vector": {"top_k": 3}}
    return data


def _context_view(run_dir: Path) -> list[tuple[Any, ...]]:
    """What the agent saw at each call (the request hash covers the whole input) and what
    was retrieved."""
    calls = [(e.step, e.request_hash) for e in events_of(run_dir, "model_call")
             if e.purpose == "agent"]
    retrieved = [(e.step, e.text, tuple(e.source_ids)) for e in events_of(run_dir, "memory")
                 if e.kind == "retrieve"]
    return calls + retrieved


@pytest.mark.parametrize("condition,kill_after_lines", [("vector", 60), ("full", 200)])
def test_kill_9_then_resume_renders_the_same_context(tmp_path: Path, condition: str,
                                                     kill_after_lines: int) -> None:
    reference = run_spec(parse_experiment(_resume_data(tmp_path / "ref", condition)))
    config = write_config(tmp_path, _resume_data(tmp_path / "runs", condition))
    run_dir = kill_then_resume(config, tmp_path / "runs", kill_after_lines)
    expected = _context_view(reference)
    assert sum(1 for row in expected if len(row) == 3) >= 5  # retrieval did happen
    assert _context_view(run_dir) == expected
