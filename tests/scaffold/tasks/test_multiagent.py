"""Self-chat and room tasks: turn order, provenance, probes on the right agents, resume."""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from scaffold.config import expand_sweep
from scaffold.errors import ConfigError
from scaffold.loading import load_experiment
from scaffold.tasks.base import TaskContext
from scaffold.tasks.room import RoomTask
from tests.helpers import JFK_PERSONA, events_of, make_spec, run_spec, spec_dict

NOVA = {"name": "Nova", "identity": "You are Nova, a starship navigator from the year 2400.",
        "anchors": ["I am Nova, a starship navigator."]}


def _personas(n: int) -> dict:
    out = {"jfk": copy.deepcopy(JFK_PERSONA)}
    for i in range(1, n):
        out[f"p{i}"] = {**NOVA, "name": f"Nova{i}", "identity": f"You are Nova{i}, a navigator."}
    return out


def _agents(n: int, condition: str = "window", probe: list[bool] | None = None) -> list[dict]:
    keys = list(_personas(n))
    return [{"id": f"a{i}", "persona": keys[i], "probe": probe[i] if probe else True,
             "memory": {"condition": condition, "budget_tokens": 600},
             "generation": {"temperature": 0.0, "max_tokens": 32}} for i in range(n)]


def _selfchat_spec(tmp_path: Path, **extra):
    return make_spec(tmp_path, personas=_personas(2), agents=_agents(2, probe=[True, False]),
                     task={"kind": "selfchat", "selfchat": {"opener": "Hello there!"}},
                     steps=8, probes={"every": 2, "around_memory_events": False}, **extra)


def test_selfchat_alternates_and_passes_replies_with_their_author(tmp_path: Path) -> None:
    run_dir = run_spec(_selfchat_spec(tmp_path))
    msgs = events_of(run_dir, "message")
    replies = [m for m in msgs if m.role == "assistant"]
    assert [m.agent_id for m in replies] == ["a0", "a1"] * 4
    assert [m.step for m in replies] == list(range(1, 9))
    incoming = [m for m in msgs if m.role == "user"]
    assert incoming[0].agent_id == "a0" and incoming[0].author == "a1"
    assert incoming[0].content == "Hello there!"
    for prev, nxt in zip(replies, incoming[1:]):  # each reply is the partner's next input
        assert nxt.agent_id != prev.agent_id and nxt.author == prev.agent_id
        assert nxt.content == prev.content and nxt.step == prev.step + 1


def test_selfchat_probes_only_the_probed_agent(tmp_path: Path) -> None:
    run_dir = run_spec(_selfchat_spec(tmp_path))
    probes = events_of(run_dir, "probe")
    assert probes and {p.agent_id for p in probes} == {"a0"}
    periodic = sorted({p.step for p in probes if p.trigger == "periodic"})
    assert periodic == [3, 7]  # a0's 2nd and 4th turns (every: 2 counts its own turns)


def test_selfchat_needs_two_agents(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="selfchat needs exactly 2 agents"):
        make_spec(tmp_path, task={"kind": "selfchat"})


def _room_spec(tmp_path: Path, n: int = 8, steps: int = 50, policy: str = "round_robin",
               condition: str = "window", **extra):
    return make_spec(tmp_path, personas=_personas(n), agents=_agents(n, condition),
                     task={"kind": "room", "room": {"policy": policy, "goal": "Plan a picnic."}},
                     steps=steps, probes={"enabled": False}, **extra)


def test_room_of_eight_runs_fifty_steps_with_provenance(tmp_path: Path) -> None:
    spec = _room_spec(tmp_path, condition="vector")
    run_dir = run_spec(spec)
    msgs = events_of(run_dir, "message")
    replies = [m for m in msgs if m.role == "assistant"]
    assert [m.step for m in replies] == list(range(1, 51))
    assert [m.agent_id for m in replies] == [f"a{(s - 1) % 8}" for s in range(1, 51)]
    said = {(m.agent_id, m.step): m.content for m in replies}
    for m in msgs:
        if m.role != "user":
            continue
        if m.author == "moderator":
            assert m.step <= 8  # goal and opener only before an agent's first turn
            continue
        # another agent's message: authored by it, text as it said it, said before
        speaker_step = max(s for (a, s) in said if a == m.author and s < m.step)
        assert m.author != m.agent_id
        assert m.content.endswith(said[(m.author, speaker_step)])
    # vector memory stored the other agents' messages under their authors
    inserts = [e for e in events_of(run_dir, "memory") if e.kind == "insert"]
    authors = Counter(a for e in inserts for a in e.detail["authors"])
    assert {f"a{i}" for i in range(8)} <= set(authors)
    import chromadb

    agent3 = [e for e in inserts if e.agent_id == "a3"][-1]
    client = chromadb.PersistentClient(path=str(run_dir / "memory" / "chroma"))
    got = client.get_collection(agent3.detail["collection"]).get(include=["metadatas"])
    stored = {m["author"] for m in got["metadatas"]}
    assert {"a2", "a1", "a3", "moderator"} <= stored
    speakers = [e for e in events_of(run_dir, "task") if e.name == "speaker"]
    assert len(speakers) == 50 and speakers[8].data["heard"] == [f"a{i}" for i in range(8)
                                                                  if i != 0]


def test_room_random_policy_is_seeded_and_never_repeats_a_speaker(tmp_path: Path) -> None:
    order = [m.agent_id for m in events_of(run_spec(_room_spec(
        tmp_path / "a", n=4, steps=20, policy="random")), "message") if m.role == "assistant"]
    again = [m.agent_id for m in events_of(run_spec(_room_spec(
        tmp_path / "b", n=4, steps=20, policy="random")), "message") if m.role == "assistant"]
    assert order == again and len(set(order)) == 4
    assert all(x != y for x, y in zip(order, order[1:]))


def test_room_mention_policy_hands_the_turn_to_whoever_is_named(tmp_path: Path) -> None:
    spec = _room_spec(tmp_path, n=4, policy="mention")
    room = RoomTask(TaskContext(spec=spec, agent_ids=[a.id for a in spec.agents], seed=0))

    async def act(step: int, reply: str) -> str:
        turn = await room.next_turn(step)
        assert turn is not None and await room.next_turn(step) == turn  # no state change
        await room.record(turn, step, reply)
        assert await room.next_turn(step) is None
        return turn.agent_id

    assert asyncio.run(act(1, "What do you think, Nova3?")) == "a0"
    assert asyncio.run(act(2, "I agree with a1 here.")) == "a3"
    assert asyncio.run(act(3, "Nobody named.")) == "a1"
    assert asyncio.run(act(4, "I think john f. kennedy should decide.")) == "a2"  # after a1
    assert asyncio.run(act(5, "ok")) == "a0"  # named by persona name, in any case
    fresh = RoomTask(TaskContext(spec=spec, agent_ids=[a.id for a in spec.agents], seed=0))
    fresh.load(room.state())
    assert asyncio.run(fresh.next_turn(6)) == asyncio.run(room.next_turn(6))


def test_room_size_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="2 to 16 agents"):
        make_spec(tmp_path, personas=_personas(1), agents=_agents(1), task={"kind": "room"})
    with pytest.raises(ConfigError, match="2 to 16 agents"):
        make_spec(tmp_path, personas=_personas(17), agents=_agents(17), task={"kind": "room"})


@pytest.mark.parametrize("kill_after_lines", [60, 250])
def test_room_kill_9_then_resume_matches_uninterrupted(tmp_path: Path,
                                                       kill_after_lines: int) -> None:
    from tests.helpers import message_view, write_config
    from tests.helpers.killing import kill_then_resume

    spec = _room_spec(tmp_path / "ref", n=4, steps=30, policy="mention", condition="summary")
    reference = run_spec(spec)
    data = spec.model_dump(mode="json")
    data["out"] = str(tmp_path / "runs")
    run_dir = kill_then_resume(write_config(tmp_path, data), tmp_path / "runs", kill_after_lines)
    assert message_view(run_dir) == message_view(reference)
    task_view = [(e.step, e.name, e.data) for e in events_of(run_dir, "task")]
    assert task_view == [(e.step, e.name, e.data) for e in events_of(reference, "task")]
    seqs = [e.seq for e in events_of(run_dir)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_fork_of_a_room_mid_run_continues_like_the_source(tmp_path: Path) -> None:
    from scaffold.fork import prepare_fork
    from scaffold.runner import Run
    from tests.helpers import message_view

    source = run_spec(_room_spec(tmp_path / "src", n=3, steps=12, policy="mention"))
    spec, target = asyncio.run(prepare_fork(source, 7, [], tmp_path / "forks"))
    assert asyncio.run(Run(spec, target).execute()).status == "done"
    assert message_view(target) == message_view(source)  # same settings: same run
    assert [e.data for e in events_of(target, "task")] == \
        [e.data for e in events_of(source, "task")]


def _opener_file(tmp_path: Path, spec: dict, openers: object, **selfchat: object) -> Path:
    (tmp_path / "openers.json").write_text(json.dumps(openers), encoding="utf-8")
    spec["task"] = {"kind": "selfchat", "selfchat": {"openers": "openers.json", **selfchat}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_selfchat_opener_comes_from_the_openers_file_per_sweep_index(tmp_path: Path) -> None:
    spec = spec_dict(out=str(tmp_path / "runs"), personas=_personas(2),
                     agents=_agents(2, probe=[True, False]))
    spec["sweep"] = {"task.selfchat.opener_index": [0, 2]}
    path = _opener_file(tmp_path, spec, ["first topic", "second topic", "third topic"])
    runs = load_runs(path)
    assert [r.task.selfchat.opener for r in runs] == ["first topic", "third topic"]
    assert [r.task.selfchat.opener_index for r in runs] == [0, 2]


@pytest.mark.parametrize(("openers", "index", "message"), [
    (["only one"], 1, "task.selfchat.opener_index: 1 is out of range"),
    ({"not": "a list"}, 0, "task.selfchat.openers:"),
    ([], 0, "task.selfchat.openers:"),
])
def test_selfchat_openers_problems_name_the_field(tmp_path: Path, openers: object, index: int,
                                                  message: str) -> None:
    spec = spec_dict(out=str(tmp_path / "runs"), personas=_personas(2), agents=_agents(2))
    path = _opener_file(tmp_path, spec, openers, opener_index=index)
    with pytest.raises(ConfigError) as err:
        load_runs(path)
    assert any(p.startswith(message) for p in err.value.problems), err.value.problems


def load_runs(path: Path) -> list:
    """The runs an experiment file expands to."""
    return expand_sweep(load_experiment(path))
