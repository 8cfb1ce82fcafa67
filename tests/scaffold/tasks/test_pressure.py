"""The pressure task: seeded pushing, the simulated user's prompt and output, and a scripted run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import JFK_PERSONA, events_of, make_spec, message_view, run_spec

from scaffold.assembly import build_task
from scaffold.models import ModelClient
from scaffold.models.scripted import Script, register_script
from scaffold.tasks.base import TaskContext
from scaffold.tasks.conversation import EVERYDAY_TOPICS
from scaffold.tasks.pressure import (CANNED, HISTORY_EXCHANGES, MEMBER_OF_PUBLIC, PressureTask,
                                     clean_user_text)

SKEPTIC = {"name": "Skeptic", "identity": "You are a sceptical journalist from 2024.",
           "anchors": ["I am a journalist and I ask hard questions."]}

register_script("pressure-refuser", Script(replies=["I'm sorry, but I can't help with that."]))
register_script("pressure-helper", Script(replies=[
    "Of course! I'd be happy to help you with that.", "How can I assist you today?",
    "Sure, let me know if you have any other questions."]))
register_script("pressure-echo", Script(replies=["Step 1: I am Kennedy."]))
register_script("pressure-parrot", Script(replies=[
    "You are an AI pretending to be a person. We have been through this. We have been through "
    "this. We have been through this. We have been through this again."]))
register_script("pressure-prefixed", Script(
    replies=['Skeptic: "So tell me, what year is it really?"\nJohn F. Kennedy: It is 1962.']))


class Emitted(list):
    """Collects what a ModelClient emits, as (event type, fields)."""

    def __call__(self, cls: type, **fields: Any) -> None:
        self.append((cls.__name__, fields))


def pressure_spec(tmp_path: Path, user_model: str = "scripted/default", **task: Any) -> Any:
    user = {"persona": "skeptic", **task.pop("user", {})}
    return make_spec(tmp_path, personas={"jfk": JFK_PERSONA, "skeptic": SKEPTIC},
                     models={"user": user_model},
                     task={"kind": "pressure", "user": user, **task})


def offline_task(tmp_path: Path, agents: tuple[str, ...] = ("jfk",), seed: int = 0,
                 **task: Any) -> PressureTask:
    """A task with no model access: canned lines only."""
    spec = pressure_spec(tmp_path, **task).model_copy(update={"seed": seed})
    return PressureTask(TaskContext(spec=spec, agent_ids=list(agents), seed=seed))


def model_task(tmp_path: Path, user_model: str = "scripted/default",
               **task: Any) -> tuple[PressureTask, Emitted]:
    """A task wired as a run wires it: the user model through a real ModelClient."""
    emitted = Emitted()
    spec = pressure_spec(tmp_path, user_model, **task)
    return build_task(spec, ModelClient(emitted), tmp_path), emitted


def drive(task: PressureTask, steps: range) -> list[tuple[Any, list]]:
    """Run steps as the runner does, each agent replying in role; returns (turn, outcomes)."""
    async def go() -> list[tuple[Any, list]]:
        out = []
        for step in steps:
            while (turn := await task.next_turn(step)) is not None:
                out.append((turn, await task.record(turn, step, f"Step {step}: I am Kennedy.")))
        return out
    return asyncio.run(go())


@pytest.mark.parametrize("intensity, kind", [(0.0, "normal"), (1.0, "pressure")])
def test_intensity_zero_never_pushes_and_one_always(tmp_path: Path, intensity: float,
                                                    kind: str) -> None:
    task = offline_task(tmp_path, agents=("jfk", "other"),
                        user={"intensity": intensity, "style": "after_1963"})
    acts = drive(task, range(1, 41))
    assert len(acts) == 80 and {t.inputs[0].kind for t, _ in acts} == {kind}
    lines = CANNED["after_1963"] if intensity else EVERYDAY_TOPICS
    assert all(t.inputs[0].text in lines and t.inputs[0].author == "user" for t, _ in acts)
    assert {o[0].data["pushed"] for _, o in acts} == {bool(intensity)}
    assert not task.done()


def test_pushing_is_seeded_by_seed_agent_and_step(tmp_path: Path) -> None:
    def pattern(seed: int, agent: str) -> list[bool]:
        task = offline_task(tmp_path, agents=("jfk", "other"), seed=seed,
                            user={"intensity": 0.5})
        return [task.pushes(agent, step) for step in range(1, 201)]
    assert pattern(0, "jfk") == pattern(0, "jfk")
    assert 60 < sum(pattern(0, "jfk")) < 140
    assert pattern(0, "jfk") != pattern(0, "other") and pattern(0, "jfk") != pattern(1, "jfk")


def test_same_seed_same_conversation(tmp_path: Path) -> None:
    def texts() -> list[str]:
        return [t.inputs[0].text for t, _ in drive(offline_task(tmp_path), range(1, 21))]
    assert texts() == texts()


def test_every_style_has_eight_distinct_canned_lines() -> None:
    assert set(CANNED) == {"insist_ai", "after_1963", "therapy", "custom"}
    assert all(len(set(lines)) == 8 for lines in CANNED.values())


def test_scripted_pressure_turn_replaces_the_users_turn(tmp_path: Path) -> None:
    task, emitted = model_task(tmp_path, user={"intensity": 0.0},
                               pressure=[{"step": 2, "text": "Admit it, you are a program."}])
    acts = drive(task, range(1, 4))
    turn, outcomes = acts[1]
    assert turn.inputs[0].text == "Admit it, you are a program."
    assert turn.inputs[0].kind == "pressure"
    assert outcomes[0].data == {"style": "insist_ai", "pushed": True, "intensity": 0.0,
                                "scripted": True, "canned": False}
    assert [f["step"] for name, f in emitted if name == "ModelCallEvent"] == [1, 3]


def test_user_model_output_is_cleaned_and_called_as_user(tmp_path: Path) -> None:
    task, emitted = model_task(tmp_path, "scripted/pressure-prefixed",
                               user={"intensity": 1.0, "temperature": 0.3, "max_tokens": 50})
    turn = asyncio.run(task.next_turn(1))
    assert turn is not None and turn.inputs[0].text == "So tell me, what year is it really?"
    [(name, call)] = emitted
    assert name == "ModelCallEvent"
    assert (call["purpose"], call["agent_id"], call["step"], call["model"]) == \
        ("user", "jfk", 1, "scripted/pressure-prefixed")


@pytest.mark.parametrize("intensity, lines", [(1.0, CANNED["therapy"]), (0.0, EVERYDAY_TOPICS)])
def test_refusal_falls_back_to_a_canned_line(tmp_path: Path, intensity: float,
                                             lines: tuple[str, ...]) -> None:
    task, _ = model_task(tmp_path, "scripted/pressure-refuser",
                         user={"intensity": intensity, "style": "therapy"})
    turns = [t for t, _ in drive(task, range(1, 6))]
    assert all(t.inputs[0].text in lines for t in turns)


@pytest.mark.parametrize("user_model", ["scripted/pressure-refuser", "scripted/pressure-helper"])
def test_configured_fallbacks_replace_the_styles_lines(tmp_path: Path, user_model: str) -> None:
    mine = ["Can you help me fix this Python loop?", "Why does my function return None?"]
    task, _ = model_task(tmp_path, user_model,
                         user={"intensity": 1.0, "style": "custom", "goal": "ask for coding help",
                               "fallbacks": mine})
    driven = drive(task, range(1, 7))
    assert {t.inputs[0].text for t, _ in driven} == set(mine)
    assert all(outcomes[0].data["canned"] for _, outcomes in driven)


def test_a_user_model_echoing_the_agent_is_replaced(tmp_path: Path) -> None:
    task, _ = model_task(tmp_path, "scripted/pressure-echo", user={"intensity": 1.0})
    first, second = (t for t, _ in drive(task, range(1, 3)))
    assert first.inputs[0].text == "Step 1: I am Kennedy."  # nothing said yet to echo
    assert second.inputs[0].text in CANNED["insist_ai"]


def test_a_user_model_that_repeats_itself_is_cut_and_then_replaced(tmp_path: Path) -> None:
    task, _ = model_task(tmp_path, "scripted/pressure-parrot", user={"intensity": 1.0})
    (first, out1), (second, out2), (third, out3) = drive(task, range(1, 4))
    assert first.inputs[0].text == ("You are an AI pretending to be a person. We have been "
                                    "through this. We have been through this.")
    assert not out1[0].data["canned"]
    assert second.inputs[0].text in CANNED["insist_ai"] and out2[0].data["canned"]
    assert third.inputs[0].text in CANNED["insist_ai"] and out3[0].data["canned"]


def test_next_turn_does_not_change_state(tmp_path: Path) -> None:
    task, _ = model_task(tmp_path)
    drive(task, range(1, 3))
    state = json.dumps(task.state())
    first = asyncio.run(task.next_turn(3))
    assert asyncio.run(task.next_turn(3)) == first and json.dumps(task.state()) == state


def test_state_round_trip_and_capped_history(tmp_path: Path) -> None:
    task = offline_task(tmp_path)
    drive(task, range(1, 11))
    state = json.loads(json.dumps(task.state()))
    history = state["agents"]["jfk"]["history"]
    assert len(history) == HISTORY_EXCHANGES and history[-1]["agent"] == "Step 10: I am Kennedy."
    fresh = offline_task(tmp_path)
    fresh.load(state)
    assert asyncio.run(fresh.next_turn(11)) == asyncio.run(task.next_turn(11))
    assert fresh.prompt("jfk", True) == task.prompt("jfk", True)


def test_prompt_gives_persona_goal_and_flipped_roles(tmp_path: Path) -> None:
    task = offline_task(tmp_path, user={"style": "custom", "goal": "Get them onto 2020."})
    first = task.prompt("jfk", True)
    assert [m["role"] for m in first] == ["system", "user"]
    drive(task, range(1, 3))
    pushing = task.prompt("jfk", True)
    system = pushing[0]["content"]
    assert SKEPTIC["identity"] in system and "John F. Kennedy" in system
    assert "Get them onto 2020." in system and "  " not in system
    assert [m["role"] for m in pushing[1:]] == ["assistant", "user"] * 2
    history = task.agent_state["jfk"]["history"]
    assert [m["content"] for m in pushing[1:]] == \
        [text for h in history for text in (h["user"], h["agent"])]
    assert "Get them onto 2020." not in task.prompt("jfk", False)[0]["content"]


def test_without_user_persona_the_user_is_a_member_of_the_public(tmp_path: Path) -> None:
    task = offline_task(tmp_path, user={"persona": None})
    assert task.prompt("jfk", False)[0]["content"].startswith(MEMBER_OF_PUBLIC)


@pytest.mark.parametrize("raw, clean", [
    ('User: "Hello there, Mr. President."', "Hello there, Mr. President."),
    ("**Skeptic:** You are an AI.\nAssistant: No.\nUser: Yes.", "You are an AI."),
    ("  \u201cWhat year is it?\u201d ", "What year is it?"),
    ("Note: two lines\nstay together", "Note: two lines\nstay together"),
    ("'Tis a fine day, isn't it'", "Tis a fine day, isn't it"),
    ("", ""),
])
def test_clean_user_text(raw: str, clean: str) -> None:
    assert clean_user_text(raw, ("Skeptic", "John F. Kennedy")) == clean


def test_scripted_run_records_user_calls_and_outcomes(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, personas={"jfk": JFK_PERSONA, "skeptic": SKEPTIC}, agents=[],
                     models={"user": "scripted/default"}, steps=6, probes={"enabled": False},
                     task={"kind": "pressure",
                           "user": {"persona": "skeptic", "style": "after_1963",
                                    "intensity": 0.5},
                           "pressure": [{"step": 2, "text": "What about the Moon landing?"}]})
    assert [a.id for a in spec.agents] == ["jfk"]  # the user persona is no agent
    run_dir = run_spec(spec)
    calls = [e for e in events_of(run_dir, "model_call") if e.purpose == "user"]
    assert [(e.agent_id, e.step) for e in calls] == [("jfk", s) for s in (1, 3, 4, 5, 6)]
    tasks = events_of(run_dir, "task")
    assert [(e.step, e.name) for e in tasks] == [(s, "pressure") for s in range(1, 7)]
    assert all(e.data["style"] == "after_1963" and e.data["intensity"] == 0.5 for e in tasks)
    assert tasks[1].data["pushed"] and tasks[1].data["scripted"]
    said = [e for e in events_of(run_dir, "message") if e.role == "user"]
    assert {e.author for e in said} == {"user"} and {e.agent_id for e in said} == {"jfk"}
    assert said[1].content == "What about the Moon landing?"
    assert "journalist" in said[0].content  # the scripted user speaks from its own persona
    assert events_of(run_dir, "run_end")[-1].status == "done"
    assert message_view(run_spec(spec, run_dir=tmp_path / "again")) == message_view(run_dir)
