"""Pydantic models for every metrics output (they leave the process as JSON)."""

from __future__ import annotations

from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from scaffold.metrics._index import INDEX_DEFINITION


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


TARGET_FIELDS = {"message": "replies", "probe": "scorers", "memory": "memory_texts"}
"""Where each target's series sit on AgentMetrics and ConditionMetrics, in report order:
replies (`message`), probe rounds (`probe`), memory texts (`memory`)."""


class CurvePoint(_Out):
    """One probe round on an identity curve."""

    step: int
    """The agent step the round was asked at."""
    value: float
    """Mean score of the round's scored answers, in [0, 1]."""
    smoothed: float
    """Centred rolling mean of `value` over the points within the smoothing window (steps)."""
    round_id: str
    """The probe round's id; on reply curves, the reply's message id; on memory-text curves,
    `memory-<seq>` of the memory event."""
    trigger: str
    """periodic, before_memory, after_memory, end, manual or reprobe; `reply` for replies,
    `memory` for memory texts."""
    n: int
    """Scored answers behind the mean (probes x samples; for the index, probes)."""


class HalfLife(_Out):
    """First step where the smoothed score falls below half its initial value."""

    step: int | None = None
    """None when the score never fell that low (censored) or never held."""
    censored: bool = True
    never_held: bool = False
    """The initial smoothed score was below 0.5: the persona was never held, so there is
    nothing to lose. Such an agent is neither censored nor a survivor."""
    initial: float | None = None
    """Smoothed score of the first round."""
    threshold: float | None = None
    """Half of `initial` (None when the persona was never held)."""
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
    """`break` when present, else `rules` (probes only); None when neither scored."""
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


class ActivationDelta(_Out):
    """An activation reading's change across one memory event on one axis: raw projection and
    z after minus before (the [0,1] value hides how far the model moved)."""

    memory_seq: int
    step: int
    kind: str
    status: str
    target: str
    """`probe`: the rounds right before and after the event; `message`: the agent's last reply
    before it and first reply after it."""
    axis: str
    """`assistant` or `persona:<name>`."""
    before_ref: str | None = None
    """The round id or message id read before."""
    after_ref: str | None = None
    before_projection: float | None = None
    after_projection: float | None = None
    delta_projection: float | None = None
    before_z: float | None = None
    after_z: float | None = None
    delta_z: float | None = None
    events_between: int = 0
    """Other memory events of the agent between the two readings (they share the delta)."""


class ActivationKindDelta(_Out):
    """Mean activation delta per memory event kind over the agents of a condition."""

    target: str
    axis: str
    kind: str
    n_agents: int
    n_events: int
    mean_projection: float
    """Mean over agents of each agent's mean projection delta."""
    low: float | None = None
    high: float | None = None
    mean_z: float
    z_low: float | None = None
    z_high: float | None = None
    interval: Literal["bootstrap", "too few", "no spread"] = "bootstrap"


class ActivationPoint(_Out):
    """One activation reading of an agent on one axis: a probe round (the mean over its
    probes) or a reply."""

    target: Literal["probe", "message"]
    axis: str
    step: int
    ref: str
    """The probe round's id, or the reply's message id."""
    projection: float
    z: float


class ScorerMetrics(_Out):
    """One agent's identity curve and what follows from it, for one scorer (or the index)."""

    scorer: str
    target: str = "probe"
    """What the points are: `probe` rounds, assistant replies (`message`) or memory texts
    (`memory`)."""
    smooth_steps: int
    """Steps in the smoothing window."""
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
    """Per scorer, the memory-text score (target memory), and the identity `index`."""


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
    seed: int | None = None
    """The run's seed."""
    steps: int
    scorers: dict[str, ScorerMetrics] = Field(default_factory=dict)
    """Probe rounds: per scorer, and the identity index (`index`)."""
    replies: dict[str, ScorerMetrics] = Field(default_factory=dict)
    """Assistant replies (target message): per scorer, and the identity index (`index`)."""
    memory_texts: dict[str, ScorerMetrics] = Field(default_factory=dict)
    """The texts its memory wrote (target memory: summaries, notes, facts...), one point
    per text: per scorer, and the identity index (`index`)."""
    breaks: Breaks = Field(default_factory=Breaks)
    """Breaks in probe answers."""
    reply_breaks: Breaks = Field(default_factory=Breaks)
    """Breaks in replies, on the break scorer."""
    memory: list[MemoryRecord] = Field(default_factory=list)
    context: list[ContextPoint] = Field(default_factory=list)
    activation_deltas: list[ActivationDelta] = Field(default_factory=list)
    """Activation projection and z across each memory event (activation scorer runs only)."""
    activation: list[ActivationPoint] = Field(default_factory=list)
    """Every activation reading by step, per axis, on probe rounds and replies."""

    def series(self, target: str) -> dict[str, ScorerMetrics]:
        """Per scorer, the agent's series on `target` (a key of TARGET_FIELDS)."""
        return cast(dict[str, ScorerMetrics], getattr(self, TARGET_FIELDS[target]))


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
    """Mean score across agents at one step, with a bootstrap interval when n allows one."""

    step: int
    mean: float
    low: float | None = None
    """Interval bounds; None when n is below `MetricsSettings.min_n` (see `interval`)."""
    high: float | None = None
    n: int
    """Agents (runs, seeds) behind the mean."""
    values: list[float] = Field(default_factory=list)
    """Each agent's value at this step, in the order of `ConditionMetrics.agents` present."""
    interval: Literal["bootstrap", "too few", "no spread"] = "bootstrap"
    """`too few`: n < min_n, no interval is given; `no spread`: every value is equal, the
    zero-width interval shows only that the sample has no spread, not that the mean is
    certain."""


class ActivationCurve(_Out):
    """Activation by step over the agents of a condition, on one axis and target: z (from the
    axis file's default distribution) and the raw projection, each agent counted once per step
    (the mean of its readings there), with bootstrap intervals where n allows."""

    target: Literal["probe", "message"]
    axis: str
    n_agents: int
    z: list[MeanPoint] = Field(default_factory=list)
    projection: list[MeanPoint] = Field(default_factory=list)


class SurvivalRow(_Out):
    """Kaplan-Meier estimate of the fraction of agents whose persona has not halved yet."""

    step: int
    at_risk: int
    events: int
    censored: int
    survival: float


class AgentOutcome(_Out):
    """One agent's (one seed's) numbers behind a condition's aggregate."""

    agent: str
    """`run_id/agent_id`."""
    seed: int | None = None
    initial: float | None = None
    mean: float | None = None
    """Mean of the agent's points."""
    half_life: int | None = None
    outcome: Literal["halved", "censored", "never held", "no data"]


class Drift(_Out):
    """Change from each agent's first to its last scored point (raw values, not smoothed),
    paired over the agents of a condition: does the score move over the run?"""

    n: int
    """Agents with at least two points."""
    first_mean: float
    last_mean: float
    mean_change: float
    """Mean of (last - first) over agents; negative means the score fell."""
    low: float | None = None
    high: float | None = None
    interval: str = "too few"
    """`bootstrap`, `no spread` or `too few` (fewer than MetricsSettings.min_n agents)."""
    p_value: float | None = None
    """Two-sided Wilcoxon signed-rank test of the changes against 0 (zero changes dropped);
    None below min_n agents or when every change is 0."""
    changes: list[float] = Field(default_factory=list)
    """Each agent's change, in the order of `per_agent`."""


class Level(_Out):
    """The mean over agents of each agent's own mean, with a bootstrap interval over agents."""

    mean: float
    n: int
    low: float | None = None
    high: float | None = None
    interval: Literal["bootstrap", "too few", "no spread"]


class ConditionScorer(_Out):
    """Aggregates of one scorer (or the index) over the agents of one condition."""

    scorer: str
    target: str = "probe"
    """`probe` rounds, replies (`message`) or memory texts (`memory`)."""
    n_agents: int
    never_held: int = 0
    """Agents whose initial score was below 0.5: left out of the survival table."""
    per_agent: list[AgentOutcome] = Field(default_factory=list)
    curve: list[MeanPoint] = Field(default_factory=list)
    survival: list[SurvivalRow] = Field(default_factory=list)
    median_half_life: int | None = None
    """First step where survival is at or below 0.5; None if it never gets there."""
    delta_by_kind: list[KindDelta] = Field(default_factory=list)
    drift: Drift | None = None
    """First-to-last change over agents; None when no agent has two points."""
    level: Level | None = None
    """How high the score sits over the run: the mean of the agents' own means (each over
    its points); None when no agent has a point."""


class ConditionMetrics(_Out):
    """One condition (memory condition x model) across runs and seeds."""

    condition: str
    model: str
    agents: list[str] = Field(default_factory=list)
    """`run_id/agent_id` of every agent counted."""
    seeds: list[int] = Field(default_factory=list)
    """Distinct run seeds among its agents."""
    too_few: bool = False
    """Fewer agents than `MetricsSettings.min_n`: its intervals are not given."""
    broke: int = 0
    """Agents with at least one break in probe answers."""
    reply_broke: int = 0
    """Agents with at least one break in replies."""
    scorers: dict[str, ConditionScorer] = Field(default_factory=dict)
    """Probe rounds, per scorer and the index."""
    replies: dict[str, ConditionScorer] = Field(default_factory=dict)
    """Replies, per scorer and the index."""
    memory_texts: dict[str, ConditionScorer] = Field(default_factory=dict)
    """Memory texts, per scorer and the index; the mean curve carries each agent's latest
    text forward until its next (the memory it holds at each step)."""
    activation_deltas: list[ActivationKindDelta] = Field(default_factory=list)
    """Activation projection and z deltas per memory event kind (activation scorer runs)."""
    activation_curves: list[ActivationCurve] = Field(default_factory=list)
    """Activation z and projection by step per axis and target (activation scorer runs)."""

    def series(self, target: str) -> dict[str, ConditionScorer]:
        """Per scorer, the condition's aggregate on `target` (a key of TARGET_FIELDS)."""
        return cast(dict[str, ConditionScorer], getattr(self, TARGET_FIELDS[target]))


class MetricsSettings(_Out):
    """How the numbers were computed."""

    smooth_steps: int = Field(default=5, ge=1)
    """Steps in the smoothing window (centred): conditions probed at different rates are
    smoothed over the same stretch of the run."""
    min_n: int = Field(default=5, ge=2)
    """Fewest agents (seeds) a mean needs for an interval; below it none is given."""
    confidence: float = Field(default=0.95, gt=0, lt=1)
    resamples: int = Field(default=2000, ge=100)
    seed: int = 0
    """Seed of the bootstrap."""
    group_by: list[str] = Field(default_factory=lambda: ["condition"])
    """What splits agents into the compared groups, joined with ` · ` in their label:
    `condition` (memory condition, with the task when it is not a conversation), `persona`,
    `agent` (the agent id), `seed`, a sweep axis (a linked axis by its labels), or a dotted
    path into the run spec (`agents.0.persona`, `task.selfchat.opener_index`). Agents of
    different models are never pooled."""
    agents: list[str] = Field(default_factory=list)
    """Only these agent ids (e.g. the probed agent of a self-chat); empty means every agent."""
    reference: str | None = None
    """The condition (group label) the others are contrasted with; None: `window` when
    there is one, else the first condition."""


class ReaderSetting(_Out):
    """One setting the activation scores were read with, and the runs that used it."""

    source: str
    """`run`: the run's own scoring (manifest `scorers.activation`); `rescore`: a rescore
    pass (manifest `rescores`); `scores`: named by the score details only (older runs)."""
    reader: str
    reader_sha256: str | None = None
    """GGUF sha256 of the reader (an hf/ reader: sha256 over its weight files)."""
    layer: int | None = None
    """The configured layer; None: each axis file's own scoring layer."""
    axes: list[str] = Field(default_factory=list)
    """Axis files: `name: path (sha256 prefix, layer)`."""
    runs: list[str] = Field(default_factory=list)
    """Run ids (with the rescore pass for `rescore`)."""


class Contrast(_Out):
    """One condition against the reference condition on one target and scorer: the
    difference of the means of the agents' own means (each agent's mean over its points),
    with a bootstrap interval, a permutation p-value and its Holm adjustment."""

    condition: str
    model: str
    target: str
    """`probe`, `message` (replies) or `memory` (memory texts)."""
    scorer: str
    reference: str
    """The condition compared against (same model, target and scorer)."""
    n: int
    """Agents of the condition with a mean."""
    n_reference: int
    mean: float
    reference_mean: float
    difference: float
    """mean - reference_mean."""
    low: float | None = None
    high: float | None = None
    interval: Literal["bootstrap", "too few", "no spread"]
    """`too few` (no bounds, no p-value) when either side has fewer than `min_n` agents."""
    p_value: float | None = None
    """Two-sided permutation test of the difference (agents exchanged between the two)."""
    p_holm: float | None = None
    """Holm-adjusted over the conditions compared on the same model, target and scorer."""
    within_noise: bool | None = None
    """True when the interval contains 0 or the adjusted p is at least 1 - confidence; None
    with too few agents."""


class ReportMetrics(_Out):
    """All metrics of a directory of runs."""

    source: str
    settings: MetricsSettings
    index_definition: str = INDEX_DEFINITION
    """How the identity index combines scorers and probes (see docs/metrics.md)."""
    runs: list[RunMetrics] = Field(default_factory=list)
    conditions: list[ConditionMetrics] = Field(default_factory=list)
    activation_readers: list[ReaderSetting] = Field(default_factory=list)
    """What the activation scores were read with (reader, axis files), grouped across runs."""
    contrasts: list[Contrast] = Field(default_factory=list)
    """Each condition against the reference condition (`MetricsSettings.reference`)."""
    skipped: list[str] = Field(default_factory=list)
    """Runs left out because their event log is damaged, each with the reason."""
