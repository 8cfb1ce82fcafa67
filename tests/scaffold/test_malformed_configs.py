"""Thirty-odd malformed experiment files: each a clear message naming the field, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import spec_dict


def edit(**changes: object) -> str:
    data = spec_dict()
    for path, value in changes.items():
        node: object = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) \
                else node.setdefault(key, {})  # type: ignore[union-attr]
        if value is DELETE:
            del node[keys[-1]]  # type: ignore[index]
        elif isinstance(node, list):
            node[int(keys[-1])] = value
        else:
            node[keys[-1]] = value  # type: ignore[index]
    return yaml.safe_dump(data)


DELETE = object()
P = "personas__jfk__"
A = "agents__0__"

CASES: list[tuple[str, str]] = [
    ("", "expected a mapping"),
    ("- a\n- b\n", "expected a mapping"),
    ("name: [unclosed\n", "invalid YAML"),
    ("name: x\n  bad indent: 1\n", "invalid YAML"),
    ("\t- tab\n", "invalid YAML"),
    (edit(name=DELETE), "name: required field is missing"),
    (edit(name="has space"), "name:"),
    (edit(steps="many"), "steps:"),
    (edit(steps=0), "steps:"),
    (edit(seed="abc"), "seed:"),
    (edit(stepz=3), "stepz: unknown field"),
    (edit(personas={}), "personas:"),
    (edit(personas=DELETE), "personas: required field is missing"),
    (edit(**{P + "anchors": []}), "personas.jfk.anchors:"),
    (edit(**{P + "identity": ""}), "personas.jfk.identity:"),
    (edit(**{P + "probes__0__id": "bad id!"}), "personas.jfk.probes[0].id:"),
    (edit(**{P + "probes__0__question": ""}), "personas.jfk.probes[0].question:"),
    (edit(**{P + "probes__1__id": "who"}), "duplicate probe ids"),
    (edit(**{P + "probes__0__expect__require_regex": ["(oops"]}), "require_regex"),
    (edit(**{P + "probes__0__expect__requires": ["x"]}), "expect.requires: unknown field"),
    (edit(**{A + "persona": "nixon"}), "agents[0].persona"),
    (edit(agents=[{"id": "a", "persona": "jfk"}, {"id": "a", "persona": "jfk"}]),
     "duplicate agent ids"),
    (edit(**{A + "id": "x y"}), "agents[0].id:"),
    (edit(**{A + "memory__summary__threshold": 1.5}),
     "agents[0].memory.summary.threshold: must be in (0, 1]"),
    (edit(**{A + "memory__summary__threshold": 0}), "must be in (0, 1]"),
    (edit(**{A + "memory__summary__keep_last": -1}), "agents[0].memory.summary.keep_last:"),
    (edit(**{A + "memory__summary__on_failure": "panic"}), "on_failure:"),
    (edit(**{A + "memory__summary__eviction_share": 2}), "eviction_share: must be in (0, 1]"),
    (edit(**{A + "memory__budget_tokens": 10}), "agents[0].memory.budget_tokens:"),
    (edit(**{A + "memory__condition": "sumary"}), "unknown memory condition"),
    (edit(**{A + "memory__shares": {"summary": 3}}), "shares:"),
    (edit(**{A + "memory__vector__top_k": 0}), "vector.top_k:"),
    (edit(**{A + "generation__temperature": 9}), "generation.temperature:"),
    (edit(**{A + "generation__max_tokens": 0}), "generation.max_tokens:"),
    (edit(probes={"every": 0}), "probes.every:"),
    (edit(probes={"scorers": ["vibes"]}), "unknown scorer"),
    (edit(probes={"samples": 100}), "probes.samples:"),
    (edit(task={"pressure": [{"step": 0, "text": "x"}]}), "task.pressure[0].step:"),
    (edit(retry={"attempts": 0}), "retry.attempts:"),
    (edit(judge={"scale": [3, 0]}), "judge.scale:"),
    (edit(sweep={"seed": []}), "sweep"),
    (edit(sweep={"memory": ["window", "bogus"]}), "bogus"),
    (edit(sweep={"seed": [1, 2]}, exclude=[{"sed": 1}]), "exclude[0]: sed is not a sweep axis"),
    (edit(exclude=[{"seed": 1}]), "exclude: drops combinations of a sweep"),
    (edit(sweep={"seed": [1]}, exclude=[{"seed": 1}]), "every combination is excluded"),
    (edit(endpoints={"local/qwen2.5-0.5b-instruct": {"api_base": "http://x:1"}}),
     "endpoints: local/qwen2.5-0.5b-instruct: local/ models run inside the process"),
    (edit(endpoints={"ollama": {"api_base": "localhost:11434"}}),
     "endpoints.ollama.api_base: expected an http:// or https:// URL"),
    (edit(endpoints={"ollama": {"api_base": "http://me:pw@box:11434"}}),
     "credentials in the URL"),
    (edit(endpoints={"ollama": {"api_base": "http://box:11434", "api_key_env": "my key"}}),
     "endpoints.ollama.api_key_env:"),
    (edit(endpoints={"ollama": {"url": "http://box:11434"}}), "endpoints.ollama.url: unknown"),
    (edit(execution={"model_concurrency": {"openai/gpt-4o": 0}}),
     "execution.model_concurrency.openai/gpt-4o:"),
    (edit(execution={"requests_per_minute": {"openai/gpt-4o": -1}}),
     "execution.requests_per_minute.openai/gpt-4o:"),
    (edit(task={"kind": "chess"}), "task.kind: unknown task 'chess'"),
    (edit(task={"kind": "selfchat"}), "task.kind: selfchat needs exactly 2 agents"),
    (edit(task={"kind": "room"}), "task.kind: a room needs 2 to 16 agents"),
    (edit(task={"kind": "room", "room": {"policy": "loudest"}}), "task.room.policy:"),
    (edit(task={"kind": "reading", "reading": {"document": "nowhere.txt"}}),
     "task.reading.document: file not found"),
    (edit(task={"kind": "coding", "coding": {"problems": "none.yaml"}}),
     "task.coding.problems: file not found"),
    (edit(task={"kind": "coding", "coding": {"limits": {"memory_mb": 1}}}),
     "task.coding.limits.memory_mb:"),
    (edit(task={"kind": "pressure", "user": {"persona": "nixon"}}),
     "task.user.persona: unknown persona 'nixon'"),
    (edit(task={"kind": "pressure", "user": {"style": "custom"}}),
     "task.user.goal: style 'custom' needs a goal"),
    (edit(task={"kind": "pressure", "user": {"intensity": 2}}), "task.user.intensity:"),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_malformed_config(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "scaffold.cli", "validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
