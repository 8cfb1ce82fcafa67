"""Pydantic models for every metrics output (they leave the process as JSON)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CurvePoint(_Out):
    """One probe round on an identity curve."""

    step: int
    """The agent step the round was asked at."""
    value: float
    """Mean score of the round's scored answers, in [0, 1]."""
    smoothed: float
    """Centred rolling mean of `value` over neighbouring rounds."""
    round_id: str
    trigger: str
    """periodic, before_memory, after_memory, end, manual or reprobe."""
    n: int
    """Scored answers behind the mean."""


class HalfLife(_Out):
    """First step where the smoothed score falls below half its initial value."""

    step: int | None = None
    """None when the score never fell that low (censored)."""
    censored: bool = True
    initial: float | None = None
    """Smoothed score of the first round."""
    threshold: float | None = None
    """Half of `initial`."""
    observed_until: int | None = None
    """Last step with a round: the censoring time for survival tables."""


class BreakEpisode(_Out):
    """A stretch where the break series sat below 0.5."""

    break_step: int
    break_round: str
    recovery_step: int | None = None
    """First later step whose round is back at >= 0.5; None if it never recovered."""
    recovery_round: str | None = None
    steps_to_recover: int | None = None


class Breaks(_Out):
    """Persona breaks of one agent, judged on one scorer's rounds."""

    scorer: str | None = None
    """`break` when present, else `rules`; None when neither scored this agent."""
    break_step: int | None = None
    """First step whose round scored below 0.5; None if never."""
    recovery_step: int | None = None
    steps_to_recover: int | None = None
    episodes: list[BreakEpisode] = Field(default_factory=list)


class EventDelta(_Out):
    """Score of the round right after a memory event minus the round right before it."""

    memory_seq: int
    step: int
    kind: str
    status: str
    before_round: str | None = None
    after_round: str | None = None
    before: float | None = None
    after: float | None = None
    delta: float | None = None
    """None when either round is missing or unscored."""


class KindDelta(_Out):
    """Mean event delta over the memory events of one kind."""

    kind: str
    """The memory event kind; failed events are counted as `<kind>:failed`."""
    mean: float | None
    n: int


class ScorerMetrics(_Out):
    """One agent's identity curve and what follows from it, for one scorer."""

    scorer: str
    window: int
    """Rounds in the smoothing window."""
    curve: list[CurvePoint] = Field(default_factory=list)
    half_life: HalfLife = Field(default_factory=HalfLife)
    event_deltas: list[EventDelta] = Field(default_factory=list)
    delta_by_kind: list[KindDelta] = Field(default_factory=list)


class MemoryRecord(_Out):
    """A memory event with the scores of its own text (does it still speak as the persona?)."""

    seq: int
    step: int
    kind: str
    status: str
    backend: str
    author: str
    tokens_before: int
    tokens_after: int
    text: str
    scores: dict[str, float | None] = Field(default_factory=dict)
    """Per scorer, the memory-text score (target memory)."""


class ContextPoint(_Out):
    """Tokens per context section at one step (the last context event of the step)."""

    step: int
    sections: dict[str, int]
    total_tokens: int
    budget_tokens: int


class AgentMetrics(_Out):
    """Everything measured about one agent of one run."""

    run_id: str
    agent_id: str
    condition: str
    """The agent's memory condition (or its explicit backend list joined with '+')."""
    model: str
    steps: int
    scorers: dict[str, ScorerMetrics] = Field(default_factory=dict)
    breaks: Breaks = Field(default_factory=Breaks)
    memory: list[MemoryRecord] = Field(default_factory=list)
    context: list[ContextPoint] = Field(default_factory=list)


class Agreement(_Out):
    """Agreement of two scorers on the same answers after thresholding at 0.5."""

    scorer_a: str
    scorer_b: str
    n: int
    """Answers both scored."""
    agreement: float | None
    """Fraction of answers on which both agree."""
    kappa: float | None
    """Cohen's kappa; None when undefined (no answers, or chance agreement is 1)."""


class RunMetrics(_Out):
    """One run: its agents and its scorer agreement."""

    run_id: str
    experiment: str
    path: str
    status: str
    """done, failed or interrupted from run_end; running when the log has no end yet."""
    agents: list[AgentMetrics] = Field(default_factory=list)
    agreement: list[Agreement] = Field(default_factory=list)


class MeanPoint(_Out):
    """Mean score across agents at one step, with a bootstrap interval."""

    step: int
    mean: float
    low: float
    high: float
    n: int


class SurvivalRow(_Out):
    """Kaplan-Meier estimate of the fraction of agents whose persona has not halved yet."""

    step: int
    at_risk: int
    events: int
    censored: int
    survival: float


class ConditionScorer(_Out):
    """Aggregates of one scorer over the agents of one condition."""

    scorer: str
    n_agents: int
    curve: list[MeanPoint] = Field(default_factory=list)
    survival: list[SurvivalRow] = Field(default_factory=list)
    median_half_life: int | None = None
    """First step where survival is at or below 0.5; None if it never gets there."""
    delta_by_kind: list[KindDelta] = Field(default_factory=list)


class ConditionMetrics(_Out):
    """One condition (memory condition x model) across runs and seeds."""

    condition: str
    model: str
    agents: list[str] = Field(default_factory=list)
    """`run_id/agent_id` of every agent counted."""
    broke: int = 0
    """Agents with at least one break."""
    scorers: dict[str, ConditionScorer] = Field(default_factory=dict)


class MetricsSettings(_Out):
    """How the numbers were computed."""

    window: int = Field(default=3, ge=1)
    """Rounds in the smoothing window."""
    confidence: float = Field(default=0.95, gt=0, lt=1)
    resamples: int = Field(default=2000, ge=100)
    seed: int = 0
    """Seed of the bootstrap."""


class ReportMetrics(_Out):
    """All metrics of a directory of runs."""

    source: str
    settings: MetricsSettings
    runs: list[RunMetrics] = Field(default_factory=list)
    conditions: list[ConditionMetrics] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    """Runs left out because their event log is damaged, each with the reason."""
