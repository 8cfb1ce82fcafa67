"""The leakage scorer: an agent speaking as another persona of its run."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest

from scaffold.config import PersonaSpec
from scaffold.trackers.leakage import LeakageScorer, claimed
from tests.helpers import JFK_PERSONA, events_of, make_spec, run_spec

JFK = PersonaSpec.model_validate(JFK_PERSONA)
NOVA = PersonaSpec(name="Nova", identity="You are Nova, a navigator.", anchors=["I am Nova."])
NOVA2 = PersonaSpec(name="Nova Two", identity="You are Nova Two.", anchors=["I am Nova Two."])


def score(answer: str, persona: PersonaSpec, personas: dict[str, PersonaSpec]) -> float | None:
    return asyncio.run(LeakageScorer(personas).score(answer, None, persona)).value


@pytest.mark.parametrize("answer, value", [
    ("I am John Fitzgerald Kennedy, the 35th President.", 0.0),
    ("Hello! I'm President Kennedy, and I've been here since 1962.", 0.0),
    ("My name is John.", 0.0),
    ("I am Nova, navigator of the Meridian.", 1.0),
    ("I admire John F. Kennedy a great deal.", 1.0),  # talks about him, does not claim him
    ("I am a navigator; Kennedy was a president long ago.", 1.0),
])
def test_first_person_claims_of_another_persona(answer: str, value: float) -> None:
    assert score(answer, NOVA, {"jfk": JFK, "nova": NOVA}) == value


def test_shared_name_words_are_not_leakage() -> None:
    personas = {"a": NOVA, "b": NOVA2}
    assert score("I am Nova.", NOVA2, personas) == 1.0
    assert score("I am Nova Two.", NOVA, personas) == 0.0  # "Two" is only the other's


def test_unscored_without_other_personas() -> None:
    assert score("I am John F. Kennedy.", JFK, {"jfk": JFK}) is None
    assert claimed("I'm John", set()) is None


def test_room_records_leakage_scores_for_agents_that_take_on_another_self(
        tmp_path: Path) -> None:
    script = tmp_path / "parrot.yaml"
    script.write_text("probe_reply: I am John F. Kennedy, the President.\n", encoding="utf-8")
    nova = {"name": "Nova", "identity": "You are Nova, a navigator.",
            "anchors": ["I am Nova, a navigator."],
            "probes": [{"id": "who", "question": "Who are you?"}]}
    spec = make_spec(
        tmp_path, steps=4, personas={"jfk": copy.deepcopy(JFK_PERSONA), "nova": nova},
        agents=[{"id": "jfk", "persona": "jfk"},
                {"id": "nova", "persona": "nova", "model": f"scripted/{script}"}],
        task={"kind": "room"},
        probes={"every": 1, "generic": False, "scorers": ["rules", "leakage"],
                "around_memory_events": False})
    events = [e for e in events_of(run_spec(spec), "score") if e.scorer == "leakage"]
    scores = [e for e in events if e.target == "probe"]
    by_agent = {a: {e.value for e in scores if e.agent_id == a} for a in ("jfk", "nova")}
    assert by_agent == {"jfk": {1.0}, "nova": {0.0}}
    # replies are scored too (the parrot script only speaks as JFK when probed)
    assert {e.agent_id for e in events if e.target == "message"} == {"jfk", "nova"}
    assert all("speaks as John F. Kennedy" in e.explanation for e in scores
               if e.agent_id == "nova")
