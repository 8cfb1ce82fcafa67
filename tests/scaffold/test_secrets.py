"""API keys never reach a run directory, an event, a cassette or an error shown to the user."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.redact import redact
from tests.helpers import make_spec, run_spec

FAKE_KEY = "sk-test-FAKE0123456789abcdefSECRET"


def test_fake_key_in_environment_never_written(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    script = tmp_path / "down.yaml"
    script.write_text("fail_first: 2\n", encoding="utf-8")
    spec = make_spec(tmp_path, model=f"scripted/{script}", steps=3,
                     retry={"attempts": 3, "initial_wait_s": 0.0, "max_wait_s": 0.0})
    run_dir = run_spec(spec)
    written = [p for p in run_dir.rglob("*") if p.is_file()]
    assert written
    for path in written:
        assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_redact_masks_env_secrets_and_key_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890-abcdef")
    text = f"auth failed for tok-1234567890-abcdef and {FAKE_KEY} and sk-ant-abcdefghijklmnop"
    cleaned = redact(text)
    assert "tok-1234567890-abcdef" not in cleaned and FAKE_KEY not in cleaned
    assert "sk-ant-abcdefghijklmnop" not in cleaned and cleaned.count("***") == 3


def test_env_file_supplies_keys_without_overriding(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from scaffold.cli import load_env_file

    env = tmp_path / ".env"
    env.write_text("SCAFFOLD_TEST_KEY_A=from-file\nSCAFFOLD_TEST_KEY_B=from-file\n")
    monkeypatch.setenv("SCAFFOLD_TEST_KEY_B", "from-environment")
    monkeypatch.delenv("SCAFFOLD_TEST_KEY_A", raising=False)
    load_env_file(env)
    import os

    assert os.environ["SCAFFOLD_TEST_KEY_A"] == "from-file"
    assert os.environ["SCAFFOLD_TEST_KEY_B"] == "from-environment"
    monkeypatch.delenv("SCAFFOLD_TEST_KEY_A")
