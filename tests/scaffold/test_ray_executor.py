"""The Ray executor runs the same runs as Ray tasks and writes the same run directories."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from tests.helpers import make_spec, message_view, run_spec, spec_dict, write_config

pytest.importorskip("ray", reason="Ray is not installed (pip install 'scaffold-persona[ray]')")


@pytest.mark.slow
def test_ray_runs_match_local(tmp_path: Path) -> None:
    data = spec_dict(out=str(tmp_path / "ray"), steps=4, sweep={"seed": [0, 1]})
    result = CliRunner().invoke(app, ["run", str(write_config(tmp_path, data)),
                                      "--executor", "ray"])
    assert result.exit_code == 0, result.output
    ray_dirs = sorted((tmp_path / "ray" / "test-jfk").iterdir())
    assert len(ray_dirs) == 2
    for seed, ray_dir in zip((0, 1), ray_dirs):
        local = run_spec(make_spec(tmp_path / f"local{seed}", steps=4, seed=seed))
        assert local.name == ray_dir.name
        assert message_view(ray_dir) == message_view(local)
