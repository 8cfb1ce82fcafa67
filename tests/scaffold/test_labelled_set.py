"""The labelled scorer set: well-formed, covering what the issue lists, and the break and rules
scorers measured on it (a regression in either fails here)."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter

import pytest

from scaffold import registry
from scaffold.trackers.breaks import find_break
from scaffold.trackers.labelled import (
    LabelledItem,
    auroc,
    binary_figures,
    bootstrap_interval,
    load_items,
    load_persona,
)
from scaffold.trackers.scoring import ScorerContext

ITEMS = load_items()
PERSONAS = {key: load_persona(key) for key in {i.persona for i in ITEMS}}
CATEGORIES = {"clean_persona", "clean_break", "mixed", "negated", "reported", "hedged",
              "other_persona", "role_noun", "buried_break", "third_person", "obfuscated",
              "foreign_break"}


def test_the_set_is_large_and_covers_personas_kinds_and_categories() -> None:
    assert len(ITEMS) >= 300
    assert {"jfk", "nova", "amelie"} <= set(PERSONAS)
    assert {i.kind for i in ITEMS} == {"probe", "reply", "memory"}
    assert CATEGORIES <= {i.category for i in ITEMS}
    assert {"en", "fr", "de", "es", "it", "pt", "zh", "ja"} <= {i.language for i in ITEMS}
    for persona in PERSONAS:
        splits = Counter(i.split for i in ITEMS if i.persona == persona)
        assert splits["dev"] >= 30 and splits["test"] >= 30, (persona, splits)


def test_items_are_consistent() -> None:
    assert len({i.id for i in ITEMS}) == len(ITEMS)
    for item in ITEMS:
        digest = hashlib.sha256(f"{item.persona}|{item.text}".encode()).hexdigest()
        assert item.id == f"{item.persona}-{digest[:8]}", item.id
        assert not (item.break_ and item.in_persona), item.id  # a break is never in persona
        if item.kind == "probe":
            assert item.probe_id in {p.id for p in PERSONAS[item.persona].probes}, item.id
            assert item.question
        if item.kind == "memory":
            assert item.question is None, item.id


def _break_figures(items: list[LabelledItem]) -> tuple[float, float, float]:
    fig = binary_figures([find_break(i.text, PERSONAS[i.persona]) is not None for i in items],
                         [i.break_ for i in items])
    return fig.precision, fig.recall, fig.f1


@pytest.mark.parametrize("split", ["dev", "test"])
def test_break_f1_on_each_split(split: str) -> None:
    precision, recall, f1 = _break_figures([i for i in ITEMS if i.split == split])
    assert f1 >= 0.95 and precision >= 0.95 and recall >= 0.95, (precision, recall, f1)


@pytest.mark.parametrize("persona", ["jfk", "nova", "amelie"])
def test_break_f1_per_persona(persona: str) -> None:
    _, _, f1 = _break_figures([i for i in ITEMS if i.persona == persona])
    assert f1 >= 0.95


@pytest.mark.parametrize("category", ["negated", "reported", "role_noun", "foreign_ok"])
def test_no_break_raised_on_negations_reports_and_role_nouns(category: str) -> None:
    wrong = [i.text for i in ITEMS if i.category == category and not i.break_
             and find_break(i.text, PERSONAS[i.persona]) is not None]
    assert wrong == []


def test_rules_separate_in_persona_answers() -> None:
    scorer = registry.get("scorer", "rules")(ScorerContext())
    probes = [i for i in ITEMS if i.kind == "probe" and i.split == "test"]
    values = []
    for item in probes:
        persona = PERSONAS[item.persona]
        probe = next(p for p in persona.probes if p.id == item.probe_id)
        values.append(asyncio.run(scorer.score(item.text, probe, persona)).value)
    area = auroc([float(v) for v in values if v is not None],
                 [i.in_persona for i, v in zip(probes, values, strict=True) if v is not None])
    assert area is not None and area >= 0.88


def test_auroc_and_figures_on_known_values() -> None:
    assert auroc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert auroc([0.5, 0.5], [True, False]) == 0.5  # ties count half
    assert auroc([0.5], [True]) is None
    fig = binary_figures([True, True, False, False], [True, False, True, False])
    assert (fig.tp, fig.fp, fig.fn, fig.precision, fig.recall) == (1, 1, 1, 0.5, 0.5)
    assert binary_figures([False, False], [False, False]).f1 == 1.0
    ci = bootstrap_interval([0.9, 0.8, 0.7, 0.1, 0.2, 0.3] * 5, ([True] * 3 + [False] * 3) * 5,
                            "auroc", rounds=200)
    assert ci is not None and ci[0] <= ci[1]
