"""Without the `activations-hf` extra, an hf/ model says which extra to install (no torch needed)."""

from __future__ import annotations

import sys
from importlib.util import find_spec
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.activations import ActivationsUnavailable, open_reader, unavailable_reason
from scaffold.activations._hf import HFReader
from scaffold.activations._hf_load import missing_extra
from scaffold.cli import app
from tests.helpers import events_of, make_spec, run_spec
from tests.scaffold.activation_fakes import role_dir


@pytest.fixture
def without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports of torch fail, as where the extra is not installed."""
    monkeypatch.setitem(sys.modules, "torch", None)


@pytest.mark.usefixtures("without_torch")
def test_the_reader_names_the_missing_extra() -> None:
    for load in (lambda: HFReader("hf/Qwen/Qwen2.5-7B-Instruct"),
                 lambda: open_reader("hf/Qwen/Qwen2.5-7B-Instruct")):
        with pytest.raises(ActivationsUnavailable) as caught:
            load()
        message = str(caught.value)
        assert "activations-hf" in message and "torch" in message
        assert "pip install 'scaffold-persona[activations-hf]'" in message


def test_missing_extra_is_found_without_importing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert missing_extra("local/qwen2.5-0.5b-instruct") is None
    installed = all(find_spec(name) is not None for name in ("torch", "transformers"))
    assert (missing_extra("hf/Qwen/Qwen2.5-7B-Instruct") is None) == installed
    assert (unavailable_reason("hf/Qwen/Qwen2.5-7B-Instruct") is None) == installed
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "transformers", None)
    problem = missing_extra("hf/Qwen/Qwen2.5-7B-Instruct")
    assert problem is not None and "missing: torch, transformers" in problem
    assert "pip install 'scaffold-persona[activations-hf]'" in problem
    assert unavailable_reason("hf/Qwen/Qwen2.5-7B-Instruct") == problem


@pytest.mark.usefixtures("without_torch")
def test_axis_build_exits_2_naming_the_extra(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "axis", "build", "--model", "hf/Qwen/Qwen2.5-7B-Instruct", "--roles",
        str(role_dir(tmp_path)), "--out", str(tmp_path / "axis.npz")])
    assert result.exit_code == 2, result.output
    assert "activations-hf" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "axis.npz").exists()


@pytest.mark.usefixtures("without_torch")
def test_a_run_with_an_hf_reader_says_why_it_has_no_activation_scores(tmp_path: Path) -> None:
    probes = {"every": 3, "samples": 1, "temperature": 0.0, "scorers": ["break", "activation"]}
    run_dir = run_spec(make_spec(tmp_path, steps=3, probes=probes,
                                 activation={"reader": "hf/Qwen/Qwen2.5-7B-Instruct"}))
    scores = [e for e in events_of(run_dir, "score") if e.scorer == "activation"]
    assert scores and all(e.value is None for e in scores)
    assert all("pip install 'scaffold-persona[activations-hf]'" in e.explanation
               for e in scores)
