"""End to end on the real embedded model: a few steps, a tiny budget, summaries and probes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.loading import load_experiment
from tests.helpers import events_of, write_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jfk.yaml"


def test_example_config_is_valid() -> None:
    spec = load_experiment(EXAMPLE)
    assert spec.model == "local/qwen2.5-0.5b-instruct"
    assert {p.id for p in spec.personas["jfk"].probes} == {"who", "year", "what"}


@pytest.mark.slow
def test_jfk_on_embedded_model(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["agents"][0]["memory"]["budget_tokens"] = 360  # tiny: summaries within 4 steps
    data["probes"]["every"] = 4
    config = write_config(tmp_path, data)
    result = CliRunner().invoke(app, ["run", str(config), "--steps", "4", "--out",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    run_dir = next((tmp_path / "jfk-1962").iterdir())
    messages = events_of(run_dir, "message")
    assert [m.role for m in messages] == ["user", "assistant"] * 4
    assert all(m.content.strip() for m in messages)
    calls = events_of(run_dir, "model_call")
    assert calls and all(c.model == "local/qwen2.5-0.5b-instruct" for c in calls)
    assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 for c in calls)
    memory = events_of(run_dir, "memory")
    assert memory and all(m.kind == "summarize" for m in memory)
    scores = events_of(run_dir, "score")
    assert scores and all(s.value is None or 0.0 <= s.value <= 1.0 for s in scores)
    # The embedded model's identity answers are recorded whatever they say.
    probes = events_of(run_dir, "probe")
    assert {p.probe_id for p in probes} == {"who", "year", "what"}
