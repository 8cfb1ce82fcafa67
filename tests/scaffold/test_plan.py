"""`scaffold plan`'s call estimate against scripted runs whose memory events are known."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from scaffold.plan import estimate
from tests.helpers import events_of, make_spec, run_spec, spec_dict

CONDITIONS: dict[str, dict[str, Any]] = {
    "window": {},
    "summary": {"summary": {"threshold": 0.75, "keep_last": 2, "max_tokens": 96}},
    "sleeptime": {"sleeptime": {"every": 4}},
    "notes": {"notes": {"on_compaction": True}},
}


def spec_for(tmp_path: Path, condition: str, steps: int = 16) -> Any:
    data = spec_dict(out=str(tmp_path / "runs"))
    data["agents"][0]["memory"] = {"condition": condition, "budget_tokens": 600,
                                   **CONDITIONS[condition]}
    return make_spec(tmp_path, agents=data["agents"], steps=steps,
                     probes={"every": 4, "samples": 1, "scorers": ["rules"]})


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_the_estimate_is_near_the_calls_a_run_makes(tmp_path: Path, condition: str) -> None:
    spec = spec_for(tmp_path, condition)
    run_dir = run_spec(spec)
    est = estimate(spec)
    calls = events_of(run_dir, "model_call")
    events = Counter(e.kind for e in events_of(run_dir, "memory") if e.kind != "insert")
    rounds = {e.round_id for e in events_of(run_dir, "probe")}
    assert sum(events.values()) > 0  # the budget fills: memory events do happen
    assert est.calls_low < len(calls) <= est.calls_high
    assert abs(est.calls - len(calls)) <= 0.15 * len(calls), (est, len(calls), events)
    assert abs(est.probe_rounds - len(rounds)) <= 0.15 * len(rounds)
    helpers = Counter(e.purpose for e in calls if e.purpose not in ("agent", "probe"))
    for role, n in helpers.items():
        assert abs(est.memory_calls.get(role, 0) - n) <= max(1, 0.25 * n), (role, est, helpers)


def test_plan_shows_the_expected_calls_with_their_range_and_says_they_are_estimated(
        tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from scaffold.cli import app
    from tests.helpers import write_config

    spec = spec_for(tmp_path, "sleeptime")
    path = write_config(tmp_path, spec.model_dump(mode="json", exclude_defaults=True))
    result = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    est = estimate(spec)
    assert f"~{est.calls} ({est.calls_low}-{est.calls_high})" in result.output
    assert "6 sleeptime" in result.output and "Calls are an estimate" in result.output
    assert est.calls_low < est.calls  # memory events are counted, not left on top
