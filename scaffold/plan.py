"""Budget estimates for `scaffold plan`: model calls and tokens a run will roughly need."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pydantic import BaseModel, Field

from scaffold.config import AgentSpec, ExperimentSpec
from scaffold.plan_events import REPLY_FILL, memory_events
from scaffold.trackers.generic import probe_set
from scaffold.trackers.probes import MEMORY_TEXT_KINDS, PROBED_KINDS


class RunEstimate(BaseModel):
    """Expected size of one run, with the range its model calls may take.

    `calls` is an estimate: memory events (truncations, summaries, retrievals, rewrites) are
    simulated from the budget, the threshold and replies at `REPLY_FILL` of their token cap,
    and each brings its probe rounds and helper calls. `calls_low` is what the run makes if
    the context never fills (only scheduled memory events); `calls_high` assumes every reply runs to its cap, every
    helper call is retried and the agent calls a memory tool at every act."""

    calls: int
    calls_low: int
    calls_high: int
    prompt_tokens: int
    completion_tokens: int
    memory_calls: dict[str, int] = Field(default_factory=dict)
    """Expected calls of memory helper roles by role (summarizer, sleeptime, importance, ...),
    included in `calls`."""
    memory_events: dict[str, int] = Field(default_factory=dict)
    """Expected memory events by kind, over all agents."""
    probe_rounds: int = 0
    """Expected probe rounds (periodic, end, and around memory events), over all agents."""


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


@dataclass(frozen=True)
class AgentCalls:
    """One agent's calls under one assumption about its memory events."""

    agent: int
    probe: int
    helpers: Counter[str]
    events: Counter[str]
    rounds: int

    @property
    def total(self) -> int:
        return self.agent + self.probe + sum(self.helpers.values())


def _end_round(spec: ExperimentSpec, index: int) -> int:
    """1 when the end round is asked: it is skipped when the agent's last act was also the
    run's last step and brought a periodic round (nothing changed since)."""
    if not spec.probes.at_end:
        return 0
    acts = turns_per_agent(spec)
    last_act_is_last_step = spec.task.kind not in SHARED_TURN_TASKS or \
        (spec.steps - 1) % len(spec.agents) == index
    return 0 if acts % spec.probes.every == 0 and last_act_is_last_step else 1


def agent_calls(spec: ExperimentSpec, index: int, fill: float, high: bool = False,
                overflow: bool = True) -> AgentCalls:
    """An agent's calls with replies at `fill` of their cap; `high`: helper calls retried and
    a memory tool called at every act; `overflow=False`: the context never fills, so only
    scheduled memory events happen."""
    agent = spec.agents[index]
    acts = turns_per_agent(spec)
    found = memory_events(spec, agent, acts, fill, tools=high, overflow=overflow)
    helpers = Counter({role: n for role, (n, _) in memory_calls(spec, agent).items()})
    if "sleeptime_rewrite" in found:  # scheduled and compaction-triggered rewrites, each block
        helpers["sleeptime"] = found["sleeptime_rewrite"] * len(agent.memory.sleeptime.blocks)
    summary = agent.memory.summary
    tries = 1 + (summary.retries if high and summary.on_failure == "retry" else 0)
    helpers["summarizer"] = found["summarize"] * tries
    helpers["notes"] = found["note"]
    rounds = probe_calls = 0
    if spec.probes.enabled and agent.probe:
        probed = PROBED_KINDS if spec.probes.around_memory_events is True else \
            frozenset(spec.probes.around_memory_events or ())
        rounds = acts // spec.probes.every + _end_round(spec, index) + 2 * sum(
            n for kind, n in found.items() if kind in probed)
        probes = len(probe_set(spec.personas[agent.persona], spec.probes.generic))
        probe_calls = rounds * probes * spec.probes.samples
    if "judge" in spec.probes.scorers:  # one call per answer, reply and memory text judged
        helpers["judge"] = probe_calls + (acts if spec.probes.score_replies else 0) + (
            sum(n for k, n in found.items() if k in MEMORY_TEXT_KINDS)
            if spec.probes.score_memory else 0)
    agent_turns = acts * (2 if spec.task.kind == "pressure" else 1)  # + the simulated user
    return AgentCalls(agent_turns, probe_calls, +helpers, found, rounds)


def estimate(spec: ExperimentSpec) -> RunEstimate:
    """Expected calls and tokens of a run, and the range of its calls (see RunEstimate);
    prompts are counted at threshold × budget."""
    calls = low = high = prompt = completion = rounds = 0
    helpers: Counter[str] = Counter()
    events: Counter[str] = Counter()
    for index, agent in enumerate(spec.agents):
        expected = agent_calls(spec, index, REPLY_FILL)
        low += agent_calls(spec, index, REPLY_FILL, overflow=False).total
        high += agent_calls(spec, index, 1.0, high=True).total
        calls += expected.total
        rounds += expected.rounds
        helpers.update(expected.helpers)
        events.update(expected.events)
        memory = agent.memory
        full = int(memory.budget_tokens * memory.summary.threshold)
        caps = memory_calls(spec, agent)
        helper_cap = {"summarizer": memory.summary.max_tokens, "notes": memory.notes.max_tokens,
                      "sleeptime": memory.sleeptime.max_tokens,
                      "judge": spec.judge.max_tokens}
        prompt += expected.total * full
        completion += expected.agent * agent.generation.max_tokens + \
            expected.probe * spec.probes.max_tokens + sum(
                n * (caps[r][1] if r in caps else helper_cap.get(r, spec.probes.max_tokens))
                for r, n in expected.helpers.items())
    return RunEstimate(calls=calls, calls_low=low, calls_high=max(high, calls),
                       prompt_tokens=prompt, completion_tokens=completion,
                       memory_calls=dict(helpers), memory_events=dict(events),
                       probe_rounds=rounds)
