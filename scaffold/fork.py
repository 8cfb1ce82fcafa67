"""Forks: continue a run from step N's checkpoint under changed settings (same history to N)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from scaffold import registry
from scaffold.checkpoints import InlineSqliteSaver
from scaffold.config import ExperimentSpec, parse_experiment
from scaffold.config._settings import apply_settings
from scaffold.errors import RunDirError
from scaffold.models.cassette import load_cassette
from scaffold.recorder import EVENTS_FILE, RunManifest, RunRecorder, read_events


def fork_dir(source: Path, out: Path, spec: ExperimentSpec, step: int, sets: list[str]) -> Path:
    """<out>/<experiment>/<source run id>-fork<N>-<settings>"""
    label = re.sub(r"[^A-Za-z0-9_.+-]+", "-", "-".join(sets)).strip("-")[:40] or "same"
    return out / spec.name / f"{source.name}-fork{step}-{label}"


def _source(source: Path) -> tuple[RunManifest, dict[str, Any]]:
    manifest = RunRecorder(source).read_manifest()
    if manifest is None:
        raise RunDirError(f"{source}: no manifest.json; not a scaffold run directory")
    return manifest, json.loads(json.dumps(manifest.spec))


async def _state_at(source: Path, agent_id: str, step: int) -> dict[str, Any] | None:
    """The state of `agent_id` after its last completed act at or before `step` (in a room or
    a self-chat an agent does not act every step); None when it had not acted yet."""
    if step == 0:
        return None
    with InlineSqliteSaver.open(source / "checkpoints.sqlite") as saver:
        graph = registry.get("agent", "persona")(saver)
        async for snap in graph.aget_state_history({"configurable": {"thread_id": agent_id}}):
            if not snap.next and 0 < int(snap.values.get("step", 0)) <= step:
                return dict(snap.values)
    return None


async def prepare_fork(source: Path, step: int, sets: list[str], out: Path) -> tuple[
        ExperimentSpec, Path]:
    """Create the fork's run directory: history through step N, checkpoint, manifest.

    Raises:
        RunDirError: the source is not a run, or has no checkpoint at that step.
        ConfigError: the settings make the spec invalid.
    """
    manifest, data = _source(source)
    if not 0 <= step <= manifest.steps_done:
        raise RunDirError(f"--at-step {step}: {source} has completed steps 0..{manifest.steps_done}")
    data["out"] = str(out)
    data.pop("fork", None)
    spec = parse_experiment(apply_settings(data, sets), "--set")
    target = fork_dir(source, out, spec, step, sets)
    if not target.exists():  # else: an earlier fork attempt, resumed by running it
        await materialize_fork(source, spec, step, target, sets)
    return spec, target


async def materialize_fork(source: Path, spec: ExperimentSpec, step: int, target: Path,
                           sets: list[str] | None = None) -> None:
    """Write `target` as a run of `spec` that continues `source` after `step`: the source's
    events and cassette through that step, each agent's step-N checkpoint, and a manifest.

    Raises:
        RunDirError: the source is not a run, or has no checkpoint at that step.
    """
    manifest, _ = _source(source)
    if not 0 <= step <= manifest.steps_done:
        raise RunDirError(f"fork step {step}: {source} has completed steps "
                          f"0..{manifest.steps_done}")
    states = {a.id: await _state_at(source, a.id, step) for a in spec.agents}
    seq = max((s.get("seq", 0) for s in states.values() if s), default=0)
    _copy_history(source, target, seq)
    await _write_checkpoints(target, states)
    recorder = RunRecorder(target)
    recorder.write_manifest(RunManifest(
        run_id=target.name, experiment=spec.name, seed=spec.seed,
        spec=spec.model_dump(mode="json"), versions=manifest.versions, steps_done=step,
        forked_from={"run_dir": str(source), "step": step, "set": list(sets or [])}))


def _copy_history(source: Path, target: Path, seq: int) -> None:
    target.mkdir(parents=True)
    with (target / EVENTS_FILE).open("w", encoding="utf-8") as fh:
        for event in read_events(source / EVENTS_FILE):
            if event.seq > seq:
                break
            fh.write(event.model_copy(update={"run_id": target.name}).model_dump_json() + "\n")
    with (target / "cassette.jsonl").open("w", encoding="utf-8") as fh:
        for entry in load_cassette(source / "cassette.jsonl"):
            if entry.seq <= seq:
                fh.write(entry.model_dump_json() + "\n")


async def _write_checkpoints(target: Path, states: dict[str, dict[str, Any] | None]) -> None:
    with InlineSqliteSaver.open(target / "checkpoints.sqlite") as saver:
        graph = registry.get("agent", "persona")(saver)
        for agent_id, values in states.items():
            if values:
                values = {k: v for k, v in values.items() if k != "pending"}
                await graph.aupdate_state({"configurable": {"thread_id": agent_id}}, values,
                                          as_node="track")
