"""API keys never reach a run directory, an event, a cassette or an error shown to the user."""

from __future__ import annotations

import json
import shutil
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


SERVER_KEY = "llama-box-passphrase-93b1"
OPENAI_KEY = "sk-real-looking-openai-key-1f2e3d"


def _all_bytes(run_dir: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


def _assert_clean(run_dir: Path, key: str) -> None:
    files = _all_bytes(run_dir)
    names = {p.name for p in files}
    assert {"events.jsonl", "cassette.jsonl", "checkpoints.sqlite", "manifest.json"} <= names
    leaking = [p for p, data in files.items() if key.encode() in data]
    assert leaking == []


def test_a_key_echoed_in_model_output_is_masked_in_everything_a_run_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server puts the client's key in every reply: replies, probe answers and summaries
    carry a mask instead, in the event log, cassette, checkpoints, manifest, reports and
    Parquet files, and a replay of the cassette still matches (same masked text)."""
    from scaffold.report import export_parquet, write_report
    from tests.helpers import events_of
    from tests.helpers.fault_server import REPLY, FaultServer

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LLAMA_BOX_PASS", SERVER_KEY)  # a name that does not look secret
    with FaultServer(fault_rate=0.0, echo_key=True) as server:
        endpoint = {"api_base": server.base_url, "api_key_env": "LLAMA_BOX_PASS"}
        spec = make_spec(tmp_path, model="openai/served-model", steps=6,
                         endpoints={"openai": endpoint},
                         probes={"every": 2, "around_memory_events": False},
                         retry={"attempts": 2, "initial_wait_s": 0.01, "timeout_s": 5})
        run_dir = run_spec(spec)
    replayed = run_spec(spec, run_dir=tmp_path / "replayed", replay_from=run_dir)
    assert server.authorizations == {f"Bearer {SERVER_KEY}"}
    for directory in (run_dir, replayed):
        assert json.loads((directory / "manifest.json").read_text())["status"] == "done"
        export_parquet(directory)
        write_report(directory, "md")
        write_report(directory, "html")
        assert {"events.parquet", "scores.parquet", "report.md", "report.html"} <= {
            p.name for p in directory.iterdir()}
        _assert_clean(directory, SERVER_KEY)
    legacy = tmp_path / "legacy"  # a run recorded before keys were masked
    shutil.copytree(run_dir, legacy)
    for name in ("events.jsonl", "manifest.json"):
        path = legacy / name
        path.write_text(path.read_text().replace("***", SERVER_KEY))
    written = [*export_parquet(legacy), *write_report(legacy, "md"), *write_report(legacy, "html")]
    assert [p for p in written if SERVER_KEY.encode() in p.read_bytes()] == []
    replies = [e.content for e in events_of(run_dir, "message") if e.role == "assistant"]
    assert replies and all(r.startswith(REPLY) and "Your key is ***" in r for r in replies)
    assert [e.content for e in events_of(replayed, "message") if e.role == "assistant"] == replies
    answers = [e.answer for e in events_of(run_dir, "probe")]
    assert answers and all("***" in a for a in answers)
    summaries = [e.text for e in events_of(run_dir, "memory") if e.kind == "summarize"]
    assert summaries and all("***" in text for text in summaries)


def test_model_output_is_masked_at_the_client_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from scaffold.models.client import _response_fields

    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    call = {"id": "c1", "type": "function",
            "function": {"name": "note", "arguments": json.dumps({"text": OPENAI_KEY})}}
    message = SimpleNamespace(content=f"the key is {OPENAI_KEY}; sk-madeup-0000000000 is not",
                              tool_calls=[call])
    response = SimpleNamespace(choices=[SimpleNamespace(message=message, finish_reason="stop")],
                               usage=None)
    fields = _response_fields(response)
    assert fields.content == "the key is ***; sk-madeup-0000000000 is not"  # known keys only
    assert OPENAI_KEY not in json.dumps(fields.tool_calls)
    assert json.loads(fields.tool_calls[0]["function"]["arguments"]) == {"text": "***"}


def test_every_sink_masks_keys_from_any_source(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys that reach a run by another road than model output (a tool's output, a persona
    text) are masked by the event log, the manifest, the cassette and the checkpoint saver."""
    import time

    from scaffold.checkpoints import InlineSqliteSaver
    from scaffold.events import MessageEvent
    from scaffold.models.cassette import CassetteEntry, CassetteResponse, CassetteWriter
    from scaffold.recorder import RunManifest, RunRecorder, read_events

    monkeypatch.setenv("HF_TOKEN", "hf-secret-value-77aa")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Jane Researcher")  # not a secret
    text = 'tool said hf-secret-value-77aa "quoted" by Jane Researcher'
    recorder = RunRecorder(tmp_path)
    recorder.open()
    recorder.write(MessageEvent(seq=1, run_id="r", step=1, ts=time.time(), message_id="m",
                                role="tool", content=text, author="tool"))
    recorder.close()
    recorder.write_manifest(RunManifest(run_id="r", experiment="e", seed=0,
                                        spec={"persona": text}))
    [event] = read_events(recorder.events_path)
    assert event.content == 'tool said *** "quoted" by Jane Researcher'
    writer = CassetteWriter(recorder.cassette_path)
    writer.append(CassetteEntry(hash="h" * 64, model="m", purpose="agent",
                                messages=[{"role": "tool", "content": text}], params={},
                                response=CassetteResponse(content=text)))
    writer.close()
    with InlineSqliteSaver.open(recorder.checkpoint_path) as saver:
        config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
        checkpoint = {"v": 1, "id": "1", "ts": "now", "versions_seen": {},
                      "channel_versions": {}, "channel_values": {"last_reply": text}}
        saved = saver.put(config, checkpoint, {}, {})
        restored = saver.get_tuple(saved)
    assert restored is not None
    assert restored.checkpoint["channel_values"]["last_reply"] == event.content
    for path in tmp_path.iterdir():
        assert b"hf-secret-value-77aa" not in path.read_bytes(), path
    assert "Jane Researcher" in recorder.manifest_path.read_text()


def test_known_keys_follow_every_change_to_the_environment(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    # secret_values is memoized on the environment: a key set, changed, removed or declared
    # after an earlier call must be masked (or no longer masked) at once
    from scaffold.redact import redact_known, treat_as_secret

    monkeypatch.delenv("SCAFFOLD_TEST_API_KEY", raising=False)
    assert redact_known("value sk-first-1234567") == "value sk-first-1234567"
    monkeypatch.setenv("SCAFFOLD_TEST_API_KEY", "sk-first-1234567")
    assert redact_known("value sk-first-1234567") == "value ***"
    monkeypatch.setenv("SCAFFOLD_TEST_API_KEY", "sk-second-7654321")
    assert redact_known("sk-first-1234567 sk-second-7654321") == "sk-first-1234567 ***"
    monkeypatch.delenv("SCAFFOLD_TEST_API_KEY")
    assert redact_known("sk-second-7654321") == "sk-second-7654321"
    monkeypatch.setenv("SCAFFOLD_PLAIN_NAME", "opaque-credential-value")
    assert redact_known("opaque-credential-value") == "opaque-credential-value"
    treat_as_secret("SCAFFOLD_PLAIN_NAME")
    assert redact_known("opaque-credential-value") == "***"
