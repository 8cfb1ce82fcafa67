"""Sweeps: axes crossed into runs, exclusions, validation of every combination, `plan`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.config import expand_sweep, parse_experiment
from scaffold.errors import ConfigError
from scaffold.runner import run_id_for
from tests.helpers import spec_dict, write_config

SWEEP = {"memory": ["window", "summary"], "seed": [0, 1, 2],
         "exclude": [{"memory": "window", "seed": 2}]}


def test_cartesian_product_minus_excluded() -> None:
    variants = expand_sweep(parse_experiment(spec_dict(sweep=SWEEP)))
    points = [(v.agents[0].memory.condition, v.seed) for v in variants]
    assert points == [("window", 0), ("window", 1), ("summary", 0), ("summary", 1),
                      ("summary", 2)]
    assert len({run_id_for(v) for v in variants}) == 5
    assert all(v.sweep is None for v in variants)


def test_exclude_beside_sweep_adds_rules() -> None:
    axes = {k: v for k, v in SWEEP.items() if k != "exclude"}
    spec = parse_experiment({**spec_dict(sweep=axes), "exclude": SWEEP["exclude"]})
    points = [(v.agents[0].memory.condition, v.seed) for v in expand_sweep(spec)]
    assert ("window", 2) not in points and len(points) == 5
    both = parse_experiment({**spec_dict(sweep=SWEEP), "exclude": [{"memory": "summary"}]})
    assert [v.seed for v in expand_sweep(both)] == [0, 1]


def test_invalid_combination_names_its_point() -> None:
    with pytest.raises(ConfigError) as info:
        parse_experiment(spec_dict(sweep={"memory": ["summary", "nonsense"]}))
    assert any("nonsense" in p and "sweep" in p for p in info.value.problems)


def test_bad_sweep_shapes() -> None:
    for bad in ({}, {"seed": []}, {"seed": [1], "exclude": [{"model": "x"}]}):
        with pytest.raises(ConfigError):
            parse_experiment(spec_dict(sweep=bad))


def test_plan_prints_runs_and_budget(tmp_path: Path) -> None:
    path = write_config(tmp_path, spec_dict(sweep=SWEEP))
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    assert "5 run(s)" in result.output and "total" in result.output
    assert not (tmp_path / "runs").exists()


def test_plan_shows_the_value_of_every_other_axis(tmp_path: Path) -> None:
    sweep = {"seed": [0], "agents.0.memory.budget_tokens": [400, 900]}
    path = write_config(tmp_path, spec_dict(sweep=sweep))
    result = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "run id" in line)
    assert "agents.0.memory.budget_tokens" in header
    rows = [line for line in result.output.splitlines() if "-s0-" in line]
    assert [" 400 " in rows[0], " 900 " in rows[1]] == [True, True]


LINKED = {"budget": [{"label": "small", "agents.0.memory.budget_tokens": 400, "steps": 5},
                    {"label": "large", "agents.0.memory.budget_tokens": 900, "steps": 7}],
          "seed": [0, 1], "exclude": [{"budget": "large", "seed": 1}]}


def test_linked_axis_sets_its_paths_together_and_records_its_label() -> None:
    variants = expand_sweep(parse_experiment(spec_dict(sweep=LINKED)))
    got = [(v.agents[0].memory.budget_tokens, v.steps, v.seed, v.sweep_point) for v in variants]
    assert got == [(400, 5, 0, {"budget": "small", "seed": 0}),
                   (400, 5, 1, {"budget": "small", "seed": 1}),
                   (900, 7, 0, {"budget": "large", "seed": 0})]
    # the label is not hashed twice: the same settings written out give the same run id
    plain = parse_experiment(spec_dict(steps=5, seed=0))
    data = plain.model_dump(mode="json")
    data["agents"][0]["memory"]["budget_tokens"] = 400
    assert run_id_for(variants[0]) == run_id_for(parse_experiment(data))


@pytest.mark.parametrize(("axis", "message"), [
    ([{"label": "a", "steps": 3}, 5], "budget[1]: a linked axis needs a mapping"),
    ([{"steps": 3}], "budget[0]: a linked axis value needs a `label`"),
    ([{"label": "a"}], "budget[0]: a linked axis value needs a `label`"),
    ([{"label": "a", "steps": 3}, {"label": "a", "steps": 4}], "budget: labels repeat"),
])
def test_linked_axis_problems_are_named(axis: list, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_experiment(spec_dict(sweep={"budget": axis}))
    assert any(message in p for p in info.value.problems), info.value.problems


def test_plan_and_report_name_a_linked_axis_by_its_label(tmp_path: Path) -> None:
    path = write_config(tmp_path, spec_dict(sweep=LINKED))
    result = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "-s0-" in line or "-s1-" in line]
    assert [("small" in r, "large" in r) for r in rows] == [(True, False), (True, False),
                                                            (False, True)]


def test_run_executes_every_point(tmp_path: Path) -> None:
    data = spec_dict(out=str(tmp_path / "runs"), steps=3,
                     sweep={"memory": ["window", "summary"], "seed": [0, 1]})
    result = CliRunner().invoke(app, ["run", str(write_config(tmp_path, data))])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "runs" / "test-jfk").iterdir())) == 4
    again = CliRunner().invoke(app, ["run", str(write_config(tmp_path, data))])
    assert again.exit_code == 0 and again.output.count("already done") == 4


def test_replay_picks_the_recorded_run_of_a_sweep(tmp_path: Path) -> None:
    from tests.helpers import message_view

    data = spec_dict(out=str(tmp_path / "runs"), steps=3, sweep={"seed": [0, 1]})
    config = write_config(tmp_path, data)
    assert CliRunner().invoke(app, ["run", str(config)]).exit_code == 0
    source = sorted((tmp_path / "runs" / "test-jfk").iterdir())[1]

    result = CliRunner().invoke(app, ["run", str(config), "--replay", str(source)])

    assert result.exit_code == 0, result.output
    replayed = source.with_name(source.name + "-replay")
    assert message_view(replayed) == message_view(source)
    other = CliRunner().invoke(app, ["run", str(config), "--replay", str(tmp_path)])
    assert other.exit_code == 2 and "none of them is" in other.output
