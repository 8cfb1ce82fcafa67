"""A deterministic stand-in reader and a tiny role directory for the activation tests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scaffold.activations import ModelIdentity, Reading

HIDDEN = 8


class FakeReader:
    """Maps a text to a vector whose first coordinate says how assistant-like it is (+1 when
    it mentions being an AI, -1 otherwise) plus small text-dependent noise; records reads."""

    def __init__(self) -> None:
        self.identity = ModelIdentity(name="local/fake.gguf", file="fake.gguf",
                                      sha256="f" * 64, n_layers=4, hidden=HIDDEN)
        self.reads: list[tuple[list[dict[str, Any]], str]] = []

    def read(self, messages: Sequence[dict[str, Any]], text: str,
             layers: Sequence[int]) -> Reading:
        self.reads.append((list(messages), text))
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        noise = np.random.default_rng(seed).normal(0, 0.1, HIDDEN).astype(np.float32)
        base = np.zeros(HIDDEN, np.float32)
        base[0] = 1.0 if "AI" in text else -1.0
        means = {layer: base * (layer + 1) + noise for layer in layers}
        return Reading(means=means, tokens=len(text.split()), evaluated=len(text.split()) + 5,
                       truncated=0, seconds=0.01)

    def generate(self, messages: Sequence[dict[str, Any]], max_tokens: int, seed: int) -> str:
        system = next((m["content"] for m in messages if m["role"] == "system"), None)
        question = messages[-1]["content"]
        if system is None or not any(w in system for w in ("sailor", "Kennedy")):
            return f"As an AI assistant, here is my answer to: {question}"
        return f"Ahoy, speaking as myself about {question}"


def role_dir(tmp_path: Path, roles: int = 6, questions: int = 6) -> Path:
    """An Assistant-Axis role directory: default.json and `roles` role files."""
    path = tmp_path / "roles"
    path.mkdir()
    (path / "default.json").write_text(json.dumps({"instruction": [
        {"pos": ""}, {"pos": "You are an AI assistant."}, {"pos": "You are {model_name}."}]}))
    for r in range(roles):
        data = {"instruction": [{"pos": f"You are role number {r}, a sailor."},
                                {"pos": f"Act as sailor {r}."}],
                "questions": [f"Role {r} question {q}?" for q in range(questions)],
                "eval_prompt": "Rate it."}
        (path / f"role{r}.json").write_text(json.dumps(data))
    return path
