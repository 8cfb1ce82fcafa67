"""The engine never imports the UI: textual stays out of scaffold, agents and memory."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", [
    "scaffold", "scaffold.cli", "scaffold.runner", "scaffold.config", "agents",
    "agents.persona.graph", "memory", "memory.summary", "memory.window", "memory.vector",
    "memory.core", "memory.notes", "memory.embeddings", "scaffold.executors", "scaffold.fork",
    "scaffold.rescore", "scaffold.metrics", "scaffold.report", "scaffold.models.local",
    "scaffold.trackers.judge", "scaffold.trackers.embedding", "scaffold.personas",
])
def test_no_textual(module: str) -> None:
    code = f"import sys, {module}; assert 'textual' not in sys.modules, 'textual imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
