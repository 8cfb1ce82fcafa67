"""`scaffold tui`: bad input is refused before the screen starts, like `scaffold run`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from tests.helpers import spec_dict, write_config

runner = CliRunner()


@pytest.mark.parametrize("args, message", [
    ([], "give an experiment file to run, or --attach DIR"),
    (["x.yaml", "--attach", "."], "give an experiment file to run, or --attach DIR"),
    (["--attach", "/no/such/dir"], "no such directory"),
])
def test_needs_exactly_one_of_config_and_attach(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["tui", *args])
    assert result.exit_code == 2 and message in result.output


def test_config_errors_exit_2_with_the_field_named(tmp_path: Path) -> None:
    config = write_config(tmp_path, spec_dict(stepz=3))
    result = runner.invoke(app, ["tui", str(config)])
    assert result.exit_code == 2
    assert "stepz: unknown field" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["tui", str(write_config(tmp_path, spec_dict())),
                                 "--memory", "no-such-memory"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_the_command_does_not_import_textual_until_it_runs() -> None:
    code = ("import sys, scaffold.cli; from typer.testing import CliRunner; "
            "CliRunner().invoke(scaffold.cli.app, ['tui']); "
            "assert 'textual' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
