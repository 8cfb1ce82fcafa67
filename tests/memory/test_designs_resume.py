"""Reflection and facts memory resumed after kill -9 give the run an uninterrupted one gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scaffold.config import parse_experiment
from tests.helpers import events_of, run_spec, spec_dict, write_config
from tests.helpers.killing import kill_then_resume


def _data(out: Path, condition: str) -> dict[str, Any]:
    data = spec_dict(out=str(out), steps=16, probes={"enabled": False})
    data["agents"][0]["memory"] = {"condition": condition, "budget_tokens": 500,
                                   "reflection": {"threshold": 25}}
    return data


def _view(run_dir: Path, backend: str) -> list[tuple[Any, ...]]:
    """Every agent input (its request hash) and every change the backend made."""
    calls = [(e.step, e.request_hash) for e in events_of(run_dir, "model_call")
             if e.purpose == "agent"]
    changes = [(e.step, e.kind, e.status, e.text, tuple(e.source_ids))
               for e in events_of(run_dir, "memory") if e.backend == backend]
    return calls + changes


@pytest.mark.parametrize("condition,kinds,kill_after_lines", [
    ("reflection", {"reflect", "retrieve"}, 90), ("facts", {"fact_add"}, 70)])
def test_kill_9_then_resume_gives_the_same_memory(tmp_path: Path, condition: str,
                                                  kinds: set[str],
                                                  kill_after_lines: int) -> None:
    reference = run_spec(parse_experiment(_data(tmp_path / "ref", condition)))
    expected = _view(reference, condition)
    assert kinds <= {row[1] for row in expected if len(row) == 5}  # the design did act
    config = write_config(tmp_path, _data(tmp_path / "runs", condition))
    run_dir = kill_then_resume(config, tmp_path / "runs", kill_after_lines)
    assert any(e.resumed for e in events_of(run_dir, "run_start"))  # it was killed part-way
    assert _view(run_dir, condition) == expected
