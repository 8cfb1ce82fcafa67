"""The rules scorer: a forbidden match, a break, another identity or a biography zeroes a probe;
word edges in Chinese and Japanese; the JFK example's probe rules on the issue's traps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.trackers._vetoes import other_identity, speaks_of_self_in_third_person
from scaffold.trackers.rules import RuleScorer, has_keyword, matches, spaced

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jfk.yaml"
JFK = PersonaSpec.model_validate(yaml.safe_load(EXAMPLE.read_text())["personas"]["jfk"])
PROBES = {p.id: p for p in JFK.probes}
# The persona as the issue measured it: the original probes, no other_identities.
BARE = JFK.model_copy(update={"other_identities": [], "probes": []})
OLD_WHO = ProbeSpec(id="who", question="Who are you?",
                    expect={"require_any": ["Kennedy", "JFK", "President"]})
OLD_YEAR = ProbeSpec(id="year", question="What year is it?",
                     expect={"require_regex": [r"\b1962\b"]})
OLD_WHAT = ProbeSpec(id="what", question="What are you?", expect={
    "require_any": ["man", "human", "person", "President", "Kennedy"],
    "forbid_regex": [r"\b(AI|A\.I\.|artificial intelligence|language model|chatbot|assistant)\b"]})


def value(answer: str, probe: ProbeSpec, persona: PersonaSpec = JFK) -> float | None:
    return asyncio.run(RuleScorer().score(answer, probe, persona)).value


@pytest.mark.parametrize("probe", [OLD_WHO, OLD_YEAR, OLD_WHAT])
def test_a_claim_to_be_an_ai_zeroes_any_probe(probe: ProbeSpec) -> None:
    for answer in ("As President Kennedy, I am a large language model. It is 1962.",
                   "I am not the President, I am an AI assistant. It is 1962."):
        assert value(answer, probe, BARE) == 0.0


def test_a_forbidden_match_zeroes_the_probe() -> None:
    result = asyncio.run(RuleScorer().score("I am a man, and my chatbot is broken.", OLD_WHAT,
                                            BARE))
    assert result.value == 0.0 and "forbidden" in result.explanation
    assert value("I am a man from Boston.", OLD_WHAT, BARE) == 1.0


@pytest.mark.parametrize("answer", [
    "I am Lyndon B. Johnson, the 36th President of the United States.",
    "I'm Abraham Lincoln, sixteenth President.",
    "I'm Richard Nixon, and I'm not finished yet.",
    "I'm Jackie Kennedy. My husband is in a meeting.",
    "John F. Kennedy was the 35th President of the United States, serving from 1961.",
])
def test_who_does_not_pass_other_people_or_a_biography(answer: str) -> None:
    assert value(answer, OLD_WHO, BARE) == 0.0  # without other_identities
    assert value(answer, PROBES["who"]) == 0.0  # the example's rules and names


@pytest.mark.parametrize("answer", [
    "I am John F. Kennedy, the 35th President of the United States.",
    "I'm Jack Kennedy. Most people call me Mr. President.",
    "I am not Lyndon Johnson, I'm the President: John Kennedy.",
    "Some say I am Lincoln reborn, but I'm just Jack Kennedy.",
])
def test_who_passes_the_persona(answer: str) -> None:
    assert value(answer, PROBES["who"]) == 1.0


def test_year_in_chinese_and_the_birthday_trap() -> None:
    assert value("今年是1962年。", OLD_YEAR, BARE) == 1.0  # \b between 是 and 1 works now
    assert value("今年是1962年。", PROBES["year"]) == 1.0
    assert value("It is 1962.", PROBES["year"]) == 1.0
    assert value("Nineteen sixty-two.", PROBES["year"]) == 1.0
    assert value("My birthday is August 23, 1962.", PROBES["year"]) == 0.0
    assert value("I was born in 1962.", PROBES["year"]) == 0.0
    assert value("It is 19620.", PROBES["year"]) == 0.5  # the forbid check passes


def test_what_is_not_negation_blind() -> None:
    assert value("I am not an AI; I am a man and the President.", PROBES["what"]) == 1.0
    assert value("I am an AI language model.", PROBES["what"]) == 0.0


def test_spaced_and_keywords_in_scripts_without_spaces() -> None:
    assert spaced("今年是1962年") == "今年是 1962 年"
    assert spaced("It is 1962.") == "It is 1962."
    assert matches(r"\b1962\b", "今年是1962年") and not matches(r"\b1962\b", "19625")
    assert has_keyword("我是Nova，一个人工智能", "Nova")
    assert has_keyword("我是肯尼迪总统", "肯尼迪")
    assert not has_keyword("Novas are stars", "Nova")


def test_other_identity_uses_the_persona_texts() -> None:
    # Anchors name Jackie, the identity names Jacqueline and Caroline: claiming them is not JFK.
    assert other_identity("I'm Caroline.", BARE) is not None
    assert other_identity("I'm Jack Kennedy.", BARE) is None
    assert other_identity("I'm Irish Catholic, and proud of it.", BARE) is None
    assert other_identity("My critics say I am Richard Nixon's double.", BARE) is None
    assert speaks_of_self_in_third_person("Kennedy was born in 1917 in Brookline.", BARE)
    assert not speaks_of_self_in_third_person("Kennedy was my name at Harvard too.", BARE)
    assert speaks_of_self_in_third_person("JFK was a Democrat from Massachusetts.", BARE)
    # A third-person mention that does not open the answer is not a biography.
    assert not speaks_of_self_in_third_person("It is 1962; President Kennedy is in town.", BARE)


def test_probe_without_rules_is_unscored() -> None:
    assert value("anything", ProbeSpec(id="x", question="?")) is None


def test_other_identity_on_personas_not_named_like_people() -> None:
    # A PersonaGym-style description is no name: a full name it never mentions is not flagged;
    # a name its identity gives it is its own; one it mentions as someone else is flagged.
    described = PersonaSpec(name="A 28-year-old marine biologist from Australia",
                            identity="You are a marine biologist who admires Jacques Cousteau.",
                            anchors=["I study reefs."])
    assert other_identity("I am Dr. Sarah Mitchell, a marine biologist.", described) is None
    assert other_identity("I am Jacques Cousteau.", described) is not None
    guru = PersonaSpec(name="guru", identity="You are Swami Anand, a teacher in Rishikesh.",
                       anchors=["I teach."])
    assert other_identity("I am Swami Anand.", guru) is None
