"""The engine type-checks: mypy over scaffold/, agents/ and memory/ (settings in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_engine_passes_mypy(monkeypatch: pytest.MonkeyPatch) -> None:
    api = pytest.importorskip("mypy.api")
    monkeypatch.chdir(ROOT)
    stdout, stderr, status = api.run([])  # files and settings: [tool.mypy] in pyproject.toml
    assert status == 0, f"mypy found type errors:\n{stdout}{stderr}"
