"""The embedded model resumed after kill -9: bit-exact, with KV state saved beside each
checkpoint or with every call starting from an empty cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import events_of, write_config
from tests.helpers.killing import kill_then_resume

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jfk.yaml"


def _config(tmp_path: Path, name: str, kv_state: bool) -> tuple[Path, Path]:
    """The JFK example, 6 short steps, KV state on or off; (config, runs folder). With KV
    state on, a small budget (a summary by step 3) and probe rounds every 2 steps, so the
    summarizer's state and forked probes are part of what the resume must get right."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    runs = tmp_path / name / "runs"
    data.update(steps=6, out=str(runs), local={"kv_state": kv_state})
    data["agents"][0]["generation"]["max_tokens"] = 24
    if kv_state:
        data["agents"][0]["memory"]["budget_tokens"] = 420
        data["agents"][0]["memory"]["summary"]["max_tokens"] = 32
        data["probes"].update(every=2, max_tokens=8)
    else:
        data["probes"] = {"enabled": False}
    (tmp_path / name).mkdir()
    return write_config(tmp_path / name, data), runs


def _agent(run_dir: Path) -> list[tuple[Any, ...]]:
    """Each model call's purpose, step and request hash; each reply, summary and probe answer."""
    calls = [(c.purpose, c.step, c.request_hash) for c in events_of(run_dir, "model_call")]
    replies = [(m.step, m.content) for m in events_of(run_dir, "message")
               if m.role == "assistant"]
    summaries = [(m.step, m.kind, m.text) for m in events_of(run_dir, "memory")
                 if m.kind == "summarize"]
    answers = [(p.step, p.trigger, p.probe_id, p.answer) for p in events_of(run_dir, "probe")]
    return calls + replies + summaries + answers


@pytest.mark.slow
@pytest.mark.parametrize("kv_state", [False, True])
def test_a_resumed_run_replies_as_the_uninterrupted_run(tmp_path: Path, kv_state: bool
                                                        ) -> None:
    # KV state off: every call is evaluated from scratch. On: each owner's state is saved
    # beside each checkpoint and put back on resume (without it, a state rebuilt in one pass
    # made step 5 of a run killed after step 3 differ).
    config, runs = _config(tmp_path, "whole", kv_state)
    done = subprocess.run([sys.executable, "-m", "scaffold.cli", "run", str(config)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    whole = next(runs.glob("*/*/events.jsonl")).parent
    assert any(e.kind == "summarize" for e in events_of(whole, "memory")) == kv_state
    config, runs = _config(tmp_path, "killed", kv_state)
    resumed = kill_then_resume(config, runs, kill_after_lines=40 if kv_state else 14)
    starts = [e.step for e in events_of(resumed, "run_start")]
    assert len(starts) == 2 and 1 < starts[1] < 6, starts  # killed part-way, then resumed
    manifest = json.loads((resumed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inexact_resumes"] == []
    assert not (resumed / "kv").exists()  # only an unfinished run keeps its states
    assert _agent(resumed) == _agent(whole)


SELFCHAT = EXAMPLE.parent / "selfchat.yaml"


@pytest.mark.slow
def test_a_resumed_self_chat_replies_as_the_uninterrupted_one(tmp_path: Path) -> None:
    # two agents on one model, each with its own summarizer: every owner's state is saved
    # and put back, not just the first agent's
    def config(name: str) -> tuple[Path, Path]:
        data = yaml.safe_load(SELFCHAT.read_text(encoding="utf-8"))
        runs = tmp_path / name / "runs"
        data.update(steps=12, out=str(runs), local={"kv_state": True})  # 6 acts each
        for agent in data["agents"]:
            agent["memory"].update(budget_tokens=300)
            agent["memory"]["summary"]["max_tokens"] = 32
            agent["generation"]["max_tokens"] = 24
        data["probes"].update(every=2, max_tokens=8)
        (tmp_path / name).mkdir()
        return write_config(tmp_path / name, data), runs

    whole_config, runs = config("whole")
    done = subprocess.run([sys.executable, "-m", "scaffold.cli", "run", str(whole_config)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    whole = next(runs.glob("*/*/events.jsonl")).parent
    summarized = {m.agent_id for m in events_of(whole, "memory") if m.kind == "summarize"}
    assert summarized == {"jfk", "nova"}
    killed_config, runs = config("killed")
    resumed = kill_then_resume(killed_config, runs, kill_after_lines=120)
    starts = [e.step for e in events_of(resumed, "run_start")]
    assert len(starts) == 2 and 1 < starts[1] < 12, starts
    manifest = json.loads((resumed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inexact_resumes"] == []
    assert _agent(resumed) == _agent(whole)
