"""The experiment's `activation` section: checked at load, used by live runs and rescore, recorded
in the manifest, and left out of run ids while at its defaults."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import scaffold.activations.discovery as discovery
import scaffold.trackers.activation as activation_module
from scaffold.activations import Axis, load_axis, save_axis
from scaffold.activations.build import AssistantOptions, build_assistant_axis
from scaffold.activations.details import activation_details
from scaffold.cli import app
from scaffold.config import ActivationSpec, ExperimentSpec
from scaffold.recorder import RunRecorder
from scaffold.rescore import Rescorer
from scaffold.runner import spec_digest
from tests.helpers import events_of, make_spec, run_spec, spec_dict, write_config
from tests.scaffold.activation_fakes import FakeReader, role_dir

PROBES = {"every": 3, "samples": 1, "temperature": 0.0, "scorers": ["break", "activation"]}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> FakeReader:
    """The registry's activation scorer reads with a FakeReader."""
    fake = FakeReader()
    monkeypatch.setattr(activation_module, "open_reader", lambda model: fake)
    return fake


@pytest.fixture
def axes(tmp_path: Path, reader: FakeReader) -> tuple[Path, Path]:
    """Two assistant axes of the FakeReader: one as built, one pointing the other way."""
    built = build_assistant_axis(reader, role_dir(tmp_path), AssistantOptions(
        roles=3, questions=3, held_out_roles=0, layers=(1, 2)))
    first, flipped = tmp_path / "axes" / "a.npz", tmp_path / "axes" / "flipped.npz"
    save_axis(built, first)
    save_axis(Axis(built.meta, {k: -v for k, v in built.vectors.items()}), flipped)
    return first, flipped


def _scores(run_dir: Path, rescore: bool = False) -> list[Any]:
    return [e for e in events_of(run_dir, "score")
            if e.scorer == "activation" and bool(e.rescore) == rescore]


def _projections(run_dir: Path, rescore: bool = False) -> list[float]:
    out = []
    for event in _scores(run_dir, rescore):
        details = activation_details(event.raw)
        assert details is not None, event.explanation
        out.append(details.projection)
    return out


def _manifest(run_dir: Path) -> Any:
    manifest = RunRecorder(run_dir).read_manifest()
    assert manifest is not None
    return manifest


# --- the section is checked when the file loads --------------------------------------------


@pytest.mark.parametrize(("section", "expected"), [
    ({"axes": ["axes/missing.npz"]}, "activation.axes[0]: axis file not found"),
    ({"reeder": "local/x"}, "activation.reeder: unknown field"),
    ({"reader": "openai/gpt-4o-mini"}, "activation.reader: activations cannot be read"),
    ({"axes": ["axes/a.npz"], "layer": 7}, "activation.layer: 7 is not in axes[0]"),
    ({"axes": ["axes/a.npz", "axes/flipped.npz"]}, "activation.axes[1]: a second assistant"),
    ({"axes": "axes/a.npz"}, "activation.axes: Input should be a valid list"),
    ({"layer": -1}, "activation.layer: Input should be greater than or equal to 0"),
])
def test_a_bad_section_names_the_field_and_exits_2(tmp_path: Path, axes: tuple[Path, Path],
                                                  section: dict[str, Any], expected: str) -> None:
    config = write_config(tmp_path, spec_dict(activation=section))
    result = CliRunner().invoke(app, ["validate", str(config)])
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_a_persona_axis_must_belong_to_a_persona_of_the_experiment(tmp_path: Path) -> None:
    shipped = Path(discovery.SHIPPED_DIR)
    config = write_config(tmp_path, spec_dict(activation={
        "axes": [str(shipped / "persona-nova-qwen2.5-0.5b.npz")]}))
    result = CliRunner().invoke(app, ["validate", str(config)])
    assert result.exit_code == 2
    assert "activation.axes[0]: a persona axis of 'Nova'" in result.output


def test_axis_paths_resolve_against_the_experiment_file(
        tmp_path: Path, axes: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path, spec_dict(activation={"axes": ["axes/a.npz"], "layer": 1}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(app, ["validate", str(config)])
    assert result.exit_code == 0, result.output
    from scaffold.loading import load_experiment

    assert load_experiment(config).activation.axes == [str(axes[0].resolve())]
    swept = write_config(tmp_path, spec_dict(sweep={"activation.axes": [
        ["axes/a.npz"], ["axes/flipped.npz"]]}), name="swept.yaml")
    from scaffold.config import expand_sweep

    runs = expand_sweep(load_experiment(swept))
    assert [r.activation.axes for r in runs] == [[str(p.resolve())] for p in axes]


# --- run ids -------------------------------------------------------------------------------


def test_a_default_section_leaves_run_ids_as_they_were(tmp_path: Path,
                                                        axes: tuple[Path, Path]) -> None:
    plain = make_spec(tmp_path)
    written = make_spec(tmp_path, activation={"reader": "local/qwen2.5-0.5b-instruct"})
    assert spec_digest(plain) == spec_digest(written)
    # ... the digest of the spec as it was before the section existed
    data = plain.model_dump(mode="json", exclude={"out", "execution", "retry", "endpoints",
                                                  "sweep_point", "activation"})
    before = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]
    assert spec_digest(plain) == before
    for section in ({"axes": [str(axes[0])]}, {"layer": 1}, {"reader": "hf/some/model"}):
        assert spec_digest(make_spec(tmp_path, activation=section)) != spec_digest(plain)


# --- live runs: the settings are what the scorer reads with --------------------------------


def test_two_axis_files_give_different_scores_and_the_manifest_names_each(
        tmp_path: Path, reader: FakeReader, axes: tuple[Path, Path]) -> None:
    first, flipped = axes
    runs = []
    for path in (first, flipped):
        spec = make_spec(tmp_path, steps=6, probes=PROBES,
                         activation={"axes": [str(path)]})
        runs.append(run_spec(spec))
    a, b = (_projections(run) for run in runs)
    assert a and len(a) == len(b)
    assert a == pytest.approx([-x for x in b], abs=1e-3)  # the same texts, the other way
    for run, path in zip(runs, axes):
        record = _manifest(run).scorers["activation"]
        assert record["source"] == "experiment"
        assert [(f["path"], f["sha256"]) for f in record["axes"]] == [(str(path), _sha(path))]
        assert record["reader"] == "local/qwen2.5-0.5b-instruct"
        assert record["reader_sha256"] == reader.identity.sha256
        assert record["reader_file"] == reader.identity.file
        assert _manifest(run).spec["activation"]["axes"] == [str(path)]


def test_the_layer_setting_chooses_the_layer_read(tmp_path: Path, reader: FakeReader,
                                                   axes: tuple[Path, Path]) -> None:
    assert load_axis(axes[0]).meta.layer == 2
    spec = make_spec(tmp_path, steps=3, probes=PROBES,
                     activation={"axes": [str(axes[0])], "layer": 1})
    run_dir = run_spec(spec)
    layers = {activation_details(e.raw).layer for e in _scores(run_dir)}  # type: ignore[union-attr]
    assert layers == {1}
    assert _manifest(run_dir).scorers["activation"]["layer"] == 1


def test_searched_axes_are_recorded_and_rescore_keeps_reading_them(
        tmp_path: Path, reader: FakeReader, axes: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "b.npz").write_bytes(axes[0].read_bytes())
    monkeypatch.setattr(discovery, "axes_cache_dir", lambda: cache)
    run_dir = run_spec(make_spec(tmp_path, steps=3, probes=PROBES))
    record = _manifest(run_dir).scorers["activation"]
    assert record["source"] == "search"
    assert [(f["path"], f["sha256"]) for f in record["axes"]] == \
        [(str(cache / "b.npz"), _sha(axes[0]))]
    # a newer axis the search would now find first is not what the rescore reads with
    (cache / "a.npz").write_bytes(axes[1].read_bytes())
    added = asyncio.run(Rescorer(run_dir, ["activation"]).run())
    assert added > 0
    assert _projections(run_dir, rescore=True)[:3] == pytest.approx(_projections(run_dir)[:3],
                                                                  abs=1e-3)
    passes = _manifest(run_dir).rescores
    (only,) = passes.values()
    assert only["settings"]["activation"]["axes"][0]["sha256"] == _sha(axes[0])


def test_retired_environment_variables_are_ignored_with_a_warning(
        tmp_path: Path, reader: FakeReader, axes: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("SCAFFOLD_ACTIVATION_AXES", str(axes[1]))
    monkeypatch.setenv("SCAFFOLD_ACTIVATION_MODEL", "hf/other/model")
    opened: list[str] = []
    monkeypatch.setattr(activation_module, "open_reader",
                        lambda model: opened.append(model) or reader)
    with caplog.at_level(logging.WARNING):
        run_dir = run_spec(make_spec(tmp_path, steps=3, probes=PROBES,
                                     activation={"axes": [str(axes[0])]}))
    assert "SCAFFOLD_ACTIVATION_AXES is set but no longer read" in caplog.text
    assert "SCAFFOLD_ACTIVATION_MODEL is set but no longer read" in caplog.text
    assert set(opened) == {"local/qwen2.5-0.5b-instruct"}
    assert _manifest(run_dir).scorers["activation"]["axes"][0]["path"] == str(axes[0])


# --- rescore -------------------------------------------------------------------------------


def test_rescore_reads_with_the_recorded_axes_unless_told(
        tmp_path: Path, reader: FakeReader, axes: tuple[Path, Path]) -> None:
    first, flipped = axes
    run_dir = run_spec(make_spec(tmp_path, steps=3, probes=PROBES,
                                 activation={"axes": [str(first)]}))
    live = _projections(run_dir)
    runner = CliRunner()
    result = runner.invoke(app, ["rescore", str(run_dir), "--scorer", "activation"])
    assert result.exit_code == 0, result.output
    again = _projections(run_dir, rescore=True)
    assert again[: len(live)] == pytest.approx(live, abs=1e-3)
    result = runner.invoke(app, ["rescore", str(run_dir), "--scorer", "activation",
                                 "--axis", str(flipped), "--layer", "1"])
    assert result.exit_code == 0, result.output
    passes = _manifest(run_dir).rescores
    assert len(passes) == 2
    last = passes[max(passes, key=lambda k: int(k.rsplit("-", 1)[1]))]
    assert last["scorers"] == ["activation"]
    assert last["settings"]["activation"]["layer"] == 1
    assert [f["sha256"] for f in last["settings"]["activation"]["axes"]] == [_sha(flipped)]
    newest = [e for e in _scores(run_dir, rescore=True) if e.rescore == max(
        passes, key=lambda k: int(k.rsplit("-", 1)[1]))]
    assert newest and {activation_details(e.raw).layer for e in newest} == {1}  # type: ignore[union-attr]


@pytest.mark.parametrize(("args", "expected"), [
    (["--scorer", "activation", "--reader", "openai/gpt-4o-mini"],
     "activation.reader: activations cannot be read from 'openai/gpt-4o-mini'"),
    (["--scorer", "activation", "--axis", "nowhere.npz"], "activation.axes[0]: axis file not"),
    (["--scorer", "break", "--layer", "1"], "activation.layer: only the activation scorer"),
])
def test_rescore_settings_are_checked_before_scoring(tmp_path: Path, args: list[str],
                                                     expected: str) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=3, probes={**PROBES, "scorers": ["break"]}))
    before = len(events_of(run_dir))
    result = CliRunner().invoke(app, ["rescore", str(run_dir), *args])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert len(events_of(run_dir)) == before


def test_scorer_context_carries_the_settings(axes: tuple[Path, Path]) -> None:
    from scaffold.assembly import scorer_context

    spec = ExperimentSpec.model_validate(spec_dict(activation={"axes": [str(axes[1])],
                                                               "layer": 1}))
    ctx = scorer_context(spec, None)
    assert ctx.activation == ActivationSpec(axes=[str(axes[1])], layer=1)
    scorer = activation_module.make_activation(ctx)
    assert [f.sha256 for f in scorer.record().axes] == [_sha(axes[1])]
    assert np.isfinite(scorer.measure("I am an AI.", None, spec.personas["jfk"]).projection)


def test_an_axis_file_gone_after_loading_fails_the_run_by_name(
        tmp_path: Path, reader: FakeReader, axes: tuple[Path, Path]) -> None:
    spec = make_spec(tmp_path, steps=3, probes=PROBES, activation={"axes": [str(axes[1])]})
    axes[1].unlink()
    run_dir = run_spec(spec)
    manifest = _manifest(run_dir)
    assert manifest.status == "failed"
    assert "activation.axes[0]: axis file not found" in (manifest.error or "")


def test_a_rebuilt_axis_file_makes_a_finished_pass_due_again(
        tmp_path: Path, reader: FakeReader, axes: tuple[Path, Path]) -> None:
    first, flipped = axes
    run_dir = run_spec(make_spec(tmp_path, steps=3, probes=PROBES,
                                 activation={"axes": [str(first)]}))
    runner = CliRunner()
    args = ["rescore", str(run_dir), "--scorer", "activation", "--axis", str(first)]
    assert runner.invoke(app, args).exit_code == 0
    skipped = runner.invoke(app, args)
    assert skipped.exit_code == 0 and "already scored" in skipped.output, skipped.output
    first.write_bytes(flipped.read_bytes())  # the same path now holds another axis
    rebuilt = runner.invoke(app, args)
    assert rebuilt.exit_code == 0 and "events appended" in rebuilt.output, rebuilt.output
