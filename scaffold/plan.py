"""Budget estimates for `scaffold plan`: model calls and tokens a run will roughly need."""

from __future__ import annotations

from pydantic import BaseModel

from scaffold.config import ExperimentSpec
from scaffold.trackers.generic import probe_set


class RunEstimate(BaseModel):
    """Rough size of one run (a lower bound on calls: memory-event probes come on top)."""

    calls: int
    prompt_tokens: int
    completion_tokens: int


SHARED_TURN_TASKS = frozenset({"selfchat", "room"})
"""Tasks where one agent acts per step (the others wait for their turn)."""


def turns_per_agent(spec: ExperimentSpec) -> int:
    """Acts each agent takes: every step, or its share of the steps in a shared channel."""
    if spec.task.kind in SHARED_TURN_TASKS:
        return -(-spec.steps // len(spec.agents))
    return spec.steps


def estimate(spec: ExperimentSpec) -> RunEstimate:
    """Agent calls plus periodic/end probe rounds, with prompts at threshold × budget; the
    pressure task's simulated user adds one call per turn."""
    calls = prompt = completion = 0
    for agent in spec.agents:
        agent_calls = turns_per_agent(spec)
        if spec.task.kind == "pressure":
            agent_calls *= 2
        probe_calls = 0
        if spec.probes.enabled and agent.probe:
            rounds = turns_per_agent(spec) // spec.probes.every + (1 if spec.probes.at_end else 0)
            probes = len(probe_set(spec.personas[agent.persona], spec.probes.generic))
            probe_calls = rounds * probes * spec.probes.samples
        memory = agent.memory
        full = int(memory.budget_tokens * memory.summary.threshold)
        calls += agent_calls + probe_calls
        prompt += (agent_calls + probe_calls) * full
        completion += agent_calls * agent.generation.max_tokens + \
            probe_calls * spec.probes.max_tokens
    return RunEstimate(calls=calls, prompt_tokens=prompt, completion_tokens=completion)
