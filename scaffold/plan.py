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


def estimate(spec: ExperimentSpec) -> RunEstimate:
    """Agent calls plus periodic/end probe rounds, with prompts at threshold × budget."""
    calls = prompt = completion = 0
    for agent in spec.agents:
        agent_calls = spec.steps
        probe_calls = 0
        if spec.probes.enabled:
            rounds = spec.steps // spec.probes.every + (1 if spec.probes.at_end else 0)
            probes = len(probe_set(spec.personas[agent.persona], spec.probes.generic))
            probe_calls = rounds * probes * spec.probes.samples
        memory = agent.memory
        full = int(memory.budget_tokens * memory.summary.threshold)
        calls += agent_calls + probe_calls
        prompt += (agent_calls + probe_calls) * full
        completion += agent_calls * agent.generation.max_tokens + \
            probe_calls * spec.probes.max_tokens
    return RunEstimate(calls=calls, prompt_tokens=prompt, completion_tokens=completion)
