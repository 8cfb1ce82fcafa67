"""A third-party backend installed as a package is found by entry point and usable by name."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from memory.testing import MemoryBackendConformance
from tests.helpers import spec_dict

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


def test_plugin_usable_by_name_in_a_config(plugin_site: Path, tmp_path: Path) -> None:
    data = spec_dict(out=str(tmp_path / "runs"), steps=4)
    data["agents"][0]["memory"] = {"condition": "keyword", "budget_tokens": 400,
                                   "options": {"keyword": {"keywords": ["Kennedy"]}}}
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = run([sys.executable, "-m", "scaffold.cli", "run", str(config)], plugin_site)
    assert result.returncode == 0, result.stderr
    events = next((tmp_path / "runs").glob("*/*/events.jsonl")).read_text()
    assert '"backend":"keyword"' in events


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
