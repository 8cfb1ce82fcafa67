"""The command line: clear errors and exit codes, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import spec_dict, write_config
from typer.testing import CliRunner

from scaffold.cli import app

runner = CliRunner()


def test_validate_ok(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(write_config(tmp_path, spec_dict()))])
    assert result.exit_code == 0 and result.stdout.strip() == "ok"


def test_validate_unknown_field_exit_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, spec_dict(stepz=3))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "stepz: unknown field" in result.output
    assert "Traceback" not in result.output


def test_invalid_yaml_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nsteps: [1, 2\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "invalid YAML" in result.output and "line" in result.output


def test_missing_file_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "file not found" in result.output


def test_run_invalid_file_writes_nothing(tmp_path: Path) -> None:
    data = spec_dict(out=str(tmp_path / "runs"))
    data["agents"][0]["memory"]["summary"]["threshold"] = 2
    path = write_config(tmp_path, data)
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert "agents[0].memory.summary.threshold: must be in (0, 1]" in result.output
    assert not (tmp_path / "runs").exists()


def test_run_bad_override_exit_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, spec_dict(out=str(tmp_path / "runs")))
    result = runner.invoke(app, ["run", str(path), "--steps", "0"])
    assert result.exit_code == 2 and "steps" in result.output


def test_console_script_shows_no_traceback(tmp_path: Path) -> None:
    path = write_config(tmp_path, spec_dict(steps=-1))
    proc = subprocess.run([sys.executable, "-m", "scaffold.cli", "validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "steps:" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


def test_run_scripted_end_to_end(tmp_path: Path) -> None:
    path = write_config(tmp_path, spec_dict(out=str(tmp_path / "runs"), steps=6))
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert "summaries" in result.output
    run_dirs = list((tmp_path / "runs" / "test-jfk").iterdir())
    assert len(run_dirs) == 1
    names = {p.name for p in run_dirs[0].iterdir()}
    assert {"manifest.json", "events.jsonl", "cassette.jsonl"} <= names


def test_plugins_lists_builtins() -> None:
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0
    for name in ("summary", "window", "conversation", "rules", "scripted", "local"):
        assert name in result.stdout
