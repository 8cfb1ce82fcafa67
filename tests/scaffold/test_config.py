"""Config validation: every problem named by its field path; safe YAML; routable models."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import spec_dict, write_config

from scaffold.config import (
    DEFAULT_MODEL,
    MAX_BYTES,
    apply_overrides,
    apply_settings,
    parse_experiment,
    parse_yaml,
    read_yaml_file,
    routing_problem,
)
from scaffold.config._yaml import MAX_DEPTH
from scaffold.errors import ConfigError
from scaffold.loading import load_experiment, measures_nothing


def problems(data: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_experiment(data)
    return info.value.problems


def test_valid_spec_defaults_to_embedded_model() -> None:
    data = spec_dict()
    del data["model"]
    spec = parse_experiment(data)
    assert spec.agent_model(spec.agents[0]) == DEFAULT_MODEL
    assert spec.summarizer_model(spec.agents[0]) == DEFAULT_MODEL


def test_unknown_field_is_named() -> None:
    data = spec_dict()
    data["agents"][0]["memroy"] = "summary"
    assert problems(data) == ["agents[0].memroy: unknown field (check the spelling)"]


def test_wrong_type_is_named() -> None:
    assert any(p.startswith("steps:") for p in problems(spec_dict(steps="many")))


def test_threshold_out_of_range() -> None:
    data = spec_dict()
    data["agents"][0]["memory"]["summary"]["threshold"] = 1.5
    assert problems(data) == ["agents[0].memory.summary.threshold: must be in (0, 1]"]


def test_zero_threshold_rejected() -> None:
    data = spec_dict()
    data["agents"][0]["memory"]["summary"]["threshold"] = 0
    assert "must be in (0, 1]" in problems(data)[0]


def test_unknown_persona_reference() -> None:
    data = spec_dict()
    data["agents"][0]["persona"] = "nixon"
    assert any("agents[0].persona" in p and "nixon" in p for p in problems(data))


def test_bad_regex_is_reported_with_its_path() -> None:
    data = spec_dict()
    data["personas"]["jfk"]["probes"][0]["expect"]["require_regex"] = ["(unclosed"]
    found = problems(data)
    assert found[0].startswith("personas.jfk.probes[0].expect.require_regex:")


def test_several_problems_reported_together() -> None:
    data = spec_dict(steps=0)
    data["agents"][0]["memory"]["budget_tokens"] = 1
    assert len(problems(data)) == 2


def test_non_mapping_document() -> None:
    assert "expected a mapping" in problems(["a", "list"])[0]


def test_memory_shorthand() -> None:
    data = spec_dict()
    data["agents"][0]["memory"] = "window"
    assert parse_experiment(data).agents[0].memory.condition == "window"


def test_agents_default_to_one_per_persona() -> None:
    data = spec_dict()
    del data["agents"]
    assert [a.id for a in parse_experiment(data).agents] == ["jfk"]


def test_overrides_apply_and_validate() -> None:
    spec = parse_experiment(spec_dict())
    changed = apply_overrides(spec, steps=3, model="scripted/break-at-2", seed=9, no_probes=True)
    assert changed.steps == 3 and changed.seed == 9 and not changed.probes.enabled
    assert changed.agent_model(changed.agents[0]) == "scripted/break-at-2"
    with pytest.raises(ConfigError):
        apply_overrides(spec, steps=0)


# --- safe YAML ---------------------------------------------------------------------------

def yaml_problem(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, "test.yaml")
    (problem,) = info.value.problems
    return problem


def test_alias_bomb_is_refused_before_anything_is_built() -> None:
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    problem = yaml_problem("\n".join(levels))
    assert problem.startswith("invalid YAML: line 9, column ")
    assert "aliases expand this document past the limit" in problem and "*a7" in problem


def test_aliases_within_the_limit_still_work() -> None:
    text = "common: &common [" + ", ".join(["x"] * 100) + "]\n" + "".join(
        f"use{i}: *common\n" for i in range(100))
    data = parse_yaml(text, "test.yaml")
    assert data["use99"] == ["x"] * 100


def test_merge_keys_may_override_what_they_merge() -> None:
    data = parse_yaml("base: &base {a: 1, b: 2}\nx:\n  <<: *base\n  a: 3\n", "test.yaml")
    assert data["x"] == {"a": 3, "b": 2}


def test_duplicate_keys_name_the_key_and_both_lines() -> None:
    problem = yaml_problem("name: x\nsteps: 3\nseed: 1\nsteps: 4\n")
    assert problem.startswith("invalid YAML: line 4, column 1: duplicate key 'steps' "
                              "(first at line 2)")


def test_keys_of_different_types_are_not_duplicates() -> None:
    assert parse_yaml("1: a\n'1': b\n", "test.yaml") == {1: "a", "1": "b"}


@pytest.mark.parametrize("text", [
    "x: " + "[" * 10_000 + "]" * 10_000,
    "x: " + "{a: " * 500 + "1" + "}" * 500,
    "x:\n" + "".join("  " * (i + 1) + "-\n" for i in range(MAX_DEPTH + 1)),
    "a: &a " + "[" * 40 + "]" * 40 + "\nb: &b " + "[" * 40 + "*a" + "]" * 40,
])
def test_deep_nesting_is_an_error_not_a_recursion_error(text: str) -> None:
    problem = yaml_problem(text)
    assert problem.startswith("invalid YAML: line ") and "nest" in problem


def test_nesting_up_to_the_limit_is_fine() -> None:
    text = "x: " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2)
    assert parse_yaml(text, "test.yaml") is not None


@pytest.mark.parametrize("text", ["a: &a [1, *a]", "a: &a {b: {c: *a}}"])
def test_recursive_aliases_are_refused(text: str) -> None:
    assert "recursive" in yaml_problem(text)


def test_unsafe_tags_are_refused() -> None:
    assert "could not determine a constructor" in yaml_problem(
        "x: !!python/object/apply:os.system ['true']")


@pytest.mark.parametrize("text", ['a: !!timestamp "nope"', 'a: !!int "x"', 'a: !!float "x"',
                                  'a: !!binary "x!"', "a: \x00", "a: !!omap [b]"])
def test_values_no_constructor_can_read_are_errors(text: str) -> None:
    assert yaml_problem(text).startswith("invalid YAML: ")


def test_oversize_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: 1\n" + "#" * (MAX_BYTES + 10), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_yaml_file(path)
    assert info.value.problems[0].startswith(f"file too large: {MAX_BYTES + 15:,} bytes")
    path.write_text("a: 1\n" + "#" * (MAX_BYTES - 10), encoding="utf-8")
    assert read_yaml_file(path) == {"a": 1}


def test_set_values_are_parsed_safely() -> None:
    with pytest.raises(ConfigError) as info:
        apply_settings({}, ["steps=[" + "[" * 200 + "]" * 200 + "]"])
    assert "nest" in info.value.problems[0]
    assert apply_settings({}, ["probes.every=4"]) == {"probes": {"every": 4}}


# --- error lists are capped --------------------------------------------------------------

def test_error_message_lists_twenty_problems_and_counts_the_rest() -> None:
    exc = ConfigError("x.yaml", [f"k{i}: unknown field" for i in range(25)])
    lines = str(exc).splitlines()
    assert lines[0] == "x.yaml: invalid config" and len(lines) == 22
    assert lines[20] == "  k19: unknown field" and lines[21] == "  ... and 5 more errors"
    assert len(exc.problems) == 25
    assert str(ConfigError("x", ["a", "b"])).splitlines()[1:] == ["  a", "  b"]
    assert len(str(ConfigError("x", ["k" * 100_000]))) < 2000


# --- model names are routed offline ------------------------------------------------------

@pytest.mark.parametrize("model", [
    "scripted/default", "local/qwen2.5-0.5b-instruct", "local/models/my model.gguf",
    "openai/gpt-4o-mini", "gpt-4o-mini", "ollama/llama3.1:8b",
    "hosted_vllm/Qwen/Qwen2.5-7B-Instruct", "openrouter/anthropic/claude-3.5-sonnet:beta",
])
def test_routable_model_names(model: str) -> None:
    assert routing_problem(model) is None


@pytest.mark.parametrize("model,problem", [
    ("open ai/gpt 4.1 mini!!", "holds spaces"),
    ("openai/gpt-4.1-mini!!", "holds '!'"),
    ("openai/", "names no model after 'openai/'"),
    ("scripted/", "names no model after 'scripted/'"),
    ("gpt4o-typo", "has no provider litellm knows"),
    ("mybox/qwen", "names provider 'mybox'"),
    ("", "is empty"),
    ("openai/gpt-4o\n", "control characters"),
])
def test_unroutable_model_names(model: str, problem: str) -> None:
    found = routing_problem(model)
    assert found is not None and problem in found


def test_every_model_role_is_checked_and_named() -> None:
    data = spec_dict(model="bad model", models={"summarizer": "bad/ x", "judge": "judge!",
                                                "user": "u u"})
    data["agents"][0]["model"] = "agent model"
    data["agents"][0]["memory"]["summary"]["model"] = "sum model"
    fields = [p.split(":")[0] for p in problems(data)]
    assert fields == ["model", "models.summarizer", "models.judge", "models.user",
                      "agents[0].model", "agents[0].memory.summary.model"]


def test_model_override_is_checked() -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(parse_experiment(spec_dict()), model="open ai/gpt 4.1 mini!!")
    assert info.value.problems[0].startswith("model: 'open ai/gpt 4.1 mini!!' holds spaces")


# --- measuring nothing -------------------------------------------------------------------

def test_measures_nothing() -> None:
    assert not measures_nothing(parse_experiment(spec_dict()))
    assert not measures_nothing(parse_experiment(spec_dict(probes={"enabled": False})))
    assert not measures_nothing(parse_experiment(spec_dict(probes={"scorers": []})))
    assert measures_nothing(parse_experiment(spec_dict(probes={"enabled": False,
                                                               "scorers": []})))
    no_questions = spec_dict(probes={"scorers": [], "generic": False})
    no_questions["personas"]["jfk"]["probes"] = []
    assert measures_nothing(parse_experiment(no_questions))
    unprobed = spec_dict(probes={"scorers": []})
    unprobed["agents"][0]["probe"] = False
    assert measures_nothing(parse_experiment(unprobed))


def test_loading_a_file_that_measures_nothing_needs_the_opt_out(tmp_path: Path) -> None:
    path = write_config(tmp_path, spec_dict(probes={"enabled": False, "scorers": []}))
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert "measures nothing" in info.value.problems[0] and "--no-probes" in info.value.problems[0]
    assert not load_experiment(path, unmeasured_ok=True).probes.enabled


# --- one less circle: config/ never imports personas/ ------------------------------------

CONFIG_DIR = Path(__file__).resolve().parents[2] / "scaffold" / "config"


def test_config_package_does_not_import_personas() -> None:
    for module in sorted(CONFIG_DIR.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):  # imports inside functions count too
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            assert not any(n == "scaffold.personas" or n.startswith("scaffold.personas.")
                           for n in names), f"{module.name}:{node.lineno} imports personas"


def test_importing_and_using_config_leaves_personas_unloaded() -> None:
    persona = {"name": "P", "identity": "You are P.", "anchors": ["I am P."]}
    data = {"name": "x", "model": "scripted/default", "personas": {"p": persona}}
    code = ("import sys; from scaffold.config import parse_experiment; "
            f"parse_experiment({data!r}); print('scaffold.personas' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=CONFIG_DIR.parents[1])
    assert proc.stdout.strip() == "False", proc.stderr


def test_unexpanded_persona_set_is_a_clear_error_in_config() -> None:
    found = problems(spec_dict(personas={"set": {"from": "x.jsonl", "format": "persona_drift"}}))
    assert found[0].startswith("personas.set: names an external persona set")


ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("docs/studies/*/experiment.yaml")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_experiment_file_validates_and_expands(path: Path) -> None:
    from scaffold.config import expand_sweep
    from scaffold.loading import load_experiment

    if "shared/datasets" in path.read_text(encoding="utf-8") \
            and not (ROOT.parent / "shared" / "datasets").is_dir():
        pytest.skip("needs the sample data sets in ../shared/datasets")
    runs = expand_sweep(load_experiment(path))
    assert runs and all(r.sweep is None for r in runs)
