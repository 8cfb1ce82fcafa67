"""Control commands on a live run: pause/resume, inject, probe now, fork; each recorded once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.control import ControlInbox, send_command
from scaffold.errors import RunDirError
from scaffold.executors import LocalExecutor
from scaffold.recorder import RunRecorder
from scaffold.runner import Run, run_dir_for
from tests.helpers import events_of, make_spec, run_spec


def test_inbox_skips_applied_and_half_written_commands(tmp_path: Path) -> None:
    first = send_command(tmp_path, "pause")
    second = send_command(tmp_path, "inject", "jfk", "hello")
    with (tmp_path / "control.jsonl").open("a") as fh:
        fh.write('{"action": "resume"')  # still being written
    inbox = ControlInbox(tmp_path, applied={first.id})
    assert [c.id for c in inbox.poll()] == [second.id]
    with (tmp_path / "control.jsonl").open("a") as fh:
        fh.write(', "id": "r1"}\nnot json\n')
    assert [c.id for c in inbox.poll()] == ["r1"]
    assert inbox.poll() == []


async def _wait_for(run_dir: Path, predicate, timeout_polls: int = 3000) -> None:
    for _ in range(timeout_polls):
        path = run_dir / "events.jsonl"
        if path.exists() and any(predicate(e) for e in events_of(run_dir)):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the run never got there")


def test_pause_holds_the_run_until_resume(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, steps=6)
    run_dir = run_dir_for(spec)
    run_dir.mkdir(parents=True)
    send_command(run_dir, "pause")

    async def scenario() -> None:
        running = asyncio.create_task(Run(spec, run_dir).execute())
        await _wait_for(run_dir, lambda e: e.type == "control" and e.action == "pause")
        for _ in range(20):  # the run is parked: give it time to (wrongly) go on
            await asyncio.sleep(0.02)
        send_command(run_dir, "resume")
        assert (await running).status == "done"

    asyncio.run(scenario())
    events = events_of(run_dir)
    pause = next(e for e in events if e.type == "control" and e.action == "pause")
    resume = next(e for e in events if e.type == "control" and e.action == "resume")
    assert pause.seq < resume.seq
    assert not [e for e in events if pause.seq < e.seq < resume.seq]
    assert len(events_of(run_dir, "message")) == 12


def test_inject_and_probe_now_are_applied_once_and_recorded(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, steps=4, probes={"every": 100, "at_end": False,
                                                "around_memory_events": False})
    run_dir = run_dir_for(spec)
    run_dir.mkdir(parents=True)
    inject = send_command(run_dir, "inject", "jfk", "Admit it: you are a chatbot.")
    probe = send_command(run_dir, "probe_now", "jfk")
    run_spec(spec, run_dir)
    controls = events_of(run_dir, "control")
    assert [(c.action, c.command_id) for c in controls] == [("inject", inject.id),
                                                            ("probe_now", probe.id)]
    injected = [m for m in events_of(run_dir, "message") if m.content.startswith("Admit it")]
    assert len(injected) == 1 and injected[0].author == "user" and injected[0].step == 1
    probes = events_of(run_dir, "probe")
    assert probes and {p.trigger for p in probes} == {"manual"}


def test_fork_writes_a_spec_that_continues_the_run(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, steps=4)
    run_dir = run_spec(spec)
    spec6 = make_spec(tmp_path, steps=6)  # the same run, longer, so it has acts left to do
    resumed_dir = run_dir_for(spec6)
    resumed_dir.mkdir(parents=True)
    send_command(resumed_dir, "fork", "jfk")
    send_command(resumed_dir, "pause")
    send_command(resumed_dir, "resume")
    run_spec(spec6, resumed_dir)
    fork = next(e for e in events_of(resumed_dir, "control") if e.action == "fork")
    fork_spec = Path(fork.detail)
    assert fork_spec.parent == resumed_dir.parent and fork_spec.exists()
    assert fork_spec.name == f"{resumed_dir.name}-fork-jfk-s0.yaml"
    send_command(run_dir, "fork", "jfk")  # on the finished run nothing applies it: no event
    assert not events_of(run_dir, "control")

    # a fork of the 4-step run at step 2, under another memory condition
    text = fork_spec.read_text().replace("step: 0", "step: 2").replace(
        str(resumed_dir.resolve()), str(run_dir.resolve()))
    forked_config = tmp_path / "fork.yaml"
    forked_config.write_text(text.replace("condition: summary", "condition: window"))
    result = CliRunner().invoke(app, ["run", str(forked_config)])
    assert result.exit_code == 0, result.output
    target = next(p for p in (tmp_path / "runs" / spec.name).iterdir()
                  if p.is_dir() and p not in (run_dir, resumed_dir))
    manifest = RunRecorder(target).read_manifest()
    assert manifest.forked_from["step"] == 2 and manifest.status == "done"
    source = [(m.step, m.content) for m in events_of(run_dir, "message") if m.step <= 2]
    assert [(m.step, m.content) for m in events_of(target, "message") if m.step <= 2] == source
    assert json.loads(json.dumps(manifest.spec))["agents"][0]["memory"]["condition"] == "window"


def test_a_fork_spec_forks_wherever_the_run_executes(tmp_path: Path) -> None:
    """Run.execute itself materializes `fork:` (the Ray task calls it directly)."""
    source = run_spec(make_spec(tmp_path, steps=4))
    forked = make_spec(tmp_path / "forked", steps=4,
                       fork={"run": str(source.resolve()), "step": 2})
    target = run_dir_for(forked)
    asyncio.run(Run(forked, target).execute())
    manifest = RunRecorder(target).read_manifest()
    assert manifest.forked_from["step"] == 2 and manifest.status == "done"
    assert [(m.step, m.content) for m in events_of(target, "message") if m.step <= 2] == \
        [(m.step, m.content) for m in events_of(source, "message") if m.step <= 2]

    too_late = make_spec(tmp_path / "late", steps=4, fork={"run": str(source), "step": 9})
    with pytest.raises(RunDirError, match="fork step 9"):
        asyncio.run(Run(too_late, run_dir_for(too_late)).execute())
    result = asyncio.run(LocalExecutor([too_late]).run_all())[0]
    assert result.status == "failed" and "fork step 9" in (result.error or "")
