"""Vector memory on a real ChromaDB: storing, retrieving, persistence, concurrency, server mode."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import BackendContext, CompactionContext, MemoryRecord, MemoryStack, TokenCounter
from memory.testing import MemoryBackendConformance
from memory.vector import (
    RETRIEVED_HEADER,
    VectorMemory,
    VectorStoreError,
    collection_name,
    scoped_where,
)
from memory.window import WindowMemory
from scaffold import registry
from scaffold.messages import Message

MODEL = "scripted/default"
ROOT = Path(__file__).resolve().parents[2]
DOG = "My dog Rex is a golden retriever; he loves swimming off the beach at Hyannis Port."
FILLER = [
    "Let us go over the budget for the highway program next fiscal year.",
    "The space agency needs a decision on the lunar landing schedule.",
    "Draft a short statement about the trade talks with Europe.",
    "The weather in Washington has been cold and grey all week.",
    "Remind me which senators are undecided on the tax bill.",
    "The press corps wants a comment about the steel prices.",
]
QUESTION = "What breed is your dog, and where does he like to swim?"


def make_vector(run_dir: Path, agent: str = "jfk", run_id: str = "run-1",
                **settings: Any) -> VectorMemory:
    """A vector backend built through the registry, as a run builds it."""
    context = BackendContext(run_dir=run_dir, run_id=run_id, agent_id=agent)
    return registry.get("memory", "vector")(context=context, **settings)


def msg(i: int, content: str, role: str = "user", agent: str = "jfk") -> Message:
    return Message(id=f"{agent}-m{i}", role=role, content=content,
                   author="user" if role == "user" else agent, step=i)


def compaction(stack: MemoryStack, step: int, seen: list[str] | None = None,
               agent: str = "jfk") -> CompactionContext:
    async def before_change(kind: str) -> None:
        if seen is not None:
            seen.append(kind)

    async def complete(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("vector memory never calls a model")

    return CompactionContext(agent_id=agent, step=step, window=stack.window,
                             counter=stack.counter, budget_tokens=stack.budget_tokens,
                             prompt_tokens=stack.prompt_tokens, complete=complete,
                             before_change=before_change)


def converse(backend: VectorMemory, seen: list[str] | None = None
             ) -> tuple[MemoryStack, list[MemoryRecord]]:
    """The dog fact, filler that pushes it out of the window, then the question about it."""
    window = WindowMemory(threshold=0.5, keep_last=2)
    stack = MemoryStack("You are John F. Kennedy.", [backend, window], TokenCounter(MODEL), 300)
    records: list[MemoryRecord] = []
    turns = [DOG, *FILLER, QUESTION]
    for i, text in enumerate(turns):
        records.extend(stack.observe([msg(2 * i, text)]))
        records.extend(asyncio.run(stack.compact(compaction(stack, 2 * i, seen))))
        if i < len(turns) - 1:
            records.extend(stack.observe([msg(2 * i + 1, f"Noted, point {i}.", "assistant")]))
    return stack, records


@pytest.fixture
def backends() -> Iterator[list[VectorMemory]]:
    """Collects backends a test opens and closes them afterwards."""
    opened: list[VectorMemory] = []
    yield opened
    for backend in opened:
        backend.close()


def test_turns_are_stored_with_provenance(tmp_path: Path, backends: list[VectorMemory]) -> None:
    backend = make_vector(tmp_path)
    backends.append(backend)
    call = {"id": "c1", "type": "function", "function": {"name": "python", "arguments": "{}"}}
    records = backend.observe([msg(1, DOG), Message(id="jfk-m2", role="assistant", content="",
                                                    author="jfk", step=1, tool_calls=[call])])
    assert records is not None and len(records) == 1
    record = records[0]
    assert (record.kind, record.backend, record.author) == ("insert", "vector", "user")
    assert record.source_ids == ["jfk-m1"] and record.text.startswith("My dog Rex")
    stored = backend.collection.get(include=["documents", "metadatas"])
    assert stored["documents"] == [DOG]  # the tool-call-only message is not stored
    assert stored["metadatas"][0] == {"run": "run-1", "agent": "jfk", "author": "user",
                                      "step": 1, "kind": "turn", "role": "user",
                                      "message_id": "jfk-m1", "ns": backend.namespace,
                                      "run_dir": str(tmp_path.resolve())}
    assert (tmp_path / "memory" / "chroma").is_dir()


def test_observing_again_never_duplicates(tmp_path: Path, backends: list[VectorMemory]) -> None:
    backend = make_vector(tmp_path)
    backends.append(backend)
    messages = [msg(i, FILLER[i]) for i in range(4)]
    backend.observe(messages)
    backend.observe(messages[2:])  # a resumed run shows the last turns again
    assert backend.collection.count() == 4


def test_retrieves_relevant_message_after_it_left_the_window(
        tmp_path: Path, backends: list[VectorMemory]) -> None:
    backend = make_vector(tmp_path, top_k=2)
    backends.append(backend)
    seen: list[str] = []
    stack, records = converse(backend, seen)
    assert "jfk-m0" not in {m.id for m in stack.window.messages}
    retrieves = [r for r in records if r.kind == "retrieve"]
    assert retrieves and retrieves[-1].source_ids[0] == "jfk-m0"
    last = retrieves[-1]
    assert last.author == "system" and last.backend == "vector"
    assert "(step 0, user) My dog Rex" in last.text and last.text.startswith(RETRIEVED_HEADER)
    assert last.tokens_after != last.tokens_before
    assert {r.kind for r in records} >= {"insert", "retrieve", "truncate"}
    assert "retrieve" in seen
    window_ids = {m.id for m in stack.window.messages}
    assert not window_ids & {r["message_id"] for r in backend.retrieved}
    system = stack.model_input().messages[0]["content"]
    assert "[Memory] Retrieved from long-term memory" in system and "golden retriever" in system


def test_unchanged_retrieval_emits_no_event(tmp_path: Path,
                                            backends: list[VectorMemory]) -> None:
    backend = make_vector(tmp_path, top_k=2)
    backends.append(backend)
    stack, _ = converse(backend)
    assert asyncio.run(backend.maybe_compact(compaction(stack, 99))) is None
    empty = make_vector(tmp_path / "other")
    backends.append(empty)
    bare = MemoryStack("You are JFK.", [empty], TokenCounter(MODEL), 300)
    bare.window.add(msg(1, QUESTION))
    assert asyncio.run(empty.maybe_compact(compaction(bare, 1))) is None
    assert empty.render(300) == []


def test_render_stays_within_budget_with_provenance(tmp_path: Path,
                                                    backends: list[VectorMemory]) -> None:
    backend = make_vector(tmp_path, max_chars=200)
    backends.append(backend)
    memories = [(DOG, "turn"), ("日本語のテキスト、数字 12345 " * 20, "turn"),
                ("We discussed the harbor.", "summary")]
    backend.restore({"retrieved": [
        {"id": f"r{i}", "text": text, "kind": kind, "step": i, "author": "user", "role": "user"}
        for i, (text, kind) in enumerate(memories)]})
    counter = TokenCounter(MODEL)
    for budget in (8, 24, 48, 64, 120, 400):
        rendered = backend.render(budget)
        assert counter.messages(rendered) <= budget, budget
    full = backend.render(400)[0]["content"]
    assert full.startswith(RETRIEVED_HEADER) and "(step 0, user) My dog Rex" in full
    assert "(step 2, summary) We discussed the harbor." in full
    assert all(len(line) <= 200 + len("- (step 1, user) ") for line in full.splitlines())
    assert len(backend.render(48)) == 1  # the best memory, cut, rather than nothing


def test_summaries_and_notes_are_stored_and_retrieved(tmp_path: Path,
                                                      backends: list[VectorMemory]) -> None:
    backend = make_vector(tmp_path)
    backends.append(backend)
    stack = MemoryStack("You are JFK.", [backend], TokenCounter(MODEL), 600)
    stack.observe([msg(5, "Hello again.")])
    summary = MemoryRecord(kind="summarize", backend="summary", author="summarizer",
                           text="The President promised Jackie a sailing trip to Nantucket.",
                           source_ids=["jfk-m1", "jfk-m2"])
    note = MemoryRecord(kind="note", backend="notes", author="agent",
                        text="The user keeps asking about space.\nI answer as the President.")
    failed = MemoryRecord(kind="summarize", backend="summary", status="failed",
                          reason="refused", text="I'm sorry, I can't help with that.")
    follow = stack.propagate(summary) + stack.propagate(note) + stack.propagate(failed)
    assert [r.kind for r in follow] == ["insert", "insert"]
    assert follow[0].source_ids == ["jfk-m1", "jfk-m2"] and follow[0].author == "summarizer"
    kinds = backend.collection.get(where={"kind": {"$in": ["summary", "note"]}},
                                   include=["metadatas"])["metadatas"]
    assert sorted(m["kind"] for m in kinds) == ["note", "note", "summary"]
    stored = next(m for m in kinds if m["kind"] == "summary")
    assert stored["source_ids"] == "jfk-m1,jfk-m2" and stored["author"] == "summarizer"
    assert stored["step"] == 5
    found = backend.search("Where will the sailing trip with Jackie go?")
    assert found[0]["kind"] == "summary" and "Nantucket" in found[0]["text"]
    assert backend.search("Which topic does the user bring up all the time?")[0]["kind"] == "note"
    again = stack.propagate(summary)  # the same summary again is not a second memory
    assert again and backend.collection.count() == 4
    turns_only = make_vector(tmp_path / "turns-only", store=["turns"])
    backends.append(turns_only)
    assert turns_only.on_memory(summary) is None and turns_only.collection.count() == 0


def test_eight_agents_writing_one_collection_lose_nothing(
        tmp_path: Path, backends: list[VectorMemory]) -> None:
    agents = [make_vector(tmp_path, agent=f"a{n}", collection="shared-room") for n in range(8)]
    backends.extend(agents)
    errors: list[BaseException] = []

    def write(backend: VectorMemory) -> None:
        try:
            for i in range(50):
                backend.observe([msg(i, f"{backend.agent_id} says {FILLER[i % 6]} ({i})",
                                     agent=backend.agent_id)])
        except BaseException as exc:  # re-raised below in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(b,)) for b in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert agents[0].collection.count() == 400
    for backend in agents:
        mine = backend.collection.get(where={"agent": backend.agent_id})["ids"]
        assert len(mine) == 50
        assert all(r["message_id"].startswith(f"{backend.agent_id}-") for r in
                   backend.search("the lunar landing schedule"))


def test_where_naming_agent_searches_across_agents(tmp_path: Path,
                                                   backends: list[VectorMemory]) -> None:
    alice = make_vector(tmp_path, agent="alice", collection="room")
    bob = make_vector(tmp_path, agent="bob", collection="room",
                      where={"agent": {"$in": ["alice", "bob"]}})
    backends.extend([alice, bob])
    alice.observe([msg(1, DOG, agent="alice")])
    assert bob.search(QUESTION)[0]["message_id"] == "alice-m1"
    assert scoped_where({"author": "x", "step": {"$gt": 2}}, "bob", "r", "n1") == {
        "$and": [{"author": "x"}, {"step": {"$gt": 2}}, {"agent": "bob"}, {"run": "r"},
                 {"ns": "n1"}]}
    assert scoped_where({"ns": {"$ne": ""}}, "bob", "r", "n1") == {
        "$and": [{"ns": {"$ne": ""}}, {"agent": "bob"}]}
    # a per-agent collection holds nothing else: no filter, so no scan in Chroma
    assert scoped_where({}, "bob", "r", "n1", shared=False) is None
    assert scoped_where({"author": "x"}, "bob", "r", "n1", shared=False) == {"author": "x"}


def test_runs_sharing_a_collection_stay_apart(tmp_path: Path,
                                              backends: list[VectorMemory]) -> None:
    first = make_vector(tmp_path, run_id="run-1", collection="shared-runs")
    second = make_vector(tmp_path, run_id="run-2", collection="shared-runs")
    backends.extend([first, second])
    first.observe([msg(1, DOG)])
    second.observe([msg(1, FILLER[0])])  # same message id, another run: not overwritten
    assert first.collection.count() == 2
    assert [r["text"] for r in first.search(QUESTION)] == [DOG]
    assert [r["text"] for r in second.search(QUESTION)] == [FILLER[0]]


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


WRITER = """
    from pathlib import Path
    from memory import BackendContext
    from memory.vector import make_vector
    from scaffold.messages import Message
    backend = make_vector(context=BackendContext(run_dir=Path({run_dir!r}), run_id="run-1",
                                                 agent_id="jfk"){settings})
    texts = {texts!r}
    backend.observe([Message(id=f"{{{prefix!r}}}-m{{i}}", role="user", content=t, author="user",
                             step=i) for i, t in enumerate(texts)])
    print("stored", backend.collection.count())
    backend.close()
"""


def test_store_survives_a_process_restart(tmp_path: Path) -> None:
    written = _run_python(WRITER.format(run_dir=str(tmp_path), settings="", prefix="jfk",
                                        texts=[DOG, *FILLER]))
    assert written.returncode == 0, written.stderr
    read = _run_python(f"""
        from pathlib import Path
        from memory import BackendContext
        from memory.vector import make_vector
        backend = make_vector(context=BackendContext(run_dir=Path({str(tmp_path)!r}),
                                                     run_id="run-1", agent_id="jfk"))
        print(backend.collection.count(), backend.search({QUESTION!r})[0]["message_id"])
    """)
    assert read.returncode == 0, read.stderr
    assert read.stdout.split() == ["7", "jfk-m0"]


def test_second_process_on_an_embedded_store_is_refused(
        tmp_path: Path, backends: list[VectorMemory]) -> None:
    backends.append(make_vector(tmp_path))
    other = _run_python(WRITER.format(run_dir=str(tmp_path), settings="", prefix="jfk",
                                      texts=[DOG]))
    assert other.returncode != 0
    assert "VectorStoreError" in other.stderr and "in use by another process" in other.stderr
    assert "chroma_url" in other.stderr


def test_unreachable_server_raises_helpful_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the backend connects
    with pytest.raises(VectorStoreError) as info:
        make_vector(tmp_path, chroma_url=f"http://127.0.0.1:{port}")
    message = str(info.value)
    assert f"http://127.0.0.1:{port}" in message and "chroma run" in message
    assert "chroma_url" in message


def test_corrupt_store_raises_helpful_error(tmp_path: Path) -> None:
    make_vector(tmp_path).close()  # a run's store, with its namespace
    store = tmp_path / "memory" / "chroma"
    shutil.rmtree(store)
    store.mkdir(parents=True)
    (store / "chroma.sqlite3").write_bytes(b"this is not a database" * 1000)
    with pytest.raises(VectorStoreError) as info:
        make_vector(tmp_path)
    assert str(store) in str(info.value) and "move it aside or delete it" in str(info.value)
    (store / "chroma.sqlite3").unlink()  # the lock was released: the directory can be reused
    fresh = make_vector(tmp_path)
    fresh.close()


def test_importing_memory_vector_does_not_import_chromadb() -> None:
    done = _run_python("""
        import sys, memory.vector
        assert "chromadb" not in sys.modules, "chromadb imported"
    """)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("raw,expected", [
    ("run-1-jfk", "run-1-jfk"),
    ("shared.room", "shared.room"),
])
def test_valid_collection_names_are_kept(raw: str, expected: str) -> None:
    assert collection_name(raw) == expected


@pytest.mark.parametrize("raw", ["a", "gpt/4o mini-summary+vector-s0-jfk", "x" * 80, "-_-",
                                 "10.0.0.1", "a..b", "Präsident!"])
def test_invalid_collection_names_are_sanitised(raw: str) -> None:
    name = collection_name(raw)
    assert 3 <= len(name) <= 63 and name[0].isalnum() and name[-1].isalnum()
    assert ".." not in name and all(c.isalnum() and c.isascii() or c in "._-" for c in name)
    assert collection_name(raw) == name and collection_name(raw + "?") != name


def test_server_mode_stores_and_retrieves(tmp_path: Path, chroma_server: str,
                                          backends: list[VectorMemory]) -> None:
    backend = make_vector(tmp_path, chroma_url=chroma_server, top_k=2)
    backends.append(backend)
    _, records = converse(backend)
    assert records[-1].kind in ("retrieve", "truncate")
    retrieve = [r for r in records if r.kind == "retrieve"][-1]
    assert retrieve.source_ids[0] == "jfk-m0" and "(step 0, user) My dog Rex" in retrieve.text
    assert not (tmp_path / "memory" / "chroma").exists()  # nothing embedded in the run dir


def test_server_mode_two_processes_lose_nothing(tmp_path: Path, chroma_server: str,
                                                backends: list[VectorMemory]) -> None:
    settings = f", chroma_url={chroma_server!r}, collection='two-procs'"
    texts = [f"Memo {i}: {FILLER[i % 6]}" for i in range(60)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER.format(
            run_dir=str(tmp_path / f"p{n}"), settings=settings, prefix=f"p{n}", texts=texts))],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(2)]
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    reader = make_vector(tmp_path, chroma_url=chroma_server, collection="two-procs")
    backends.append(reader)
    ids = {i.split("/", 1)[1] for i in reader.collection.get()["ids"]}  # namespace/run/key
    assert len(ids) == 120 and {f"run-1/p{n}-m{i}" for n in range(2) for i in range(60)} == ids


class TestVectorConformance(MemoryBackendConformance):
    """The suite every backend passes, on the embedded store."""

    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "vector")(context=context, top_k=3)
