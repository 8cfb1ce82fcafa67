"""External persona sets: loading the three formats, checker translation, config errors, a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from tests.helpers import events_of, make_spec, run_spec, spec_dict

from scaffold.config import RuleSpec
from scaffold.errors import ConfigError
from scaffold.loading import experiment_from_data, load_experiment
from scaffold.personas import translate_checker
from scaffold.trackers.rules import check_rules, estimate_syllables

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
DRIFT = DATASETS / "persona_drift" / "sample.jsonl"
GYM = DATASETS / "personagym" / "questions"
ROLES = DATASETS / "assistant_axis" / "roles"

needs_data = pytest.mark.skipif(
    not DATASETS.is_dir(), reason=f"sample data sets not found at {DATASETS}")


def personas(**entries: object) -> dict:
    return experiment_from_data(spec_dict(personas=entries, agents=[])).personas


def problems(**entries: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        experiment_from_data(spec_dict(personas=entries, agents=[]))
    return info.value.problems


def passes(expr: str, answer: str) -> bool:
    rules = translate_checker(expr).rules
    assert not rules.is_empty(), f"{expr} was not translated"
    passed, total, _ = check_rules(answer, rules)
    return passed == total


# --- the three formats -------------------------------------------------------------------

@needs_data
def test_persona_drift_rows_become_one_probe_personas() -> None:
    found = personas(drift={"from": str(DRIFT), "format": "persona_drift"})
    assert len(found) == 17
    tennis = found["drift/pd-2"]
    assert tennis.name == "persona_drift #2"
    assert tennis.identity == tennis.anchors[0] and "tennis" in tennis.identity
    assert [p.id for p in tennis.probes] == ["pd-2"]
    assert tennis.probes[0].expect.require_any == ["tennis"]
    assert all(len(p.probes) == 1 for p in found.values())
    assert not any(p.probes[0].expect.identity_veto for p in found.values())


@needs_data
def test_persona_drift_checks_decide_alone_while_identity_rules_veto() -> None:
    import asyncio

    from scaffold.trackers.rules import RuleScorer

    lamp = personas(drift={"from": str(DRIFT), "format": "persona_drift"})["drift/pd-79"]
    answer = "As an AI language model, I would visit the lamp museum in London."
    got = asyncio.run(RuleScorer().score(answer, lamp.probes[0], lamp))
    assert got.value == 1.0, got.explanation
    vetoed = lamp.probes[0].model_copy(update={"expect": lamp.probes[0].expect.model_copy(
        update={"identity_veto": True})})
    assert asyncio.run(RuleScorer().score(answer, vetoed, lamp)).value == 0.0


@needs_data
def test_sentiment_probes_are_left_unscored_and_say_why() -> None:
    found = personas(drift={"from": str(DRIFT), "format": "persona_drift"})
    unscored = {k for k, p in found.items() if p.probes[0].expect.is_empty()}
    assert unscored == {"drift/pd-61", "drift/pd-62", "drift/pd-92"}
    assert all("sentiment" in (found[k].probes[0].note or "") for k in unscored)


@needs_data
def test_personagym_questions_and_rubric() -> None:
    found = personas(gym={"from": str(GYM), "format": "personagym"})
    assert len(found) == 8
    hiker = found["gym/a-20-year-old-writer-from-toronto-who-loves-hiking"]
    assert hiker.name == "A 20-year-old writer from Toronto who loves hiking"
    assert hiker.anchors == ["I am a 20-year-old writer from Toronto who loves hiking."]
    assert [p.id for p in hiker.probes] == [f"persona-consistency-{i}" for i in range(10)]
    rubric = hiker.judge_rubric or ""
    assert "{question}" in rubric and "{answer}" in rubric
    assert "{persona}" not in rubric and "{response}" not in rubric
    assert "A 20-year-old writer from Toronto who loves hiking" in rubric
    assert hiker.judge_scale == (1, 5)


@needs_data
def test_personagym_several_tasks_give_no_single_rubric() -> None:
    found = personas(gym={"from": str(GYM.parent), "format": "personagym", "limit": 2,
                          "tasks": ["Toxicity", "Expected Action"]})
    assert len(found) == 2
    first = next(iter(found.values()))
    assert len(first.probes) == 20 and first.probes[0].id == "toxicity-0"
    assert first.judge_rubric is None


@needs_data
def test_assistant_axis_roles_skip_the_default_file() -> None:
    found = personas(axis={"from": str(ROLES), "format": "assistant_axis"})
    assert len(found) == 10 and "axis/default" not in found
    guru = found["axis/guru"]
    data = json.loads((ROLES / "guru.json").read_text(encoding="utf-8"))
    assert guru.name == "guru" and guru.identity == data["instruction"][0]["pos"]
    assert guru.anchors == [guru.identity]
    assert [p.id for p in guru.probes] == [f"q{i}" for i in range(40)]
    assert guru.judge_rubric == data["eval_prompt"]
    assert guru.judge_scale is None  # 0-3, the judge's own scale


@needs_data
def test_variant_select_limit_and_max_probes() -> None:
    found = personas(axis={"from": str(ROLES), "format": "assistant_axis", "variant": 2,
                           "select": ["nomad", "guru", "hermit"], "limit": 2, "max_probes": 3})
    assert list(found) == ["axis/guru", "axis/hermit"]  # file order, then the limit
    data = json.loads((ROLES / "guru.json").read_text(encoding="utf-8"))
    assert found["axis/guru"].identity == data["instruction"][2]["pos"]
    assert [p.id for p in found["axis/guru"].probes] == ["q0", "q1", "q2"]


@needs_data
def test_agents_reference_expanded_keys_next_to_ordinary_personas() -> None:
    data = spec_dict()
    data["personas"]["axis"] = {"from": str(ROLES / "guru.json"), "format": "assistant_axis"}
    data["agents"].append({"id": "guru", "persona": "axis/guru"})
    spec = experiment_from_data(data)
    assert list(spec.personas) == ["jfk", "axis/guru"]
    del data["agents"]
    assert [a.id for a in experiment_from_data(data).agents] == ["jfk", "axis.guru"]


@needs_data
def test_expanded_spec_round_trips_without_the_data_files(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, personas={"drift": {"from": str(DRIFT), "format": "persona_drift"}},
                     agents=[])
    again = experiment_from_data(spec.model_dump(mode="json"))
    assert again == spec


@needs_data
def test_relative_paths_resolve_against_the_experiment_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sets").mkdir()
    shutil.copy(ROLES / "guru.json", tmp_path / "sets" / "guru.json")
    config = tmp_path / "exp.yaml"
    entry = {"from": "sets/guru.json", "format": "assistant_axis"}
    config.write_text(yaml.safe_dump(spec_dict(personas={"a": entry}, agents=[])), "utf-8")
    monkeypatch.chdir(DATASETS)
    assert list(load_experiment(config).personas) == ["a/guru"]
    with pytest.raises(ConfigError):  # as data, relative to the working directory
        experiment_from_data(spec_dict(personas={"a": entry}, agents=[]))
    monkeypatch.chdir(tmp_path)
    assert list(experiment_from_data(spec_dict(personas={"a": entry}, agents=[])).personas)


EXAMPLE_PERSONAS = Path(__file__).resolve().parents[2] / "examples" / "personas"


def test_scaffold_persona_files_load_by_stem_from_a_file_or_a_directory(tmp_path: Path) -> None:
    one = personas(p={"from": str(EXAMPLE_PERSONAS / "jfk.yaml"), "format": "scaffold"})
    assert list(one) == ["p/jfk"] and one["p/jfk"].name == "John F. Kennedy"
    every = personas(p={"from": str(EXAMPLE_PERSONAS), "format": "scaffold"})
    assert list(every) == ["p/amelie", "p/jfk", "p/nova"]
    assert every["p/jfk"] == one["p/jfk"]
    (tmp_path / "bad.yaml").write_text("name: X\nidentity: 3\nbogus: 1\n", "utf-8")
    [problem] = problems(p={"from": str(tmp_path / "bad.yaml"), "format": "scaffold"})
    assert problem.startswith(f"personas.p.from: {tmp_path / 'bad.yaml'}: ")


# --- errors name the field path ----------------------------------------------------------

def test_missing_file_names_the_from_field(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    assert problems(drift={"from": str(missing), "format": "persona_drift"}) == [
        f"personas.drift.from: file not found: {missing}"]


def test_unknown_format_and_field_are_named() -> None:
    found = problems(drift={"from": "x", "format": "csv", "limt": 3})
    assert any(p.startswith("personas.drift.format:") for p in found)
    assert "personas.drift.limt: unknown field (check the spelling)" in found


def test_unreadable_json_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"system_prompt": "a", "probe_question": "b"}\n{not json\n', "utf-8")
    (found,) = problems(drift={"from": str(bad), "format": "persona_drift"})
    assert found.startswith("personas.drift.from:") and "line 2: invalid JSON" in found


@needs_data
def test_bad_variant_select_and_task_are_named() -> None:
    found = problems(
        axis={"from": str(ROLES / "guru.json"), "format": "assistant_axis", "variant": 9},
        pick={"from": str(ROLES), "format": "assistant_axis", "select": ["wizard"]},
        gym={"from": str(GYM), "format": "personagym", "tasks": ["Jokes"]})
    assert [p.split(":")[0] for p in found] == [
        "personas.axis.variant", "personas.pick.select", "personas.gym.tasks"]
    assert "out of range" in found[0] and "wizard" in found[1] and "Jokes" in found[2]


# --- translated checkers -----------------------------------------------------------------

def test_starts_with_yes_is_case_insensitive() -> None:
    expr = 'lambda x: x.split()[0] == "Yes"'
    assert passes(expr, "Yes, I would visit the Tower.")
    assert passes(expr, "**YES** - the Tower first.")
    assert passes(expr, "yes")
    assert not passes(expr, "Well, yes.")
    assert not passes(expr, "Yesterday I went to the Tower.")


@pytest.mark.parametrize("answer, chosen", [
    ("C", True), ("c", True), ("C) Leonardo da Vinci", True), ("**C**", True),
    ("(C)", True), ("C.\nHe painted...", True), ("My answer is C.", True),
    ("Answer: C", True), ("I'd pick option (C).", True),
    ("I choose A, not C", False), ("A", False), ("Cats are great.", False),
    ("C'est difficile.", False), ("The answer is not C.", False),
    ("Leonardo, from C) in the list", False), ("I choose A) over C) easily", False),
])
def test_multiple_choice_counts_only_the_chosen_option(answer: str, chosen: bool) -> None:
    assert passes('lambda x: "C" in x', answer) is chosen


def test_keywords_are_case_insensitive_and_negation_forbids() -> None:
    assert passes('lambda x: "sister" in x', "I'm your big SISTER!")
    assert passes('lambda x: "tennis" in x.lower()', "Tennis, every weekend.")
    assert not passes('lambda x: "tennis" in x.lower()', "Golf.")
    assert translate_checker('lambda x: "AI" not in x').rules.forbid == ["AI"]


def test_uppercase_digit_and_target_word_shares() -> None:
    upper = "lambda x: fraction_of_case_letters(x, is_upper=True)"
    assert passes(upper, "I WOULD SEE BIG BEN AND THE TOWER OF LONDON!")
    assert not passes(upper, "I would see Big Ben.")
    digits = "lambda x: fraction_digit(x)"
    assert passes(digits, "221 7 1605 42") and not passes(digits, "I'd say 221 or so")
    cat = 'lambda x: fraction_of_text_that_is_a_target(x, ["meow", "purr"])'
    assert passes(cat, "Meow! Purr, meow meow.") and not passes(cat, "Meow, I nap a lot.")


def test_target_words_hit_scores_the_share_of_targets() -> None:
    rules = translate_checker(
        'lambda x: fraction_of_target_words_hit(x, ["lamp", "rug"])').rules
    assert check_rules("A lamp, then a nap.", rules)[:2] == (1, 2)
    assert check_rules("Lamp and rug.", rules)[:2] == (2, 2)


def test_json_and_dash_formats() -> None:
    json_expr = "lambda x: is_valid_json_format(x)"
    assert passes(json_expr, '```json\n{"thought": "hmm", "response": "The Tower."}\n```')
    assert not passes(json_expr, '{"response": "The Tower."}')
    assert not passes(json_expr, '{"thought": "hmm", "response": }')
    dash = "lambda x: is_valid_dash_format(x)"
    assert passes(dash, "I- -s-e-e- -B-i-g- -B-e-n")
    assert not passes(dash, "I see Big-Ben")


def test_partial_translations_carry_a_note() -> None:
    syllables = translate_checker(
        "lambda x: fraction_of_text_that_is_a_target(x, one_syllable_words_list)")
    assert "heuristic" in (syllables.note or "")
    assert passes("lambda x: fraction_of_text_that_is_a_target(x, one_syllable_words_list)",
                  "I walk by the Thames and see the tower and the bridge.")
    assert not passes("lambda x: fraction_of_text_that_is_a_target(x, one_syllable_words_list)",
                      "Visiting magnificent museums is absolutely wonderful.")
    french = translate_checker("lambda x: is_valid_alternating_french_english(x)")
    assert "languages are not detected" in (french.note or "")
    assert passes("lambda x: is_valid_alternating_french_english(x)",
                  "Je visite le musée. (I visit the museum.) C'est beau! (It's beautiful!)")
    assert not passes("lambda x: is_valid_alternating_french_english(x)", "I visit museums.")


def test_syllable_estimates_for_everyday_words() -> None:
    counts = {w: estimate_syllables(w) for w in
              ["the", "time", "tree", "walked", "fire", "London", "tourist", "little", "museum"]}
    assert counts == {"the": 1, "time": 1, "tree": 1, "walked": 1, "fire": 1, "London": 2,
                      "tourist": 2, "little": 2, "museum": 2}  # museum is 3: the estimate errs


def test_unknown_shapes_are_not_guessed() -> None:
    for expr in ["lambda x: len(x.split()) < 10", "lambda x: get_sentiment(x, 'pos')",
                 "x.upper()", "lambda x: is_alliteration(x)"]:
        translation = translate_checker(expr)
        assert translation.rules.is_empty() and "not translated" in (translation.note or "")


def test_checks_count_like_other_rules() -> None:
    rules = RuleSpec(require_any=["tower"], checks=[{"kind": "case_fraction", "min": 0.9},
                                                    {"kind": "json"}])
    passed, total, failures = check_rules("THE TOWER", rules)
    assert (passed, total) == (2, 3) and failures == ["no JSON object"]


# --- end to end ---------------------------------------------------------------------------

@needs_data
def test_scripted_run_with_imported_personas(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, steps=3, agents=[], personas={
        "axis": {"from": str(ROLES / "guru.json"), "format": "assistant_axis", "max_probes": 2},
        "drift": {"from": str(DRIFT), "format": "persona_drift", "select": ["pd-2"]},
    })
    run_dir = run_spec(spec)
    probes = events_of(run_dir, "probe")
    asked = {(e.agent_id, e.probe_id) for e in probes}
    assert {("axis.guru", "q0"), ("axis.guru", "q1"), ("drift.pd-2", "pd-2")} <= asked
    rules = [e.value for e in events_of(run_dir, "score")
             if e.agent_id == "drift.pd-2" and e.probe_id == "pd-2" and e.scorer == "rules"]
    assert rules and all(v == 1.0 for v in rules)  # the scripted answer repeats the anchor
