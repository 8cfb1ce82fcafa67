"""Without the `activations-hf` extra, an hf/ model says which extra to install (no torch needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.activations import ActivationsUnavailable, open_reader
from scaffold.activations._hf import HFReader
from scaffold.cli import app
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


@pytest.mark.usefixtures("without_torch")
def test_axis_build_exits_2_naming_the_extra(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "axis", "build", "--model", "hf/Qwen/Qwen2.5-7B-Instruct", "--roles",
        str(role_dir(tmp_path)), "--out", str(tmp_path / "axis.npz")])
    assert result.exit_code == 2, result.output
    assert "activations-hf" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "axis.npz").exists()
