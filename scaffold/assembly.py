"""Builds a run's live parts from its spec, through the registry: memory, trackers, agents."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from memory import BackendContext, MemoryStack, TokenCounter
from scaffold import registry
from scaffold.bus import EventBus
from scaffold.config import AgentSpec, ExperimentSpec, MemorySpec
from scaffold.errors import ConfigError
from scaffold.models import CallContext, ModelClient
from scaffold.runtime import AgentRuntime
from scaffold.trackers.base import Tracker, TrackerSet
from scaffold.trackers.scoring import SCORING_FOR, Record, Scorer, ScorerContext

if TYPE_CHECKING:
    from scaffold.tasks.base import Task


def build_backends(memory: MemorySpec, context: BackendContext) -> list[Any]:
    """The memory backends a condition expands to, built by registry name. A plugin gets the
    entries of `memory.options.<name>` as keyword arguments, unchecked until here.

    Raises:
        ConfigError: a plugin's factory refused its settings (TypeError or ValueError).
    """
    return [_build_backend(memory, name, context) for name in memory.plan()]


def _build_backend(memory: MemorySpec, name: str, context: BackendContext) -> Any:
    factory = registry.get("memory", name)
    if name in type(memory).model_fields:  # a built-in: its settings were validated
        return factory(**memory.settings_for(name), context=context)
    try:
        return factory(**memory.settings_for(name), context=context)
    except (TypeError, ValueError) as exc:
        field = f"memory.options.{name}"
        raise ConfigError(f"agent {context.agent_id}", [f"{field}: {exc}"]) from exc


def scorer_context(spec: ExperimentSpec, client: ModelClient | None,
                   record: Record | None = None) -> ScorerContext:
    """Model access for model-based scorers (the judge), recorded through the run's client;
    the scorers' own settings (judge, activation); where they report their provenance."""
    judge_model = spec.models.judge or spec.model

    async def complete(messages: list[dict[str, Any]], *, purpose: str = "judge",
                       agent_id: str | None = None, step: int = 0, **params: Any) -> Any:
        assert client is not None
        if agent_id is None:
            agent_id, step = SCORING_FOR.get()
        ctx = CallContext(purpose=purpose, agent_id=agent_id, step=step)
        return await client.complete(judge_model, messages, ctx, **params)

    return ScorerContext(judge_model=judge_model, judge=spec.judge.model_dump(),
                         personas=dict(spec.personas), activation=spec.activation,
                         record=record, complete=complete if client is not None else None)


def build_scorers(spec: ExperimentSpec, client: ModelClient | None,
                  record: Record | None = None) -> list[Scorer]:
    """The configured scorers, built by registry name (`record`: see ScorerContext)."""
    ctx = scorer_context(spec, client, record)
    return [registry.get("scorer", name)(ctx) for name in spec.probes.scorers]


def build_trackers(spec: ExperimentSpec, client: ModelClient | None = None,
                   record: Record | None = None) -> list[Tracker]:
    """Trackers for a run, when probes are on: the probe scheduler with its scorers, and the
    reply scorer (`probes.score_replies`), which shares those scorers."""
    if not spec.probes.enabled:
        return []
    scorers = build_scorers(spec, client, record)
    trackers = [registry.get("tracker", "probes")(spec.probes, scorers, spec.seed)]
    if spec.probes.score_replies:
        trackers.append(registry.get("tracker", "replies")(scorers))
    return trackers


def build_task(spec: ExperimentSpec, client: ModelClient | None, run_dir: Path) -> Task:
    """The run's task environment, built by registry name; simulated users call models through
    the run's client (purpose 'user', model role `models.user`)."""
    from scaffold.tasks.base import TaskContext

    user_model = spec.models.user or spec.model

    async def complete(messages: list[dict[str, Any]], *, agent_id: str, step: int,
                       persona: dict[str, Any] | None = None, **params: Any) -> Any:
        assert client is not None
        ctx = CallContext(purpose="user", agent_id=agent_id, step=step, persona=persona or {})
        return await client.complete(user_model, messages, ctx, **params)

    ctx = TaskContext(spec=spec, agent_ids=[a.id for a in spec.agents], seed=spec.seed,
                      run_dir=run_dir, complete=complete if client is not None else None)
    return registry.get("task", spec.task.kind)(ctx)


def build_agent(spec: ExperimentSpec, agent: AgentSpec, run_dir: Path, client: ModelClient,
                bus: EventBus, trackers: TrackerSet) -> AgentRuntime:
    """One agent's runtime with a fresh memory stack."""
    persona = spec.personas[agent.persona]
    model = spec.agent_model(agent)
    counter = TokenCounter(model)  # the stack and its backends count with the same one
    context = BackendContext(run_dir=run_dir, run_id=run_dir.name, agent_id=agent.id,
                             identity=persona.identity, counter=counter)
    stack = MemoryStack(persona.identity, build_backends(agent.memory, context),
                        counter, agent.memory.budget_tokens, agent.memory.shares)
    return AgentRuntime(run_id=run_dir.name, spec=agent, persona=persona, model=model,
                        summarizer_model=spec.summarizer_model(agent), stack=stack,
                        helper_models=spec.helper_models(agent),
                        client=client, bus=bus, trackers=trackers, seed=spec.seed)
