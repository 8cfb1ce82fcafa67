"""Probe rounds: identity questions asked on a fork of the agent's next input, then discarded."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from scaffold.config import PersonaSpec, ProbeSchedule, ProbeSpec
from scaffold.errors import CassetteMiss
from scaffold.events import MemoryEvent, ProbeEvent, ScoreEvent
from scaffold.messages import completed_context
from scaffold.redact import redact
from scaffold.registry import tracker
from scaffold.trackers.base import Tracker
from scaffold.trackers.generic import probe_set
from scaffold.trackers.scoring import SCORING_FOR, IdentityScore, Scorer

if TYPE_CHECKING:
    from scaffold.runtime import AgentRuntime

PROBED_KINDS = frozenset({"summarize", "truncate", "retrieve", "core_edit", "note",
                          "summary_rewrite", "sleeptime_rewrite", "file_edit", "file_open",
                          "file_close"})
"""Memory event kinds probed around by default (inserts are not: they change no context)."""
MEMORY_TEXT_KINDS = frozenset({"summarize", "summary_rewrite", "note", "core_edit",
                               "sleeptime_rewrite", "file_edit", "reflect", "fact_add",
                               "fact_update"})
"""Memory events whose text is scored as text about the self."""


async def safe_score(scorer: Scorer, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                     model_input: list[dict[str, Any]] | None,
                     agent: AgentRuntime | None = None) -> IdentityScore:
    """Run a scorer; a failure becomes an unscored result, never an exception, except a replay
    miss (a judge call the cassette lacks), which fails the run."""
    if agent is not None:
        SCORING_FOR.set((agent.id, agent.step))
    try:
        return await scorer.score(answer, probe, persona, model_input)
    except CassetteMiss:
        raise
    except Exception as exc:
        return IdentityScore(value=None, scorer=scorer.name, version=scorer.version,
                             explanation=redact(f"scorer failed: {type(exc).__name__}: {exc}"))


def probe_seed(base: int, agent_id: str, round_id: str, probe_id: str, sample: int) -> int:
    """The sampling seed of one probe answer: a function of the base seed (the run's, or
    `probes.seed`), the agent, the round (which holds the step, the trigger and the repeat),
    the probe and the sample, so that no two answers of a run share a seed by accident and the
    same answer is asked with the same seed in a replay or a re-probe."""
    key = f"{base}|{agent_id}|{round_id}|{probe_id}|{sample}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "big") & 0x7FFFFFFF


def probe_params(schedule: ProbeSchedule, seed: int) -> dict[str, Any]:
    """Sampling parameters of one probe call."""
    return {"temperature": schedule.temperature, "top_p": schedule.top_p,
            "max_tokens": schedule.max_tokens, "seed": seed}


class ProbeTracker(Tracker):
    """Schedules probe rounds: every K steps, around memory events, and at the end.

    Every round is asked on `completed_context` of the agent's next input: the system message
    with memory as it is at that moment, and the window up to the last completed exchange (a
    pending user turn is left out, so that the probe, not that turn, is answered). Each answer
    is sampled with its own seed (`probe_seed`) at `probes.temperature` / `probes.top_p`.
    """

    name = "probes"

    def __init__(self, schedule: ProbeSchedule, scorers: list[Scorer], seed: int = 0):
        self.schedule = schedule
        self.scorers = scorers
        self.seed = seed
        self._last_round: dict[str, tuple[int, int]] = {}
        around = schedule.around_memory_events
        self.around = PROBED_KINDS if around is True else frozenset(around or ())
        self._rounds: dict[tuple[str, int, str], int] = {}

    async def on_step(self, agent: AgentRuntime, step: int) -> None:
        """Periodic round: after every N-th act of this agent (every N steps when it acts each
        step; in a room or a self-chat, every N of its own turns)."""
        if agent.turns and agent.turns % self.schedule.every == 0:
            await self.round(agent, "periodic")

    async def on_probe_request(self, agent: AgentRuntime) -> None:
        """A round asked for by hand (the TUI's `b`), even for agents not probed otherwise."""
        await self.round(agent, "manual")

    async def before_memory_event(self, agent: AgentRuntime, kind: str) -> None:
        """Round on the context as it is before memory changes."""
        if kind in self.around:
            await self.round(agent, "before_memory")

    async def on_memory_event(self, agent: AgentRuntime, event: MemoryEvent) -> None:
        """Score the memory's own text, then a round on the context as it is now."""
        if self.schedule.score_memory and event.kind in MEMORY_TEXT_KINDS and event.text.strip():
            await self.score_memory(agent, event)
        if event.kind in self.around:
            await self.round(agent, "after_memory")

    async def score_memory(self, agent: AgentRuntime, event: MemoryEvent) -> None:
        """Does the memory text still speak as the persona? (scorers that need a probe skip)"""
        for scorer in self.scorers:
            if scorer.name == "rules":
                continue
            result = await safe_score(scorer, event.text, None, agent.persona, None, agent)
            agent.emit(ScoreEvent, target="memory", memory_seq=event.seq, scorer=result.scorer,
                       scorer_version=result.version, value=result.value,
                       explanation=result.explanation, raw=result.raw)

    async def on_run_end(self, agents: list[AgentRuntime]) -> None:
        """Final round, unless the context is unchanged since the last round."""
        if not self.schedule.at_end:
            return
        for agent in agents:
            if self._last_round.get(agent.id) != (agent.step, agent.bus.seq):
                await self.round(agent, "end")

    async def round(self, agent: AgentRuntime, trigger: str) -> str:
        """Ask every probe on a copy of the agent's next input; score and record the answers.

        Returns:
            The round id.
        """
        if not agent.spec.probe and trigger != "manual":
            return ""
        key = (agent.id, agent.step, trigger)
        k = self._rounds.get(key, 0)
        self._rounds[key] = k + 1
        round_id = f"{agent.id}-s{agent.step}-{trigger}" + (f"-{k}" if k else "")
        context = completed_context(agent.model_input().messages)
        for probe in probe_set(agent.persona, self.schedule.generic):
            for sample in range(self.schedule.samples):
                await self._ask(agent, probe, context, round_id, trigger, sample)
        self._last_round[agent.id] = (agent.step, agent.bus.seq)
        return round_id

    async def _ask(self, agent: AgentRuntime, probe: ProbeSpec, context: list[dict[str, Any]],
                   round_id: str, trigger: str, sample: int) -> None:
        messages = [*context, {"role": "user", "content": probe.question}]
        base = self.seed if self.schedule.seed is None else self.schedule.seed
        seed = probe_seed(base, agent.id, round_id, probe.id, sample)
        reply = await agent.call("probe", messages, sample=sample,
                                 **probe_params(self.schedule, seed))
        agent.emit(ProbeEvent, round_id=round_id, probe_id=probe.id, question=probe.question,
                   answer=reply.content, sample=sample, trigger=trigger,
                   request_hash=reply.request_hash)
        for scorer in self.scorers:
            result = await safe_score(scorer, reply.content, probe, agent.persona, messages,
                                      agent)
            agent.emit(ScoreEvent, target="probe", round_id=round_id, probe_id=probe.id,
                       scorer=result.scorer, scorer_version=result.version, value=result.value,
                       explanation=result.explanation, raw=result.raw)


@tracker("probes")
def make_probes(schedule: ProbeSchedule, scorers: list[Scorer], seed: int = 0) -> ProbeTracker:
    """Factory for the registry."""
    return ProbeTracker(schedule, scorers, seed)
