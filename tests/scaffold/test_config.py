"""Config validation: every problem named by its field path."""

from __future__ import annotations

import pytest
from tests.helpers import spec_dict

from scaffold.config import DEFAULT_MODEL, apply_overrides, parse_experiment
from scaffold.errors import ConfigError


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
