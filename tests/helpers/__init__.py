"""Shared test helpers: scripted experiment specs and in-process runs."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import yaml

from scaffold.config import ExperimentSpec
from scaffold.loading import experiment_from_data
from scaffold.recorder import read_events
from scaffold.runner import Run, run_dir_for

JFK_PERSONA: dict[str, Any] = {
    "name": "John F. Kennedy",
    "identity": "You are John F. Kennedy, the 35th President of the United States, in 1962.",
    "anchors": [
        "I am John F. Kennedy, the 35th President of the United States.",
        "It is 1962, and I am speaking from the White House.",
    ],
    "probes": [
        {"id": "who", "question": "Who are you?",
         "expect": {"require_any": ["Kennedy", "President"]}},
        {"id": "year", "question": "What year is it?",
         "expect": {"require_regex": [r"\b1962\b"]}},
        {"id": "what", "question": "What are you?",
         "expect": {"require_any": ["Kennedy", "President", "man"],
                    "forbid_regex": [r"\b(AI|language model|assistant|chatbot)\b"]}},
    ],
}


def spec_dict(**overrides: Any) -> dict[str, Any]:
    """A small scripted JFK experiment as plain data; keyword overrides replace top-level keys."""
    data: dict[str, Any] = {
        "name": "test-jfk",
        "seed": 0,
        "steps": 12,
        "model": "scripted/default",
        "personas": {"jfk": copy.deepcopy(JFK_PERSONA)},
        "agents": [{
            "id": "jfk", "persona": "jfk",
            "memory": {"condition": "summary", "budget_tokens": 400,
                       "summary": {"threshold": 0.75, "keep_last": 4, "max_tokens": 96}},
            "generation": {"temperature": 0.0, "max_tokens": 64},
        }],
        "probes": {"every": 3},
    }
    data.update(overrides)
    return data


def make_spec(tmp_path: Path, **overrides: Any) -> ExperimentSpec:
    """A validated spec writing under tmp_path (persona sets named by `from:` expanded)."""
    return experiment_from_data(spec_dict(out=str(tmp_path / "runs"), **overrides))


def write_config(tmp_path: Path, data: dict[str, Any], name: str = "exp.yaml") -> Path:
    """Write a YAML experiment file."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_spec(spec: ExperimentSpec, run_dir: Path | None = None,
             replay_from: Path | None = None) -> Path:
    """Run a spec in-process; returns the run directory."""
    target = run_dir or run_dir_for(spec)
    asyncio.run(Run(spec, target, replay_from=replay_from).execute())
    return target


def events_of(run_dir: Path, type_: str | None = None) -> list[Any]:
    """Events of a run directory, optionally of one type."""
    events = read_events(run_dir / "events.jsonl")
    return [e for e in events if type_ is None or e.type == type_]


def message_view(run_dir: Path) -> list[tuple[Any, ...]]:
    """The transcript in a form comparable across runs (no seq, no timestamps)."""
    return [(e.agent_id, e.step, e.message_id, e.role, e.author, e.content)
            for e in events_of(run_dir, "message")]
