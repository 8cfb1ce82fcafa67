"""Re-scoring: score recorded probe answers, replies and memory text again, or re-probe recorded
contexts with new probes, appending new events and paying only for calls not yet recorded."""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from functools import cached_property
from collections.abc import Collection
from pathlib import Path
from typing import Any

from scaffold.assembly import build_scorers
from scaffold.bus import EventBus
from scaffold.config import ExperimentSpec, PersonaSpec, ProbeSpec, parse_experiment
from scaffold.errors import ConfigError, RunDirError
from scaffold.events import (
    Event,
    MemoryEvent,
    MessageEvent,
    ModelCallEvent,
    ProbeEvent,
    ScoreEvent,
)
from scaffold.models import CallContext, CassetteReader, CassetteWriter, ModelClient
from scaffold.recorder import EVENTS_FILE, RunManifest, RunRecorder, event_log, read_events
from scaffold.trackers.generic import probe_set
from scaffold.trackers.probes import MEMORY_TEXT_KINDS, probe_params, probe_seed, safe_score
from scaffold.trackers.replies import reply_question
from scaffold.trackers.scoring import Scorer, needs_probe


def _recorded(cassette: CassetteReader, key: str | None) -> list[dict[str, Any]] | None:
    """The recorded model input behind a request hash (a probe's, or the agent call a reply
    answered), so scorers that read the context (activation) see what the model saw."""
    entry = cassette.find(key) if key else None
    return list(entry.messages) if entry is not None else None


TARGETS = ("probe", "reply", "memory")
"""What a rescore scores: probe answers, the agent's replies, memory texts."""


def recorded_activation(manifest: RunManifest) -> dict[str, Any]:
    """The `activation` settings a run read with: its spec's section, with the axis files
    its scorer found recorded as `axes` when the section named none (so a rescore reads on
    the same files even if the search would now find others)."""
    section = dict(manifest.spec.get("activation") or {})
    found = (manifest.scorers.get("activation") or {}).get("axes") or []
    if not section.get("axes") and found:
        section["axes"] = [f["path"] for f in found]
    return section


def _activation_settings(data: dict[str, Any], scorers: list[str],
                         overrides: dict[str, Any]) -> dict[str, Any]:
    """The spec data with the `activation` section the pass reads with: the recorded one with
    the given settings replaced; none when the activation scorer is not applied (so a moved
    axis file does not stop other scorers).

    Raises:
        ConfigError: settings given for a pass without the activation scorer.
    """
    if "activation" not in scorers:
        if overrides:
            raise ConfigError("rescore settings", [
                f"activation.{next(iter(overrides))}: only the activation scorer reads with it "
                "(add --scorer activation)"])
        return {k: v for k, v in data.items() if k != "activation"}
    if "axes" in overrides:
        overrides = {**overrides, "axes": [str(Path(p).expanduser().resolve())
                                           for p in overrides["axes"]]}
    return {**data, "activation": {**(data.get("activation") or {}), **overrides}}


def _replaced(recorded: dict[str, Any], personas: dict[str, PersonaSpec],
              run_dir: Path) -> dict[str, Any]:
    """The run's personas with those of the same key replaced."""
    used = [key for key in recorded if key in personas]
    if not used:
        raise RunDirError(f"{run_dir}: none of its personas ({', '.join(recorded)}) is among "
                          f"the given ones ({', '.join(list(personas)[:8])}...)")
    return {**recorded, **{key: personas[key].model_dump(mode="json") for key in used}}


class Rescorer:
    """Appends re-scoring events to one run directory.

    Args:
        run_dir: the run to re-score.
        scorers: scorer names (registry) to apply.
        judge_model: judge model override.
        spec: a spec to take probes (and settings) from instead of the run's own.
        personas: persona definitions replacing the run's own of the same key (e.g. with
            corrected probe rules); keys the run does not use are ignored.
        activation: `activation` settings (reader, axes, layer) replacing those of the run's
            spec (or `spec`) one by one; relative axis paths start at the working directory.
        targets: what to score, of `TARGETS` (probe answers, replies, memory texts); None or
            empty: all three. Leaving out replies makes an activation pass several times
            cheaper (each reply is read after its whole model input).

    Raises:
        RunDirError: not a run directory, or `personas` names none of the run's personas.
        ConfigError: the settings are invalid (e.g. an axis file is missing, or an unknown
            target), naming the field.
    """

    def __init__(self, run_dir: Path, scorers: list[str], judge_model: str | None = None,
                 spec: ExperimentSpec | None = None,
                 personas: dict[str, PersonaSpec] | None = None,
                 activation: dict[str, Any] | None = None,
                 targets: Collection[str] | None = None):
        unknown = sorted(set(targets or ()) - set(TARGETS))
        if unknown:
            raise ConfigError("rescore settings", [
                f"target: {unknown[0]!r} is not one of {', '.join(TARGETS)}"])
        self.targets = tuple(t for t in TARGETS if not targets or t in targets)
        manifest = RunRecorder(run_dir).read_manifest()
        if manifest is None:
            raise RunDirError(f"{run_dir}: no manifest.json; not a scaffold run directory")
        if event_log(run_dir).suffix == ".gz":
            raise RunDirError(f"{run_dir}: its event log is packed (events.jsonl.gz) and "
                              "rescoring appends to it: unpack it first (gunzip -k)")
        data = (spec.model_dump(mode="json") if spec else dict(manifest.spec))
        if spec is None:
            data["activation"] = recorded_activation(manifest)
        if personas is not None:
            data["personas"] = _replaced(data["personas"], personas, run_dir)
        data["probes"] = {**data["probes"], "scorers": scorers}
        if judge_model:
            data["models"] = {**data.get("models", {}), "judge": judge_model}
        data = _activation_settings(data, scorers, activation or {})
        self.spec = parse_experiment(data, "rescore settings")
        self.scorer_records: dict[str, dict[str, Any]] = {}
        self.run_dir = run_dir
        self._passes = dict(manifest.rescores)
        self._requests: dict[bool, str] = {}

    @cached_property
    def events(self) -> list[Event]:
        """The run's event log, read when first needed (not for a run `finished_before`
        skips)."""
        return read_events(self.run_dir / EVENTS_FILE)

    @property
    def pass_id(self) -> str:
        """This pass's id: `rescore-<seq of the log's last event before it>`."""
        return f"rescore-{self.events[-1].seq if self.events else 0}"

    def request(self, reprobe: bool = False) -> str:
        """A digest of what this pass computes from: its settings (scorers, personas, probes,
        judge, reader, layer), --reprobe, and the contents of the axis files it may read;
        computed once per pass (the one a skip compares is the one the pass records)."""
        if reprobe in self._requests:
            return self._requests[reprobe]
        digest = hashlib.sha256(json.dumps(
            {"spec": self.spec.model_dump(mode="json"), "reprobe": reprobe,
             "targets": list(self.targets)},
            sort_keys=True).encode())
        if "activation" in self.spec.probes.scorers:
            from scaffold.activations.discovery import axis_files

            named = [Path(a) for a in self.spec.activation.axes]
            for file in named or axis_files():
                digest.update(str(file).encode())
                digest.update(file.read_bytes() if file.is_file() else b"missing")
        self._requests[reprobe] = digest.hexdigest()
        return self._requests[reprobe]

    def finished_before(self, reprobe: bool = False) -> str | None:
        """The id of a pass that finished with the same request, if there is one."""
        key = self.request(reprobe)
        return next((pass_id for pass_id, record in self._passes.items()
                     if record.get("complete") and record.get("request") == key), None)

    async def run(self, reprobe: bool = False) -> int:
        """Score (or re-probe and score); returns how many events were appended."""
        events = self.events  # the log as it stands, read before anything is appended
        recorder = RunRecorder(self.run_dir)
        recorder.open()
        bus = EventBus(self.run_dir.name, start_seq=events[-1].seq if events else 0)
        bus.subscribe(recorder.write, primary=True)
        first = bus.seq
        writer = CassetteWriter(recorder.cassette_path)
        reader = CassetteReader(recorder.cassette_path, strict=False)
        client = ModelClient(bus.emit, self.spec.retry, cassette=writer, replay=reader,
                             live_fallback=True, endpoints=self.spec.endpoints,
                             local=self.spec.local, run_id=f"{self.run_dir.name}:{self.pass_id}")
        scorers = build_scorers(self.spec, client, record=self.scorer_records.__setitem__)
        complete = False
        try:
            if reprobe:
                await self._reprobe(bus, client, scorers, reader)
            else:
                await self._rescore(bus, scorers, reader)
            complete = True
        finally:
            client.release()
            writer.close()
            recorder.close()
            self._record_pass(recorder, reprobe, bus.seq - first, complete)
        return bus.seq - first

    def _record_pass(self, recorder: RunRecorder, reprobe: bool, added: int,
                     complete: bool) -> None:
        """The pass in the manifest's `rescores`: its scorers, what they read with, whether
        it finished, and the digest of its request (a finished one is not repeated)."""
        manifest = recorder.read_manifest()
        if manifest is None:
            return
        manifest.rescores[self.pass_id] = {
            "at": time.time(), "scorers": list(self.spec.probes.scorers), "reprobe": reprobe,
            "events": added, "settings": dict(self.scorer_records), "complete": complete,
            "targets": list(self.targets),
            "request": self.request(reprobe)}
        recorder.write_manifest(manifest)

    def _persona(self, agent_id: str | None) -> Any:
        agent = next((a for a in self.spec.agents if a.id == agent_id), self.spec.agents[0])
        return agent, self.spec.personas[agent.persona]

    async def _rescore(self, bus: EventBus, scorers: list[Scorer],
                       cassette: CassetteReader) -> None:
        last_user: dict[str | None, str] = {}
        last_call: dict[str | None, str] = {}  # agent -> request hash of its last agent call
        for event in self.events:
            if isinstance(event, ProbeEvent) and "probe" in self.targets:
                await self._score_answer(bus, scorers, event,
                                         _recorded(cassette, event.request_hash))
            elif isinstance(event, ModelCallEvent) and event.purpose == "agent":
                last_call[event.agent_id] = event.request_hash
            elif isinstance(event, MemoryEvent) and event.kind in MEMORY_TEXT_KINDS \
                    and event.text.strip() and "memory" in self.targets:
                await self._score_text(bus, scorers, event, event.text, "memory")
            elif isinstance(event, MessageEvent) and event.role == "user":
                last_user[event.agent_id] = event.content
            elif isinstance(event, MessageEvent) and event.role == "assistant" \
                    and event.content.strip() and "reply" in self.targets:
                await self._score_text(bus, scorers, event, event.content, "message",
                                       reply_question(last_user.get(event.agent_id)),
                                       _recorded(cassette, last_call.pop(event.agent_id, None)))

    async def _score_answer(self, bus: EventBus, scorers: list[Scorer], event: ProbeEvent,
                            context: list[dict[str, Any]] | None = None) -> None:
        _, persona = self._persona(event.agent_id)
        probes = {p.id: p for p in probe_set(persona, True)}
        probe = probes.get(event.probe_id) or ProbeSpec(id=event.probe_id, question=event.question)
        for scorer in scorers:
            result = await safe_score(scorer, event.answer, probe, persona, context)
            self._emit_score(bus, event, result, target="probe")

    async def _score_text(self, bus: EventBus, scorers: list[Scorer], event: Event, text: str,
                          target: str, question: ProbeSpec | None = None,
                          context: list[dict[str, Any]] | None = None) -> None:
        """Score a memory text or a reply (`question`: what it answered; `context`: the
        recorded model input it answered) with every scorer that needs no probe."""
        _, persona = self._persona(event.agent_id)
        for scorer in scorers:
            if not needs_probe(scorer):
                result = await safe_score(scorer, text, question, persona, context)
                self._emit_score(bus, event, result, target=target)

    def _emit_score(self, bus: EventBus, event: Event, result: Any, target: str) -> None:
        fields: dict[str, Any] = {"round_id": getattr(event, "round_id", None),
                                  "probe_id": getattr(event, "probe_id", None)}
        if target == "memory":
            fields = {"memory_seq": event.seq}
        elif isinstance(event, MessageEvent):
            fields = {"message_id": event.message_id}
        bus.emit(ScoreEvent, agent_id=event.agent_id, step=event.step, target=target,
                 scorer=result.scorer, scorer_version=result.version, value=result.value,
                 explanation=result.explanation, raw=result.raw, rescore=self.pass_id,
                 **fields)

    async def _reprobe(self, bus: EventBus, client: ModelClient, scorers: list[Scorer],
                       reader: CassetteReader) -> None:
        rounds: OrderedDict[str, ProbeEvent] = OrderedDict()
        for event in self.events:
            if isinstance(event, ProbeEvent) and event.trigger != "reprobe":
                rounds.setdefault(event.round_id, event)
        for round_id, first in rounds.items():
            entry = reader.find(first.request_hash)
            if entry is None:
                raise RunDirError(f"cassette lacks the context of probe round {round_id}")
            await self._ask_round(bus, client, scorers, first, entry.messages[:-1])

    async def _ask_round(self, bus: EventBus, client: ModelClient, scorers: list[Scorer],
                         first: ProbeEvent, context: list[dict[str, Any]]) -> None:
        agent, persona = self._persona(first.agent_id)
        schedule = self.spec.probes
        model = self.spec.agent_model(agent)
        meta = {"name": persona.name, "anchors": list(persona.anchors)}
        for probe in probe_set(persona, schedule.generic):
            for sample in range(schedule.samples):
                messages = [*context, {"role": "user", "content": probe.question}]
                ctx = CallContext("probe", first.agent_id, first.step, meta, sample)
                base = self.spec.seed if schedule.seed is None else schedule.seed
                seed = probe_seed(base, first.agent_id or "", first.round_id, probe.id, sample)
                reply = await client.complete(model, messages, ctx,
                                              **probe_params(schedule, seed))
                event = bus.emit(ProbeEvent, agent_id=first.agent_id, step=first.step,
                                 round_id=f"{first.round_id}-{self.pass_id}", probe_id=probe.id,
                                 question=probe.question, answer=reply.content, sample=sample,
                                 trigger="reprobe", request_hash=reply.request_hash)
                for scorer in scorers:
                    result = await safe_score(scorer, reply.content, probe, persona, messages)
                    self._emit_score(bus, event, result, target="probe")
