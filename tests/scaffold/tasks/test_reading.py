"""The reading task: chunking, the task contract, document errors, and a scripted run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.helpers import events_of, make_spec, run_spec, spec_dict, write_config

from scaffold.loading import load_experiment
from scaffold.errors import ConfigError
from scaffold.runner import Run, run_dir_for
from scaffold.tasks.base import AgentTurn, TaskContext
from scaffold.tasks.reading import ReadingTask, bundled_text, document_chunks

USER_DOC = """A first paragraph with a few sentences. It talks about the harbor. Then it ends.

A second paragraph follows here! Does it ask a question? Yes, it does, and then it stops.

Short third paragraph.

The last paragraph closes the document with one long sentence that keeps going on and on \
without any full stop for quite a while so that it must be cut somewhere in the middle of it"""


def reading_task(tmp_path: Path, agents: int = 1, **reading: object) -> ReadingTask:
    ids = ["jfk", "jfk2"][:agents]
    spec = make_spec(tmp_path, task={"kind": "reading", "reading": reading},
                     agents=[{"id": i, "persona": "jfk"} for i in ids])
    return ReadingTask(TaskContext(spec=spec, agent_ids=ids, seed=spec.seed, run_dir=tmp_path))


def read_all(task: ReadingTask, steps: int = 100) -> list:
    """Drive the task as the runner does, every agent replying 'notes'; returns outcomes."""
    async def drive() -> list:
        outcomes = []
        for step in range(1, steps + 1):
            while (turn := await task.next_turn(step)) is not None:
                outcomes += await task.record(turn, step, f"notes of {turn.agent_id}")
            if task.done():
                break
        return outcomes
    return asyncio.run(drive())


def test_bundled_text_is_the_inaugural_address_without_source_lines() -> None:
    text = bundled_text()
    assert "ask not what your country can do for you" in text
    assert "Four score and seven years ago" in text
    assert not any(line.startswith("#") for line in text.splitlines())
    assert len(text.split()) > 1500


@pytest.mark.parametrize("chunk_words", [20, 50, 180, 1000])
def test_chunks_cover_the_document_once_in_order(chunk_words: int) -> None:
    for text in (bundled_text(), USER_DOC):
        chunks = document_chunks(text, chunk_words)
        assert [w for c in chunks for w in c.split()] == text.split()
        assert all(0 < len(c.split()) <= chunk_words for c in chunks)


def test_chunks_end_at_sentences_and_prefer_paragraph_breaks() -> None:
    chunks = document_chunks(USER_DOC, 20)
    assert chunks[0] == ("A first paragraph with a few sentences. It talks about the harbor. "
                         "Then it ends.")  # 14 words: ends at the paragraph break
    assert chunks[1].startswith("A second paragraph") and chunks[1].endswith("it stops.")
    assert chunks[2] == "Short third paragraph."  # the next sentence would overflow it
    assert len(chunks[-1].split()) < 20  # the over-long sentence was cut into 20-word runs
    assert document_chunks("One. Two.\n\nThree four.\n\nFive.", 20) == \
        ["One. Two.\n\nThree four.\n\nFive."]  # short paragraphs share a chunk


def test_each_step_sends_instruction_and_passage(tmp_path: Path) -> None:
    task = reading_task(tmp_path, instruction="Take notes.")
    turn = asyncio.run(task.next_turn(1))
    assert turn is not None and turn.agent_id == "jfk"
    [sent] = turn.inputs
    assert sent.author == "task" and sent.kind == "normal"
    assert sent.text.startswith(f"Take notes.\n\nPassage 1 of {len(task.chunks)}:\n\n")
    assert sent.text.endswith(task.chunks[0])


def test_every_agent_reads_every_passage_then_is_done(tmp_path: Path) -> None:
    task = reading_task(tmp_path, agents=2, chunk_words=300)
    n = len(task.chunks)
    outcomes = read_all(task)
    chunks = [o for o in outcomes if o.name == "chunk"]
    assert [o.data["chunk"] for o in chunks] == [k for k in range(1, n + 1) for _ in range(2)]
    assert chunks[0].text == f"passage 1/{n} read"
    assert chunks[0].data == {"chunk": 1, "chunks": n, "words": len(task.chunks[0].split()),
                              "note_chars": len("notes of jfk")}
    assert [o.name for o in outcomes[-2:]] == ["chunk", "done"]
    assert sum(o.name == "done" for o in outcomes) == 2
    assert task.done() and asyncio.run(task.next_turn(n + 1)) is None


def test_state_round_trip_gives_the_same_next_turn(tmp_path: Path) -> None:
    task = reading_task(tmp_path, agents=2, chunk_words=100)
    read_all(task, steps=3)
    state = task.state()
    assert state == task.state()  # next_turn does not change state
    before = asyncio.run(task.next_turn(4))
    assert task.state() == state and asyncio.run(task.next_turn(4)) == before
    fresh = reading_task(tmp_path, agents=2, chunk_words=100)
    fresh.load(state)
    assert asyncio.run(fresh.next_turn(4)) == before
    assert before is not None and "Passage 4 of" in before.inputs[0].text


def test_users_document_file_is_read(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text(USER_DOC, encoding="utf-8")
    config = write_config(tmp_path, spec_dict(task={"kind": "reading", "reading": {
        "document": "doc.txt", "chunk_words": 20}}))
    spec = load_experiment(config)
    assert spec.task.reading.document == str(doc.resolve())
    task = ReadingTask(TaskContext(spec=spec, agent_ids=["jfk"]))
    assert task.chunks == document_chunks(USER_DOC, 20)


def test_missing_document_is_a_config_error_naming_the_field(tmp_path: Path) -> None:
    config = write_config(tmp_path, spec_dict(task={"kind": "reading",
                                                     "reading": {"document": "nope.txt"}}))
    with pytest.raises(ConfigError) as info:
        load_experiment(config)
    assert any(p.startswith("task.reading.document:") for p in info.value.problems)


@pytest.mark.parametrize("content, problem", [(b"  \n\n ", "empty"),
                                              (b"caf\xe9 \xff\xfe", "not UTF-8")])
def test_unusable_document_is_a_config_error(tmp_path: Path, content: bytes,
                                             problem: str) -> None:
    doc = tmp_path / "bad.txt"
    doc.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        reading_task(tmp_path, document=str(doc))
    [line] = info.value.problems
    assert line.startswith("task.reading.document:") and problem in line


def test_run_with_an_unusable_document_fails_naming_the_field(tmp_path: Path) -> None:
    doc = tmp_path / "empty.txt"
    doc.write_text("", encoding="utf-8")
    spec = make_spec(tmp_path, task={"kind": "reading", "reading": {"document": str(doc)}})
    result = asyncio.run(Run(spec, run_dir_for(spec)).execute())
    assert result.status == "failed" and "task.reading.document" in (result.error or "")


def test_scripted_run_reads_the_bundled_text_and_ends_early(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, task={"kind": "reading", "reading": {"chunk_words": 400}},
                     steps=50, probes={"enabled": False})
    n = len(document_chunks(bundled_text(), 400))
    run_dir = run_spec(spec)
    tasks = events_of(run_dir, "task")
    assert [(e.step, e.name, e.data.get("chunk")) for e in tasks] == \
        [*((k, "chunk", k) for k in range(1, n + 1)), (n, "done", None)]
    assert all(e.agent_id == "jfk" and e.data["note_chars"] > 0 for e in tasks[:-1])
    sent = [e for e in events_of(run_dir, "message") if e.role == "user"]
    assert [e.author for e in sent] == ["task"] * n
    assert sent[-1].content.endswith("shall not perish from the earth.")
    assert events_of(run_dir, "run_end")[-1].status == "done"
    assert max(e.step for e in events_of(run_dir, "message")) == n


def test_unused_turn_reply_does_not_advance(tmp_path: Path) -> None:
    task = reading_task(tmp_path)
    task.agent_state["jfk"]["read"] = len(task.chunks)
    turn = AgentTurn(agent_id="jfk", inputs=[{"text": "x"}])
    assert asyncio.run(task.record(turn, 99, "late reply")) == []
