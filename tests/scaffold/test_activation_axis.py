"""Axes: projection, z-scores and [0, 1] values, the axis file round trip, and builds."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scaffold.activations import Axis, load_axis, save_axis
from scaffold.activations.axis import LayerStats, unit_value, z_score
from scaffold.activations.build import (
    AssistantOptions,
    PersonaOptions,
    build_assistant_axis,
    build_persona_axis,
    plan_assistant,
)
from scaffold.cli import app
from scaffold.errors import ConfigError
from scaffold.trackers.standalone import load_persona
from tests.scaffold.activation_fakes import FakeReader, role_dir

ROOT = Path(__file__).resolve().parents[2]
STATS = LayerStats(default_mean=2.0, default_std=0.5, other_mean=-2.0, other_std=1.0,
                   auroc=1.0, d=-5.0)


def test_z_and_value_against_the_default_distribution() -> None:
    assert z_score(2.0, STATS) == 0.0
    assert z_score(1.0, STATS) == -2.0
    # 0 at the default mean, 1 at the other group's mean, linear between, clipped
    assert unit_value(2.0, STATS) == 0.0
    assert unit_value(0.0, STATS) == 0.5
    assert unit_value(-2.0, STATS) == 1.0
    assert unit_value(-9.0, STATS) == 1.0 and unit_value(9.0, STATS) == 0.0
    persona = STATS.model_copy(update={"default_mean": -1.0, "other_mean": 3.0})
    assert unit_value(2.0, persona) == 0.75


def _assistant_axis(tmp_path: Path, reader: FakeReader) -> Axis:
    opts = AssistantOptions(roles=3, questions=3, held_out_roles=2, held_out_questions=2,
                            max_tokens=8, seed=1, layers=(0, 2))
    return build_assistant_axis(reader, role_dir(tmp_path), opts)


def test_build_projects_and_round_trips(tmp_path: Path) -> None:
    reader = FakeReader()
    axis = _assistant_axis(tmp_path, reader)
    meta = axis.meta
    assert meta.kind == "assistant" and meta.direction == "default minus roles"
    assert meta.counts == {"default": 9, "other": 9}
    assert meta.model.sha256 == "f" * 64 and meta.layers == [0, 2]
    assert meta.layer == 2  # the fake separates better the deeper the layer
    assert meta.stats[2].auroc == 1.0 and meta.stats[2].default_mean > meta.stats[2].other_mean
    assert not set(meta.prompts.held_out_roles) & set(meta.prompts.other_systems)
    assert not set(meta.prompts.held_out_questions) & set(meta.prompts.questions)
    assert None in meta.prompts.default_systems  # the template's own default prompt
    path = tmp_path / "axis.npz"
    save_axis(axis, path)
    again = load_axis(path)
    assert again.meta == meta
    for layer in meta.layers:
        assert np.allclose(again.vectors[layer], axis.vectors[layer])
        assert math.isclose(float(np.linalg.norm(again.vectors[layer])), 1.0, rel_tol=1e-3)
    ai = reader.read([], "I am an AI", [2]).means[2]
    sailor = reader.read([], "I am a sailor", [2]).means[2]
    on_ai, on_sailor = again.project(ai), again.project(sailor)
    assert on_ai.projection > on_sailor.projection
    assert on_ai.value < 0.2 and on_sailor.value > 0.8 and on_ai.layer == 2


def test_held_out_plan_is_disjoint_and_reproducible(tmp_path: Path) -> None:
    reader, roles = FakeReader(), role_dir(tmp_path)
    opts = AssistantOptions(roles=3, questions=2, held_out_roles=2, held_out_questions=2)
    plan = plan_assistant(reader, roles, opts)
    assert plan == plan_assistant(reader, roles, opts)
    train_roles = {p.who for p in plan.train if p.group == "other"}
    held_roles = {p.who for p in plan.held_out if p.group == "other"}
    assert len(train_roles) == 3 and set(plan.held_out_roles) == held_roles
    assert not train_roles & held_roles
    assert {p.group for p in plan.train} == {"default", "other"}
    with pytest.raises(ValueError, match="roles"):
        plan_assistant(reader, roles, AssistantOptions(roles=6, held_out_roles=3))


def test_persona_axis_points_toward_the_persona(tmp_path: Path) -> None:
    persona = load_persona(ROOT / "examples/personas/jfk.yaml")
    axis = build_persona_axis(FakeReader(), persona, Path("jfk.yaml"), role_dir(tmp_path),
                              PersonaOptions(extra_questions=3, held_out=0.3, layers=(1,)))
    meta = axis.meta
    assert meta.kind == "persona" and meta.persona == persona.name
    assert meta.name == f"persona:{persona.name}"
    assert meta.stats[1].other_mean > meta.stats[1].default_mean
    assert meta.prompts.held_out_questions
    assert not set(meta.prompts.held_out_questions) & set(meta.prompts.questions)


def test_loading_a_bad_axis_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_axis(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, meta=np.array('{"format": "scaffold-axis"}'))
    with pytest.raises(ConfigError, match="not a scaffold axis file"):
        load_axis(bad)


def test_axis_cli_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["axis", "build", "--kind", "mood"])
    assert result.exit_code == 2 and "--kind" in result.output
    result = runner.invoke(app, ["axis", "build"])
    assert result.exit_code == 2 and "--roles" in result.output
    result = runner.invoke(app, ["axis", "build", "--roles", str(tmp_path)])
    assert result.exit_code == 2 and "default.json" in result.output
    result = runner.invoke(app, ["axis", "show", str(tmp_path / "none.npz")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_axis_show_prints_the_layers(tmp_path: Path) -> None:
    path = tmp_path / "axis.npz"
    save_axis(_assistant_axis(tmp_path, FakeReader()), path)
    result = CliRunner().invoke(app, ["axis", "show", str(path)])
    assert result.exit_code == 0, result.output
    assert "default minus roles" in result.output and "AUROC" in result.output
    assert "ffffffffffff]" in result.output  # the GGUF hash (not eaten as markup)


def test_shipped_axes_belong_to_the_embedded_model() -> None:
    from scaffold.activations.discovery import SHIPPED_DIR, find_axes
    from scaffold.models._gguf import EMBEDDED_BUNDLE

    files = sorted(SHIPPED_DIR.glob("*.npz"))
    assert files
    for file in files:
        meta = load_axis(file).meta
        assert meta.model.sha256 == EMBEDDED_BUNDLE.sha256 and meta.model.hidden == 896
        assert meta.layer in meta.layers and min(meta.counts.values()) >= 8
        assert not set(meta.prompts.held_out_questions) & set(meta.prompts.questions)
        assert not set(meta.prompts.held_out_roles) & set(meta.prompts.other_systems)
    assistant, jfk = find_axes(EMBEDDED_BUNDLE.sha256, "John F. Kennedy")
    assert assistant is not None and jfk is not None and jfk.meta.kind == "persona"
