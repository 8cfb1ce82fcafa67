"""Runs against a flaky OpenAI-compatible API: faults are retried and recorded, no call is lost."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scaffold.config import ExperimentSpec, RetrySpec
from tests.helpers import events_of, make_spec, run_spec, spec_dict
from tests.helpers.fault_server import FaultServer

FAKE_KEY = "sk-test-fake-7c1e5a90d2b4"
STEPS = 6
RETRY = {"attempts": 8, "initial_wait_s": 0.01, "max_wait_s": 0.05, "timeout_s": 0.5}
"""Short client timeout so `timeout` faults (the server stalls 0.75 s) cost little."""

ServeAPI = Callable[..., FaultServer]


@pytest.fixture
def serve_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServeAPI]:
    """Start a fault server and point litellm's `openai/` provider at it (latest one wins)."""
    servers: list[FaultServer] = []

    def start(**options: Any) -> FaultServer:
        server = FaultServer(timeout_sleep_s=0.75, **options).start()
        servers.append(server)
        # litellm 1.110 reads OPENAI_BASE_URL, then OPENAI_API_BASE, for openai/ models.
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
        return server

    yield start
    for server in servers:
        server.stop()


def _spec(tmp_path: Path, steps: int = STEPS) -> ExperimentSpec:
    agents = spec_dict()["agents"]
    agents[0]["memory"].update(budget_tokens=200,
                               summary={"threshold": 0.75, "keep_last": 2, "max_tokens": 48})
    return make_spec(tmp_path, model="openai/fake-model", steps=steps, agents=agents,
                     retry=RETRY, probes={"every": 2, "around_memory_events": False,
                                          "scorers": ["rules", "break"]})


def _manifest(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def _error_class(retry: Any) -> str:
    return retry.error.split(":", 1)[0]


def test_faults_are_retried_and_recorded_and_no_call_is_lost(tmp_path: Path,
                                                             serve_api: ServeAPI) -> None:
    server = serve_api(fault_rate=0.2, seed=0)

    run_dir = run_spec(_spec(tmp_path))

    assert _manifest(run_dir)["status"] == "done"
    assert set(server.faults) == {"rate_limit", "server_error", "timeout", "truncated"}
    calls, retries = events_of(run_dir, "model_call"), events_of(run_dir, "model_retry")
    # One retry event per fault, and no retries hidden inside litellm or the openai SDK.
    assert len(retries) == sum(server.faults.values())
    assert sum(c.attempts - 1 for c in calls) == len(retries)
    assert server.requests == sum(c.attempts for c in calls)
    by_class = Counter(_error_class(r) for r in retries)
    assert by_class == {"RateLimitError": server.faults["rate_limit"],
                        "Timeout": server.faults["timeout"],
                        "InternalServerError": server.faults["server_error"]
                        + server.faults["truncated"]}
    assert {c.purpose for c in calls} >= {"agent", "probe", "summarizer"}
    assert sorted(c.step for c in calls if c.purpose == "agent") == list(range(1, STEPS + 1))
    replies = [m for m in events_of(run_dir, "message") if m.role == "assistant"]
    assert sorted(m.step for m in replies) == list(range(1, STEPS + 1))
    assert all("Kennedy" in m.content for m in replies)


def test_persistent_outage_fails_the_run_and_a_rerun_resumes_it(tmp_path: Path,
                                                                serve_api: ServeAPI) -> None:
    spec = _spec(tmp_path)
    down = serve_api(fault_rate=1.0, kinds=["server_error"])

    run_dir = run_spec(spec)

    manifest = _manifest(run_dir)
    assert manifest["status"] == "failed"
    assert "InternalServerError" in manifest["error"]
    assert f"after {RETRY['attempts']} attempts" in manifest["error"]
    assert down.requests == RETRY["attempts"]
    last = events_of(run_dir)[-1]
    assert (last.type, last.status) == ("run_end", "failed")
    assert last.reason == manifest["error"]

    down.stop()
    serve_api(fault_rate=0.0)
    assert run_spec(spec) == run_dir

    manifest = _manifest(run_dir)
    assert manifest["status"] == "done" and manifest["resumes"] == 1
    assert [f["status"] for f in manifest["failures"]] == ["failed"]
    starts = events_of(run_dir, "run_start")
    assert [s.resumed for s in starts] == [False, True]
    assert starts[1].previous_failure == manifest["failures"][0]["error"]
    agent_steps = [c.step for c in events_of(run_dir, "model_call") if c.purpose == "agent"]
    assert sorted(agent_steps) == list(range(1, STEPS + 1))


def test_api_key_never_reaches_the_run_directory(tmp_path: Path, serve_api: ServeAPI) -> None:
    server = serve_api(fault_rate=0.2, seed=1)

    run_dir = run_spec(_spec(tmp_path, steps=2))

    assert server.authorizations == {f"Bearer {FAKE_KEY}"}  # the key was really in use
    assert events_of(run_dir, "model_retry")
    written = [p for p in run_dir.rglob("*") if p.is_file()]
    assert written
    for path in written:
        assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_a_rate_limit_waits_as_long_as_the_server_asks(tmp_path: Path,
                                                       serve_api: ServeAPI) -> None:
    serve_api(fault_rate=0.3, kinds=["rate_limit"], retry_after="0.25")
    spec = _spec(tmp_path, steps=2).model_copy(update={"retry": RetrySpec(
        attempts=8, initial_wait_s=0.01, max_wait_s=2.0, timeout_s=5)})

    run_dir = run_spec(spec)

    waits = [r.wait_s for r in events_of(run_dir, "model_retry")]
    assert waits and all(0.25 <= w <= 2.0 for w in waits)  # not the 10-40 ms backoff


def test_the_server_wait_is_capped_by_max_wait(tmp_path: Path, serve_api: ServeAPI) -> None:
    serve_api(fault_rate=0.3, kinds=["rate_limit"], retry_after="3600")

    run_dir = run_spec(_spec(tmp_path, steps=2))

    waits = [r.wait_s for r in events_of(run_dir, "model_retry")]
    assert waits and max(waits) <= RETRY["max_wait_s"]


def test_retry_after_forms() -> None:
    from scaffold.models.client import retry_after_s

    class Limited(Exception):
        def __init__(self, headers: dict[str, str]):
            self.headers = headers

    assert retry_after_s(Limited({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    assert retry_after_s(Limited({"retry-after-ms": "0", "retry-after": "9"})) == 0.0
    assert retry_after_s(Limited({"retry-after": "2"})) == 2.0
    assert retry_after_s(Limited({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after_s(Limited({"retry-after": "soon"})) is None
    assert retry_after_s(ValueError("no headers")) is None and retry_after_s(None) is None
