"""A third-party backend installed as a package is found by entry point and usable by name."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from memory.testing import MemoryBackendConformance
from scaffold.recorder import read_events
from tests.helpers import spec_dict
from tui import Dashboard, FeedBatch

PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "plugins" / "scaffold-keyword-memory"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target), str(PLUGIN)],
                   check=True)
    return target


def run(cmd: list[str], site: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.getcwd()])}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)


def test_plugin_listed_without_import(plugin_site: Path) -> None:
    result = run([sys.executable, "-m", "scaffold.cli", "plugins", "memory"], plugin_site)
    assert result.returncode == 0, result.stderr
    assert "keyword" in result.stdout and "scaffold-keyword-memory" in result.stdout


def test_plugin_passes_conformance_suite(plugin_site: Path) -> None:
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  str(PLUGIN / "tests")], plugin_site, cwd=PLUGIN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{suite_size()} passed" in result.stdout


def suite_size() -> int:
    """Tests in the conformance suite, parametrized cases counted."""
    size = 0
    for name, test in vars(MemoryBackendConformance).items():
        if name.startswith("test_"):
            marks = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
            size += math.prod(len(m.args[1]) for m in marks)
    return size


def _plugin_config(tmp_path: Path, keyword_options: dict[str, Any]) -> Path:
    data = spec_dict(out=str(tmp_path / "runs"), steps=6)
    data["task"] = {"turns": ["Tell me about President Kennedy's morning.",
                              "What do you miss about Boston?"]}
    data["agents"][0]["memory"] = {"condition": "keyword", "budget_tokens": 400,
                                   "options": {"keyword": keyword_options}}
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def test_plugin_usable_by_name_in_a_config(plugin_site: Path, tmp_path: Path) -> None:
    config = _plugin_config(tmp_path, {"keywords": ["Kennedy", "Boston"], "max_pinned": 2})
    result = run([sys.executable, "-m", "scaffold.cli", "run", str(config)], plugin_site)
    assert result.returncode == 0, result.stderr
    run_dir = next((tmp_path / "runs").glob("*/*"))
    memory = [e for e in read_events(run_dir / "events.jsonl") if e.type == "memory"]
    assert {"insert", "unpin"} <= {e.kind for e in memory if e.backend == "keyword"}
    # the settings arrived: max_pinned 2 means every pin past the second unpins one
    unpins = [e for e in memory if e.kind == "unpin"]
    assert unpins and all(e.detail == {"kept": 2} for e in unpins)
    # the plugin's own kind shows in the TUI's state and in the report's figures
    board = Dashboard()
    board.feed(FeedBatch(run_dir, read_events(run_dir / "events.jsonl")))
    [agent] = board.agents.values()
    assert agent.other["unpin"] == (unpins[-1].step, "keyword", unpins[-1].text)
    assert any(m.kind == "unpin" for m in agent.markers)
    report = run([sys.executable, "-m", "scaffold.cli", "report", str(run_dir)], plugin_site)
    assert report.returncode == 0, report.stderr
    assert "unpin*" in (run_dir / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("options,words", [
    ({"keywords": ["Kennedy"], "bogus": 1}, "unexpected keyword argument 'bogus'"),
    ({"keywords": "Kennedy"}, "keywords must be a list of words"),
    ({"max_pinned": 0}, "max_pinned must be at least 1"),
])
def test_plugin_settings_errors_name_the_field(plugin_site: Path, tmp_path: Path,
                                               options: dict[str, Any], words: str) -> None:
    config = _plugin_config(tmp_path, options)
    result = run([sys.executable, "-m", "scaffold.cli", "run", str(config)], plugin_site)
    assert result.returncode != 0
    assert "memory.options.keyword: " in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_plugin_gives_clear_error(tmp_path: Path) -> None:
    dist = tmp_path / "broken_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        '[scaffold.plugins]\nmemory.broken = no_such_module_xyz:factory\n')
    data = spec_dict(out=str(tmp_path / "runs"), steps=2)
    data["agents"][0]["memory"] = "broken"
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = run([sys.executable, "-m", "scaffold.cli", "run", str(config)], tmp_path)
    assert result.returncode != 0
    assert "failed to load" in result.stderr and "Traceback" not in result.stderr


def test_failed_plugin_leaves_run_dir_consistent(tmp_path: Path) -> None:
    test_broken_plugin_gives_clear_error(tmp_path)
    run_dir = next((tmp_path / "runs").glob("*/*"))
    manifest = yaml.safe_load((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "failed to load" in manifest["error"]
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    assert '"run_start"' in lines[0] and '"run_end"' in lines[-1]
