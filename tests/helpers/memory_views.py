"""A synthetic event log for the memory and activation views: a JFK agent whose run holds
activation scores with real ActivationDetails, and memory events of every new backend."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from scaffold.activations.axis import Projection
from scaffold.activations.details import ActivationDetails
from scaffold.events import (
    Event,
    MemoryEvent,
    MessageEvent,
    ProbeEvent,
    RunEnd,
    RunStart,
    ScoreEvent,
)
from tests.helpers import JFK_PERSONA, spec_dict

SUMMARY_STEP = 4
"""The step of the summary event; the assistant-axis projection jumps after it (towards the
default assistant: drift)."""
JUMP = 2.5
"""Projection added by the summary (so its after-minus-before delta is this)."""
STD = 1.25
"""Default std of the assistant axis: z = (projection - DEFAULT_MEAN) / STD."""
DEFAULT_MEAN = 14.0
ROLES_MEAN = 9.0


def projection_at(step: int) -> float:
    """The synthetic assistant-axis projection of anything read at `step`."""
    return 10.0 + 0.1 * step + (JUMP if step >= SUMMARY_STEP else 0.0)


def details(step: int, persona_axis: bool = False) -> ActivationDetails:
    """Realistic activation details for a text read at `step`."""
    proj = projection_at(step)
    # the assistant axis is default minus roles: the default's mean (DEFAULT_MEAN) reads 0,
    # the roles' mean (ROLES_MEAN, lower) reads 1
    value = min(1.0, max(0.0, (proj - DEFAULT_MEAN) / (ROLES_MEAN - DEFAULT_MEAN)))
    assistant = Projection(axis="assistant", layer=12, projection=proj,
                           z=(proj - DEFAULT_MEAN) / STD, value=value)
    persona = Projection(axis="persona:jfk", layer=12, projection=-proj,
                         z=(DEFAULT_MEAN - proj) / STD, value=1 - value) if persona_axis else None
    main = persona or assistant
    return ActivationDetails(
        reader="local/qwen2.5-0.5b-instruct-q4_k_m.gguf", reader_sha256="a" * 64,
        context="model input", axis=main.axis, layer=12, projection=main.projection,
        z=main.z, value=main.value, assistant=assistant, persona=persona, tokens=20,
        evaluated=25, seconds=0.05)


class Log:
    """Builds one run's events with monotonic seq."""

    def __init__(self, run_id: str, condition: str, seed: int = 0):
        self.run_id = run_id
        self.events: list[Event] = []
        spec = spec_dict(seed=seed)
        spec["personas"] = {"jfk": copy.deepcopy(JFK_PERSONA)}
        spec["agents"][0]["memory"] = {"condition": condition, "budget_tokens": 400,
                                       "files": {"seed": {"notes.md": "Cuba, October."}}}
        self.add(RunStart, step=0, spec=spec, seed=seed, agent_id=None)

    def add(self, cls: type[Event], step: int, agent_id: str | None = "jfk",
            **fields: Any) -> Event:
        """Append one event."""
        event = cls(seq=len(self.events) + 1, run_id=self.run_id, agent_id=agent_id,
                    step=step, ts=0.0, **fields)
        self.events.append(event)
        return event

    def memory(self, step: int, kind: str, backend: str, text: str = "",
               **detail: Any) -> Event:
        """One memory event."""
        return self.add(MemoryEvent, step, kind=kind, backend=backend, text=text,
                        detail=detail)

    def probe_round(self, step: int, trigger: str, persona_axis: bool = False,
                    read_at: int | None = None) -> None:
        """A round of two probes, scored by rules and activation (read as at `read_at`)."""
        round_id = f"r{step}-{trigger}"
        for probe in ("name", "year"):
            self.add(ProbeEvent, step, round_id=round_id, probe_id=probe, question="?",
                     answer="I am John F. Kennedy.", trigger=trigger, request_hash="h")
            self.add(ScoreEvent, step, round_id=round_id, probe_id=probe, scorer="rules",
                     value=1.0)
            d = details(step if read_at is None else read_at, persona_axis)
            self.add(ScoreEvent, step, round_id=round_id, probe_id=probe, scorer="activation",
                     value=d.value, raw=d.model_dump_json())

    def reply(self, step: int, persona_axis: bool = False) -> None:
        """A user turn and a reply, the reply scored by activation."""
        self.add(MessageEvent, step, message_id=f"u{step}", role="user", content="Hi",
                 author="user")
        self.add(MessageEvent, step, message_id=f"m{step}", role="assistant",
                 content=f"Reply {step}", author="jfk")
        d = details(step, persona_axis)
        self.add(ScoreEvent, step, target="message", message_id=f"m{step}",
                 scorer="activation", value=d.value, raw=d.model_dump_json())

    def write(self, root: Path) -> Path:
        """The run directory holding these events."""
        run_dir = root / self.run_id
        run_dir.mkdir(parents=True)
        with (run_dir / "events.jsonl").open("w", encoding="utf-8") as fh:
            for e in self.events:
                fh.write(e.model_dump_json() + "\n")
        return run_dir


def memory_designs_events(log: Log) -> None:
    """One of every new backend's memory events, at step 3."""
    log.memory(3, "insert", "reflection", "[7] jfk: I stood at the Berlin wall.\n[2] user: hi",
               collection="c", observations=[{"id": "m1", "importance": 7},
                                             {"id": "u2", "importance": 2}],
               since_reflection=9, threshold=8)
    log.memory(3, "reflect", "reflection", "I speak for free peoples.",
               questions=["Who am I?"], reflections=[{
                   "id": "reflection-0", "kind": "reflection", "step": 3, "importance": 8,
                   "text": "I speak for free peoples.", "question": "Who am I?",
                   "cites": ["m1"]}])
    log.memory(3, "fact_add", "facts", "Lives in the White House", fact_id="fact-0", old="",
               new="Lives in the White House")
    log.memory(3, "fact_update", "facts", "Lives in Hyannis Port", fact_id="fact-0",
               old="Lives in the White House", new="Lives in Hyannis Port")
    log.memory(3, "fact_add", "facts", "Likes sailing", fact_id="fact-1", old="",
               new="Likes sailing")
    log.memory(3, "fact_delete", "facts", "Likes sailing", fact_id="fact-1",
               old="Likes sailing", new="")
    log.memory(3, "sleeptime_rewrite", "sleeptime", "I am JFK, the 35th president.",
               trigger="every", blocks={"persona": {
                   "old": "I am JFK.", "new": "I am JFK, the 35th president.",
                   "changed": True, "status": "ok", "reason": None}})
    log.memory(3, "file_edit", "files", "Cuba, October. Quarantine.", path="notes.md",
               op="str_replace", old="Cuba, October.", new="Cuba, October. Quarantine.",
               loaded="closed")
    log.memory(3, "file_open", "files", "Cuba, October. Quarantine.", path="notes.md")


def activation_run(root: Path, run_id: str = "act-run", condition: str = "summary",
                   seed: int = 0, steps: int = 8, persona_axis: bool = False,
                   designs: bool = False) -> Path:
    """A finished run: replies every step, probe rounds every 2 steps, a summary at
    SUMMARY_STEP bracketed by before/after rounds; every text scored by activation."""
    log = Log(run_id, condition, seed)
    for step in range(1, steps + 1):
        if step == SUMMARY_STEP:
            log.probe_round(step, "before_memory", persona_axis, read_at=step - 1)
            log.memory(step, "summarize", "summary", "JFK talked about Berlin.")
            log.probe_round(step, "after_memory", persona_axis)
        log.reply(step, persona_axis)
        if step % 2 == 0:
            log.probe_round(step, "periodic", persona_axis)
        if designs and step == 3:
            memory_designs_events(log)
    log.add(RunEnd, steps, agent_id=None, status="done")
    return log.write(root)
