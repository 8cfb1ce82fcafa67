"""The embedded model resumed after kill -9: bit-exact when every call starts from an empty cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import events_of, write_config
from tests.helpers.killing import kill_then_resume

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jfk.yaml"


def _config(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """The JFK example, 5 short steps, no probes, KV state off; (config, runs folder)."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    runs = tmp_path / name / "runs"
    data.update(steps=5, out=str(runs), local={"kv_state": False},
                probes={"enabled": False})
    data["agents"][0]["generation"]["max_tokens"] = 24
    (tmp_path / name).mkdir()
    return write_config(tmp_path / name, data), runs


def _agent(run_dir: Path) -> list[tuple[Any, ...]]:
    """Each agent call's step and request hash, and each reply."""
    calls = [(c.step, c.request_hash) for c in events_of(run_dir, "model_call")
             if c.purpose == "agent"]
    replies = [(m.step, m.content) for m in events_of(run_dir, "message")
               if m.role == "assistant"]
    return calls + replies


@pytest.mark.slow
def test_a_resumed_run_with_kv_state_off_replies_as_the_uninterrupted_run(
        tmp_path: Path) -> None:
    # With kv_state on, the resumed agent's state is rebuilt in one pass and later replies can
    # differ (measured: JFK, killed after step 3, step 5 differed); off is the exact choice.
    config, runs = _config(tmp_path, "whole")
    done = subprocess.run([sys.executable, "-m", "scaffold.cli", "run", str(config)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    whole = next(runs.glob("*/*/events.jsonl")).parent
    config, runs = _config(tmp_path, "killed")
    resumed = kill_then_resume(config, runs, kill_after_lines=14)
    starts = [e.step for e in events_of(resumed, "run_start")]
    assert len(starts) == 2 and starts[1] < 5, starts  # killed part-way, then resumed
    assert _agent(resumed) == _agent(whole)
