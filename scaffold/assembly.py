"""Builds a run's live parts from its spec, through the registry: memory, trackers, agents."""

from __future__ import annotations

from typing import Any

from memory import MemoryStack, TokenCounter
from scaffold import registry
from scaffold.bus import EventBus
from scaffold.config import AgentSpec, ExperimentSpec, MemorySpec
from scaffold.models import ModelClient
from scaffold.runtime import AgentRuntime
from scaffold.trackers.base import Tracker, TrackerSet


def build_backends(memory: MemorySpec) -> list[Any]:
    """The memory backends a condition expands to, built by registry name."""
    settings = getattr(memory, memory.condition).model_dump()
    return [registry.get("memory", memory.condition)(**settings)]


def build_trackers(spec: ExperimentSpec) -> list[Tracker]:
    """Trackers for a run: the probe scheduler with its scorers, when probes are on."""
    if not spec.probes.enabled:
        return []
    scorers = [registry.get("scorer", "rules")()]
    return [registry.get("tracker", "probes")(spec.probes, scorers, spec.seed)]


def build_agent(spec: ExperimentSpec, agent: AgentSpec, run_id: str, client: ModelClient,
                bus: EventBus, trackers: TrackerSet) -> AgentRuntime:
    """One agent's runtime with a fresh memory stack."""
    persona = spec.personas[agent.persona]
    model = spec.agent_model(agent)
    stack = MemoryStack(persona.identity, build_backends(agent.memory), TokenCounter(model),
                        agent.memory.budget_tokens)
    return AgentRuntime(run_id=run_id, spec=agent, persona=persona, model=model,
                        summarizer_model=spec.summarizer_model(agent), stack=stack,
                        client=client, bus=bus, trackers=trackers, seed=spec.seed)
