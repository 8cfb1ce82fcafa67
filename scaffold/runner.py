"""Runs one experiment run: the step loop, checkpoints, resume, replay and the run directory."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scaffold import registry
from scaffold.assembly import build_agent, build_task, build_trackers
from scaffold.bus import EventBus
from scaffold.config import ActivationSpec, ExperimentSpec, sampling_record
from scaffold.control_runner import RunControls
from scaffold.errors import CassetteMiss, RunDirError, ScaffoldError
from scaffold.events import Event, MemoryEvent, MessageEvent, RunEnd, RunStart, TrackerErrorEvent
from scaffold.messages import Message
from scaffold.models import CassetteReader, CassetteWriter, ModelClient, truncate_cassette
from scaffold.recorder import RunManifest, RunRecorder, Status, package_versions, read_events
from scaffold.redact import redact
from scaffold.runtime import AgentRuntime
from scaffold.trackers.base import TrackerSet

if TYPE_CHECKING:
    from scaffold.checkpoints import InlineSqliteSaver
    from scaffold.limits import ModelLimits
    from scaffold.tasks.base import Task

StepCallback = Callable[[int, int], None]
log = logging.getLogger(__name__)
KV_DIR = "kv"
"""Folder of a run directory holding the embedded model's KV states for exact resume
(`models/_kv_files.py`); deleted when the run is done."""


@dataclass
class RunResult:
    """Where a run was written and how it ended."""

    run_dir: Path
    status: str
    skipped: bool = False
    error: str | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:48] or "x"


def spec_digest(spec: ExperimentSpec) -> str:
    """Short hash of everything that shapes the run's results: not where it is written, nor how
    it is executed (concurrency, workers, retries, which server answers a model), so a resume
    may change those; nor the sweep point's labels (the values they set are hashed). The
    `activation` section at its defaults is left out: it reads as before the section existed,
    so run ids made before it stay valid; any setting in it changes the id."""
    skip = {"out", "execution", "retry", "endpoints", "sweep_point"}
    if spec.activation == ActivationSpec():
        skip.add("activation")
    data = spec.model_dump(mode="json", exclude=skip)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]


def run_id_for(spec: ExperimentSpec) -> str:
    """Deterministic run id: model, memory condition, task (unless a conversation), seed and a
    digest of the spec."""
    agent = spec.agents[0]
    model = _slug(spec.agent_model(agent).split("/", 1)[-1])
    task = "" if spec.task.kind == "conversation" else f"-{_slug(spec.task.kind)}"
    return f"{model}-{agent.memory.condition}{task}-s{spec.seed}-{spec_digest(spec)}"


def run_dir_for(spec: ExperimentSpec) -> Path:
    """<out>/<experiment>/<run-id>/"""
    return Path(spec.out) / spec.name / run_id_for(spec)


class Run:
    """One run of an experiment spec.

    Args:
        spec: the resolved spec.
        run_dir: where to write; an existing unfinished run there is resumed.
        replay_from: a run directory whose cassette serves every model call.
        limits: model-call limits shared with concurrent runs.
    """

    def __init__(self, spec: ExperimentSpec, run_dir: Path, replay_from: Path | None = None,
                 limits: ModelLimits | None = None):
        self.spec = spec
        self.limits = limits
        self.run_dir = run_dir
        self.replay_from = replay_from
        self.recorder = RunRecorder(run_dir)
        self.run_id = run_dir.name
        self._manifest_written = 0.0
        self.client: ModelClient | None = None

    async def execute(self, on_step: StepCallback | None = None) -> RunResult:
        """Run (or resume) to the end; the run directory is consistent however this ends.

        Raises:
            ScaffoldError: the run directory is damaged, or a `fork:` source cannot be forked.
        """
        if self.spec.fork is not None and not self.run_dir.exists():
            from scaffold.fork import materialize_fork

            await materialize_fork(Path(self.spec.fork.run), self.spec, self.spec.fork.step,
                                   self.run_dir)
        manifest = self.recorder.read_manifest()
        if manifest is not None and manifest.status == "done":
            return RunResult(self.run_dir, "done", skipped=True)
        manifest = manifest or RunManifest(
            run_id=self.run_id, experiment=self.spec.name, seed=self.spec.seed,
            spec=self.spec.model_dump(mode="json"), versions=package_versions(),
            replay_of=str(self.replay_from) if self.replay_from else None,
            memory_plans={a.id: [{"backend": name, "settings": a.memory.settings_for(name)}
                                 for name in a.memory.plan()] for a in self.spec.agents},
            sampling=sampling_record(self.spec),
        )
        from scaffold.checkpoints import InlineSqliteSaver
        from scaffold.gc_tuning import settle_for_runs

        settle_for_runs()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with InlineSqliteSaver.open(self.recorder.checkpoint_path) as saver:
            graph = registry.get("agent", "persona")(saver)
            return await self._execute(graph, saver, manifest, on_step)

    async def _execute(self, graph: Any, saver: InlineSqliteSaver, manifest: RunManifest,
                       on_step: StepCallback | None) -> RunResult:
        resuming = self.recorder.events_path.exists()
        saved = {a.id: await self._saved_state(graph, a.id) for a in self.spec.agents}
        checkpoint_seq = max((int(s.get("seq", 0)) for s in saved.values()), default=0)
        keep = self.recorder.resume_point(checkpoint_seq) if resuming else None
        self.recorder.open(keep_through_seq=keep)
        if keep is not None:
            truncate_cassette(self.recorder.cassette_path, keep)
        bus = EventBus(self.run_id, start_seq=keep or 0)
        bus.subscribe(self.recorder.write, primary=True)
        previous = manifest.error if resuming and manifest.status == "failed" else None
        manifest.tracker_errors = count_tracker_errors(self.recorder.events_path)
        bus.subscribe(lambda event: _count_error(manifest, event))
        manifest.status, manifest.error = "running", None
        manifest.resumes += 1 if resuming else 0
        self.recorder.write_manifest(manifest)
        first_step = min(int(s.get("step", 0)) for s in saved.values())
        bus.emit(RunStart, step=first_step, spec=manifest.spec, seed=self.spec.seed,
                 resumed=resuming, previous_failure=previous)
        cassette = CassetteWriter(self.recorder.cassette_path)
        saver.before_write = [cassette.flush, self.recorder.flush]
        agents: list[AgentRuntime] = []
        task: Task | None = None
        try:
            agents, trackers, unfinished, client = self._build(bus, cassette, saved,
                                                               manifest.scorers)
            self.client = client
            kv_dir = self.run_dir / KV_DIR
            if resuming and client.restore_local(kv_dir, checkpoint_seq) == "missing":
                manifest.inexact_resumes.append(first_step)
                log.warning("%s: resumed at step %d without saved KV states: replies from "
                            "here on can differ from an uninterrupted run's", self.run_id,
                            first_step)
                self.recorder.write_manifest(manifest)
            saver.on_checkpoint = [lambda seq: client.persist_local(kv_dir, seq)]
            task, start = self._task(client, agents, saved)
            for rt in unfinished:  # finish the act a failure interrupted, from its last node
                await graph.ainvoke(None, {"configurable": {"thread_id": rt.id}}, context=rt,
                                    durability="exit")
            controls = RunControls(self.run_dir, {rt.id: rt for rt in agents}, trackers,
                                   self.spec, bus)
            await self._loop(graph, agents, trackers, task, start, manifest, on_step, controls)
        except BaseException as exc:
            return self._finish_failed(bus, manifest, exc, agents, first_step)
        finally:
            cassette.close()
            if self.client is not None:
                self.client.release()
            for rt in agents:
                rt.stack.close()
            if task is not None:
                await task.close()
        bus.emit(RunEnd, step=max(rt.step for rt in agents), status="done")
        manifest.status = "done"
        self.recorder.write_manifest(manifest)
        shutil.rmtree(self.run_dir / KV_DIR, ignore_errors=True)  # only a resume needs them
        self.recorder.close()
        return RunResult(self.run_dir, "done")

    def _build(self, bus: EventBus, cassette: CassetteWriter, saved: dict[str, dict[str, Any]],
               scorer_records: dict[str, dict[str, Any]]
               ) -> tuple[list[AgentRuntime], TrackerSet, list[AgentRuntime], ModelClient]:
        """Client, trackers and agents, with memory restored from the checkpoints; scorers
        report what they read with into `scorer_records` (the manifest's `scorers`)."""
        replay = CassetteReader(self.replay_from / "cassette.jsonl") if self.replay_from else None
        client = ModelClient(bus.emit, self.spec.retry, cassette=cassette, replay=replay,
                             limits=self.limits, endpoints=self.spec.endpoints,
                             local=self.spec.local, run_id=bus.run_id)
        record = scorer_records.__setitem__
        trackers = TrackerSet(build_trackers(self.spec, client, record=record), bus.emit)
        agents = [build_agent(self.spec, a, self.run_dir, client, bus, trackers)
                  for a in self.spec.agents]
        unfinished = []
        for rt in agents:
            if saved[rt.id].get("memory"):
                rt.stack.restore(saved[rt.id]["memory"])
                rt.step = int(saved[rt.id].get("step", 0))
                rt.turns = int(saved[rt.id].get("turns", rt.step))
                self._index_history(rt, saved[rt.id]["memory"])
            if saved[rt.id]["unfinished"]:
                unfinished.append(rt)
        return agents, trackers, unfinished, client

    def _task(self, client: ModelClient, agents: list[AgentRuntime],
              saved: dict[str, dict[str, Any]]) -> tuple[Task, int]:
        """The run's task, restored from the newest task state any agent's checkpoint holds;
        and the step to go on from."""
        task = build_task(self.spec, client, self.run_dir)
        states = [s for s in saved.values() if s.get("task") is not None]
        newest = max(states, key=lambda s: int(s.get("task_seq", 0)), default=None)
        if newest is not None:
            task.load(newest["task"])
        for rt in agents:
            rt.task = task
        return task, int(newest.get("task_step", 1)) if newest else 1

    def _index_history(self, rt: AgentRuntime, snapshot: dict[str, Any]) -> None:
        """A fork's new backends (e.g. a vector store) learn the transcript up to the fork."""
        manifest = self.recorder.read_manifest()
        known = set(snapshot.get("backends", {}))
        fresh = [b for b in rt.stack.backends if b.name not in known]
        if manifest is None or not manifest.forked_from or not fresh or \
                manifest.steps_done != rt.step:
            return
        events = [e for e in read_events(self.recorder.events_path) if e.agent_id == rt.id]
        if any(isinstance(e, MemoryEvent) and e.kind == "insert" and e.step == rt.step
               for e in events):
            return  # indexed already, before an interruption
        history = [Message(id=e.message_id, role=e.role, content=e.content, author=e.author,
                           step=e.step, tool_calls=e.tool_calls, tool_call_id=e.tool_call_id)
                   for e in events if isinstance(e, MessageEvent)]
        for backend in fresh:
            for record in backend.observe(history) or []:
                rt.emit(MemoryEvent, **record.model_dump())

    async def _saved_state(self, graph: Any, agent_id: str) -> dict[str, Any]:
        snapshot = await graph.aget_state({"configurable": {"thread_id": agent_id}})
        values = dict(snapshot.values or {})
        values["unfinished"] = bool(snapshot.next)  # a step that failed part-way
        return values

    async def _loop(self, graph: Any, agents: list[AgentRuntime], trackers: TrackerSet,
                    task: Task, start: int, manifest: RunManifest,
                    on_step: StepCallback | None, controls: RunControls) -> None:
        await trackers.call("on_run_start", agents)
        step = start
        while step <= self.spec.steps and not task.done():
            while True:
                await controls.apply()
                turn = await task.next_turn(step)
                if turn is None:
                    break
                rt = controls.agents[turn.agent_id]
                inputs = [*turn.inputs, *controls.take_injected(rt.id)]
                pending = [Message(id=f"{rt.id}-{step}-u{i or ''}", role="user",
                                   content=t.text, author=t.author, step=step
                                   ).model_dump(mode="json") for i, t in enumerate(inputs)]
                await graph.ainvoke(
                    {"step": step, "pending": pending, "turn": turn.model_dump(mode="json")},
                    {"configurable": {"thread_id": rt.id}}, context=rt, durability="exit",
                )
                self._check_replay()
            manifest.steps_done = max(manifest.steps_done, step)
            if time.monotonic() - self._manifest_written >= 1.0 or step == self.spec.steps:
                self.recorder.write_manifest(manifest)  # progress for watchers, at most 1/s
                self._manifest_written = time.monotonic()
            if on_step:
                on_step(step, self.spec.steps)
            step += 1
        await controls.apply()
        await trackers.call("on_run_end", agents)
        self._check_replay()

    def _check_replay(self) -> None:
        """A replay fails on any call its cassette lacks, also one whose error a tracker or a
        scorer swallowed (probe, judge): its numbers would not be the recorded run's.

        Raises:
            CassetteMiss: the first request the cassette lacked.
        """
        if self.client is not None and self.client.replay_misses:
            misses = self.client.replay_misses
            more = f" (and {len(misses) - 1} more)" if len(misses) > 1 else ""
            raise CassetteMiss(misses[0] + more)

    def _finish_failed(self, bus: EventBus, manifest: RunManifest, exc: BaseException,
                       agents: list[AgentRuntime], first_step: int) -> RunResult:
        interrupted = isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError))
        status: Status = "interrupted" if interrupted else "failed"
        reason = redact(str(exc) if isinstance(exc, ScaffoldError) else
                        f"{type(exc).__name__}: {exc}")
        step = max((rt.step for rt in agents), default=first_step)
        bus.emit(RunEnd, step=step, status=status, reason=reason)
        manifest.status = status
        manifest.error = reason
        manifest.failures.append({"at": time.time(), "status": status, "step": step,
                                  "error": reason})
        self.recorder.write_manifest(manifest)
        self.recorder.close()
        if interrupted:
            raise exc
        if not isinstance(exc, ScaffoldError):
            raise exc
        return RunResult(self.run_dir, status, error=reason)


def _count_error(manifest: RunManifest, event: Event) -> None:
    if isinstance(event, TrackerErrorEvent):
        manifest.tracker_errors += 1


def count_tracker_errors(events_path: Path) -> int:
    """Tracker errors already in an event log (a resumed run goes on counting from there)."""
    if not events_path.exists():
        return 0
    with events_path.open(encoding="utf-8") as fh:
        return sum('"type":"tracker_error"' in line for line in fh)


def prepare_replay_dir(spec: ExperimentSpec, source: Path) -> Path:
    """The directory a replay of `source` writes to (recreated each time).

    Raises:
        RunDirError: `source` has no cassette.
    """
    if not (source / "cassette.jsonl").exists():
        raise RunDirError(f"--replay {source}: no cassette.jsonl there (not a run directory?)")
    target = run_dir_for(spec).with_name(run_id_for(spec) + "-replay")
    if target.resolve() == source.resolve():
        raise RunDirError(f"--replay {source}: cannot replay a replay into itself")
    if target.exists():
        shutil.rmtree(target)
    return target
