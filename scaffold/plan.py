"""Budget estimates for `scaffold plan`: model calls and tokens a run will roughly need."""

from __future__ import annotations

from pydantic import BaseModel, Field

from scaffold.config import AgentSpec, ExperimentSpec
from scaffold.trackers.generic import probe_set


class RunEstimate(BaseModel):
    """Rough size of one run (a lower bound on calls: memory-event probes come on top)."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    memory_calls: dict[str, int] = Field(default_factory=dict)
    """Calls of memory helper roles by role (sleeptime, ...), included in `calls`: a lower
    bound (scheduled ones only; those triggered by compactions come on top)."""


SHARED_TURN_TASKS = frozenset({"selfchat", "room"})
"""Tasks where one agent acts per step (the others wait for their turn)."""


def turns_per_agent(spec: ExperimentSpec) -> int:
    """Acts each agent takes: every step, or its share of the steps in a shared channel."""
    if spec.task.kind in SHARED_TURN_TASKS:
        return -(-spec.steps // len(spec.agents))
    return spec.steps


def memory_calls(spec: ExperimentSpec, agent: AgentSpec) -> dict[str, tuple[int, int]]:
    """Scheduled calls of an agent's memory helper roles: role -> (calls, token cap each)."""
    memory, found = agent.memory, {}
    every = memory.sleeptime.every
    if "sleeptime" in memory.plan() and every is not None:
        sleeptime = memory.sleeptime
        # a rewrite runs at the step after every N-th completed step: never after the last
        rewrites = (turns_per_agent(spec) - 1) // every
        found["sleeptime"] = (rewrites * len(sleeptime.blocks), sleeptime.max_tokens)
    found.update(design_calls(spec, agent))
    return found


ASSUMED_IMPORTANCE = 6
"""Mean importance assumed for planning reflections (measured: the embedded model rated the
47 observations of the 24-step JFK example 6.4 on average)."""


def design_calls(spec: ExperimentSpec, agent: AgentSpec) -> dict[str, tuple[int, int]]:
    """Calls of the reflection and facts designs: role -> (calls, token cap each). About two
    observations per act (the turn answered and the reply): each one importance rating (and
    one fact-extraction exchange per act, then one update call per act once the table holds
    facts); a reflection every `threshold` / ASSUMED_IMPORTANCE observations, costing a
    question call (unless the questions are fixed), one insight call per question and a
    rating per insight."""
    from scaffold.config._sampling import IMPORTANCE_MAX_TOKENS

    memory, acts, found = agent.memory, turns_per_agent(spec), {}
    plan = memory.plan()
    if "reflection" in plan:
        r = memory.reflection
        observations = 2 * acts
        reflections = observations * ASSUMED_IMPORTANCE // r.threshold
        questions = len(r.questions) or r.n_questions
        ratings = observations + (reflections * questions * r.insights
                                  if r.rate_reflections else 0)
        found["importance"] = (ratings, IMPORTANCE_MAX_TOKENS)
        found["reflector"] = (reflections * (questions + (0 if r.questions else 1)),
                              r.max_tokens)
    if "facts" in plan:
        found["fact_extractor"] = (acts + max(0, acts - 1), memory.facts.max_tokens)
    return found


def estimate(spec: ExperimentSpec) -> RunEstimate:
    """Agent calls plus periodic/end probe rounds, with prompts at threshold × budget; the
    pressure task's simulated user adds one call per turn."""
    calls = prompt = completion = 0
    helpers: dict[str, int] = {}
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
        for role, (n, max_tokens) in memory_calls(spec, agent).items():
            helpers[role] = helpers.get(role, 0) + n
            calls += n
            prompt += n * full
            completion += n * max_tokens
    return RunEstimate(calls=calls, prompt_tokens=prompt, completion_tokens=completion,
                       memory_calls=helpers)
