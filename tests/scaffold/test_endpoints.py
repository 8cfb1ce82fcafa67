"""Model endpoints: a remote model answered by the server the config names, keys from the
environment only, and never a provider key forwarded to a server that did not ask for it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaffold.config import ExperimentSpec
from scaffold.runner import run_id_for
from tests.helpers import events_of, make_spec, run_spec
from tests.helpers.fault_server import FaultServer

OPENAI_KEY = "sk-real-looking-openai-key-1f2e3d"
SERVER_KEY = "llama-box-passphrase-93b1"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    """A healthy loopback server; litellm's own OpenAI settings point elsewhere."""
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    with FaultServer(fault_rate=0.0) as srv:
        yield srv


def _spec(tmp_path: Path, endpoints: dict[str, object]) -> ExperimentSpec:
    return make_spec(tmp_path, model="openai/served-model", steps=3, endpoints=endpoints,
                     probes={"every": 3, "around_memory_events": False},
                     retry={"attempts": 2, "initial_wait_s": 0.01, "timeout_s": 5})


def _written(run_dir: Path) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace")
                   for p in run_dir.rglob("*") if p.is_file() and p.suffix != ".sqlite")


def test_a_model_goes_to_its_endpoint_with_the_key_its_variable_holds(
        tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_BOX_PASS", SERVER_KEY)  # a name that does not look secret
    spec = _spec(tmp_path, {"openai/served-model": {"api_base": server.base_url,
                                                   "api_key_env": "LLAMA_BOX_PASS"}})

    run_dir = run_spec(spec)

    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "done"
    assert server.authorizations == {f"Bearer {SERVER_KEY}"}
    assert server.requests == len(events_of(run_dir, "model_call")) >= 3
    written = _written(run_dir)
    assert SERVER_KEY not in written and OPENAI_KEY not in written
    assert server.base_url in written  # the manifest says where the model was served


def test_an_endpoint_without_a_key_never_receives_the_providers_key(
        tmp_path: Path, server: FaultServer) -> None:
    run_dir = run_spec(_spec(tmp_path, {"openai": {"api_base": server.base_url}}))

    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "done"
    assert server.authorizations == {"Bearer no-key"}


def test_a_missing_key_variable_fails_the_run_with_its_name(tmp_path: Path,
                                                            server: FaultServer) -> None:
    spec = _spec(tmp_path, {"openai/served-model": {"api_base": server.base_url,
                                                   "api_key_env": "UNSET_BOX_KEY"}})

    run_dir = run_spec(spec)

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert "UNSET_BOX_KEY is not set" in manifest["error"]
    assert server.requests == 0


def test_moving_a_model_to_another_server_keeps_the_run_id(tmp_path: Path) -> None:
    a = _spec(tmp_path, {"openai": {"api_base": "http://gpu-a:8000/v1"}})
    b = _spec(tmp_path, {"openai": {"api_base": "http://gpu-b:8000/v1"}})
    assert run_id_for(a) == run_id_for(b)
