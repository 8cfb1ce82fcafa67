"""The experiment file: agents, task, probes, models, and YAML loading with field-path errors."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from scaffold.config._activation import ActivationSpec
from scaffold.config._base import SLUG, Spec
from scaffold.config._budget import memory_budget_problem
from scaffold.config._endpoint import EndpointSpec, check_endpoint_keys
from scaffold.config._memory import MemorySpec
from scaffold.config._persona import PersonaSpec
from scaffold.config._sampling import (
    HelperSampling,
    LocalModelSpec,
    SamplingSpec,
    SummarizerSampling,
)
from scaffold.config._task import TaskSpec

DEFAULT_MODEL = "local/qwen2.5-0.5b-instruct"
"""The embedded default: runs in-process on a CPU, offline, with no keys."""


class GenerationSpec(SamplingSpec):
    """Sampling settings for the agent's own replies (each reply's seed: seed + step)."""

    temperature: float = Field(default=0.7, ge=0, le=2)
    """Sampling temperature."""
    max_tokens: int = Field(default=128, ge=1)
    """Token cap for one reply."""


class AgentSpec(Spec):
    """One agent in a run."""

    id: str = Field(pattern=SLUG)
    """Unique agent id within the run."""
    persona: str
    """Key into `personas`."""
    model: str | None = None
    """litellm model name; defaults to the experiment's `model`."""
    memory: MemorySpec = Field(default_factory=MemorySpec)
    """The memory condition."""
    generation: GenerationSpec = Field(default_factory=GenerationSpec)
    """Sampling for the agent's replies."""
    summarizer: SummarizerSampling = Field(default_factory=SummarizerSampling)
    """Sampling for this agent's summaries (model: memory.summary.model / models.summarizer)."""
    notes: SamplingSpec = Field(default_factory=SamplingSpec)
    """Sampling for the notes this agent writes (its own model; token cap:
    memory.notes.max_tokens); temperature, top_p and seed default to `generation`'s."""
    sleeptime: HelperSampling = Field(default_factory=HelperSampling)
    """Sampling for this agent's sleep-time agent (model: memory.sleeptime.model /
    models.sleeptime; token cap: memory.sleeptime.max_tokens)."""
    importance: HelperSampling = Field(default_factory=HelperSampling)
    """Sampling for the importance rater of `reflection` memory (model: models.importance)."""
    reflector: HelperSampling = Field(default_factory=HelperSampling)
    """Sampling for the reflector of `reflection` memory (model: models.reflector)."""
    fact_extractor: HelperSampling = Field(default_factory=HelperSampling)
    """Sampling for the fact extractor of `facts` memory, both its extraction and its update
    calls (model: models.fact_extractor)."""
    probe: bool = True
    """Ask this agent identity probes (e.g. probe only one side of a self-chat)."""


class ProbeSchedule(SamplingSpec):
    """When probe rounds run, what they ask, how answers are sampled and scored.

    By default each probe is answered 3 times at temperature 0.7 (the agent's own default), so
    a round's score is a share of sampled answers rather than one greedy answer; every answer has
    its own seed, derived from `seed` (or the run's), the agent, the round, the probe and the
    sample. For one greedy answer per probe set `temperature: 0` (samples then defaults to 1).
    """

    enabled: bool = True
    """Turn probes off entirely (same as --no-probes)."""
    every: int = Field(default=5, ge=1)
    """Run a probe round after every N steps."""
    around_memory_events: bool | list[str] = True
    """Probe right before and after memory events: all kinds (True), none (False), or the
    listed kinds (summarize, truncate, retrieve, core_edit, note, summary_rewrite,
    sleeptime_rewrite, file_edit, file_open, file_close, ...)."""
    at_end: bool = True
    """Run a final round when the run ends."""
    generic: bool = True
    """Add the built-in generic identity probes to the persona's own."""
    temperature: float = Field(default=0.7, ge=0, le=2)
    """Sampling temperature for probe answers."""
    max_tokens: int = Field(default=64, ge=1)
    """Token cap for one probe answer."""
    samples: int = Field(default=3, ge=1, le=16)
    """Answers sampled per probe (more than 1 needs temperature > 0; 1 when temperature is 0
    and samples is not given)."""
    scorers: list[str] = Field(default_factory=lambda: ["rules", "break", "embedding"])
    """Scorers applied to every answer (registry names: rules, break, embedding, judge, ...)."""
    score_memory: bool = True
    """Also score memory text (summaries, notes, core edits) as text about the self."""
    score_replies: bool = True
    """Also score every assistant reply (target `message`) with each scorer that needs no
    probe (all but rules). Cheap scorers make no model call; the judge, if listed in
    `scorers`, costs one judge call per reply."""

    @field_validator("scorers")
    @classmethod
    def _known_scorers(cls, names: list[str]) -> list[str]:
        from scaffold.registry import list_plugins

        known = {p.name for p in list_plugins("scorer")}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown scorer {', '.join(map(repr, unknown))}; "
                             f"known: {', '.join(sorted(known))}")
        return names

    @model_validator(mode="before")
    @classmethod
    def _greedy_takes_one_sample(cls, data: Any) -> Any:
        """`temperature: 0` without `samples` means one (greedy) answer per probe."""
        if isinstance(data, dict) and "samples" not in data and data.get("temperature") == 0:
            return {**data, "samples": 1}
        return data

    @field_validator("samples")
    @classmethod
    def _samples_vary(cls, samples: int, info: ValidationInfo) -> int:
        if samples > 1 and info.data.get("temperature") == 0:
            raise ValueError(f"{samples} samples at temperature 0 are the same answer asked "
                             "again; set probes.temperature above 0, or samples: 1")
        return samples


class ExecutionSpec(Spec):
    """How runs execute: runs at once, model-call limits, retries of failed runs."""

    concurrency: int = Field(default=1, ge=1, le=1024)
    """Runs executed at the same time (asyncio)."""
    model_concurrency: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    """Calls in flight per model name; models not listed get default_model_concurrency."""
    default_model_concurrency: int = Field(default=8, ge=1)
    """Calls in flight per model when not listed (in-process local models always take 1)."""
    requests_per_minute: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    """Optional request-rate cap per model name."""
    retries: int = Field(default=0, ge=0, le=20)
    """Times a failed run is retried (resuming where it stopped); each failure is recorded."""
    workers: int = Field(default=1, ge=1, le=256)
    """Processes the local executor spreads runs over (each on its own event loop); the
    concurrency and model limits above are divided between them. Use more than 1 when many
    runs against remote models are CPU-bound in one process."""


def linked_axis_problem(name: str, values: list[Any]) -> None:
    """Check a linked axis (mappings as values): every value a mapping with a unique `label`
    and at least one other key.

    Raises:
        ValueError: naming the axis and the value.
    """
    if not any(isinstance(v, dict) for v in values):
        return
    labels = []
    for i, value in enumerate(values):
        if not isinstance(value, dict):
            raise ValueError(f"{name}[{i}]: a linked axis needs a mapping for every value "
                             "(label: ..., plus the dotted paths it sets)")
        label = value.get("label")
        if not isinstance(label, (str, int)) or isinstance(label, bool) or len(value) < 2:
            raise ValueError(f"{name}[{i}]: a linked axis value needs a `label` (text) and at "
                             "least one dotted path to set")
        labels.append(label)
    if len(set(labels)) != len(labels):
        raise ValueError(f"{name}: labels repeat: {labels}")


class SweepSpec(Spec):
    """Axes crossed into runs: each extra key is an axis (`memory`, `model`, `seed`, `steps`,
    or a dotted spec path) with a list of values; `exclude` drops matching combinations."""

    model_config = ConfigDict(extra="allow", frozen=True)

    exclude: list[dict[str, Any]] = Field(default_factory=list)
    """Combinations to skip: each rule matches when all its axis values are equal."""

    def axes(self) -> dict[str, list[Any]]:
        """Axis name -> values, in file order. A linked axis has mappings as values, each a
        `label` and the dotted paths it sets together (e.g. a user persona and its goal)."""
        return dict(self.model_extra or {})

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        axes = self.axes()
        if not axes:
            raise ValueError("a sweep needs at least one axis (e.g. seed: [0, 1, 2])")
        for name, values in axes.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"{name}: an axis is a non-empty list of values")
            linked_axis_problem(name, values)
        for i, rule in enumerate(self.exclude):
            unknown = sorted(set(rule) - set(axes))
            if unknown:
                raise ValueError(f"exclude[{i}]: {', '.join(unknown)} is not a sweep axis")
        return self


class JudgeSpec(SamplingSpec):
    """The LLM judge: a 0-3 role-adherence rubric."""

    rubric: str | None = None
    """A custom rubric text; the default is the built-in 0-3 role-adherence rubric."""
    temperature: float = Field(default=0.0, ge=0, le=2)
    """Judge sampling temperature."""
    max_tokens: int = Field(default=160, ge=8)
    """Token cap for one verdict."""
    scale: tuple[int, int] = (0, 3)
    """Lowest and highest score of the rubric (the built-in one is 0-3)."""

    @field_validator("scale")
    @classmethod
    def _ordered(cls, scale: tuple[int, int]) -> tuple[int, int]:
        if scale[0] >= scale[1]:
            raise ValueError("highest score must exceed lowest")
        return scale


class ModelRoles(Spec):
    """Models for roles other than the agent itself."""

    summarizer: str | None = None
    """Writes summaries; defaults to each agent's model."""
    judge: str | None = None
    """Scores answers with a rubric; defaults to each agent's model."""
    user: str | None = None
    """Plays the simulated user of the `pressure` task; defaults to the experiment's model."""
    sleeptime: str | None = None
    """Rewrites the core blocks of `sleeptime` memory between steps; defaults to each agent's
    model."""
    importance: str | None = None
    """Rates each observation of `reflection` memory 1-10; defaults to each agent's model."""
    reflector: str | None = None
    """Writes the reflections of `reflection` memory; defaults to each agent's model."""
    fact_extractor: str | None = None
    """Extracts facts and decides their ADD / UPDATE / DELETE in `facts` memory; defaults to
    each agent's model."""


class RetrySpec(Spec):
    """Retries for transient model errors."""

    attempts: int = Field(default=5, ge=1, le=20)
    """Total attempts per call."""
    initial_wait_s: float = Field(default=0.5, ge=0)
    """First backoff wait; doubles each retry, with jitter."""
    max_wait_s: float = Field(default=30.0, ge=0)
    """Upper bound on one wait."""
    timeout_s: float = Field(default=120.0, gt=0)
    """Per-request timeout for remote models."""


class ForkSource(Spec):
    """Start this run from another run's checkpoint (written by the TUI's `f`)."""

    run: str
    """The source run directory."""
    step: int = Field(ge=0)
    """Continue after this step; history up to it is copied."""
    agent: str | None = None
    """The agent selected when the fork was asked for (informational)."""


class ExperimentSpec(Spec):
    """A whole experiment file."""

    name: str = Field(pattern=SLUG)
    """Experiment name; runs go to <out>/<name>/<run-id>/."""
    description: str = ""
    """Free text for humans."""
    seed: int = 0
    """Seed for the task, the models and the scripted filler."""
    steps: int = Field(default=30, ge=1)
    """Agent steps per run (one user turn + one agent reply each)."""
    out: str = "runs"
    """Output directory."""
    model: str = DEFAULT_MODEL
    """Default agent model (a litellm name, local/<name> or scripted/<name>)."""
    models: ModelRoles = Field(default_factory=ModelRoles)
    """Summarizer and judge roles."""
    endpoints: dict[str, EndpointSpec] = Field(default_factory=dict)
    """Servers of remote models, by model name or provider (`ollama`, `hosted_vllm`); models
    not listed use litellm's defaults and environment (OPENAI_API_BASE, OLLAMA_API_BASE, ...)."""
    retry: RetrySpec = Field(default_factory=RetrySpec)
    """Retry policy for model calls."""
    execution: ExecutionSpec = Field(default_factory=ExecutionSpec)
    """Concurrency, rate limits and run retries."""
    personas: dict[str, PersonaSpec] = Field(min_length=1)
    """Personas by key. In a config file an entry may instead name an external set
    (`{from: <path>, format: ...}`, see scaffold.personas); scaffold.loading expands it into
    personas keyed `<entry>/<persona>` before validation."""
    agents: list[AgentSpec] = Field(default_factory=list)
    """Agents; when empty, one agent per persona with default settings."""
    task: TaskSpec = Field(default_factory=TaskSpec)
    """The task environment."""
    probes: ProbeSchedule = Field(default_factory=ProbeSchedule)
    """Probe schedule."""
    judge: JudgeSpec = Field(default_factory=JudgeSpec)
    """LLM judge settings (model: models.judge)."""
    activation: ActivationSpec = Field(default_factory=ActivationSpec)
    """The `activation` scorer's reader model, axis files and layer."""
    local: LocalModelSpec = Field(default_factory=LocalModelSpec)
    """The embedded model's context size and threads (for `local/...` models)."""
    sweep: SweepSpec | None = None
    """Axes to cross into several runs (see `scaffold plan`)."""
    sweep_point: dict[str, Any] = Field(default_factory=dict)
    """Set by the sweep, not written by hand: the axis values (a linked axis by its label)
    that made this run; `scaffold report --by AXIS` groups by them."""
    fork: ForkSource | None = None
    """Continue from another run's checkpoint instead of starting at step 0."""

    _endpoint_keys = field_validator("endpoints")(check_endpoint_keys)

    @model_validator(mode="before")
    @classmethod
    def _top_level_exclude(cls, data: Any) -> Any:
        """`exclude:` beside `sweep:` holds more of the sweep's exclude rules."""
        if not isinstance(data, dict) or "exclude" not in data:
            return data
        data = dict(data)
        rules = data.pop("exclude")
        sweep = data.get("sweep")
        if not isinstance(sweep, dict):
            raise ValueError("exclude: drops combinations of a sweep, but there is no sweep: "
                             "mapping of axes")
        if not isinstance(rules, list):
            raise ValueError("exclude: expected a list of rules like {memory: window, seed: 1}")
        data["sweep"] = {**sweep, "exclude": [*(sweep.get("exclude") or []), *rules]}
        return data

    @model_validator(mode="after")
    def _agents(self) -> ExperimentSpec:
        user_persona = self.task.user.persona if self.task.kind == "pressure" else None
        if not self.agents:
            # Keys of expanded persona sets hold "/", which agent ids (slugs) may not.
            agents = [AgentSpec(id=key.replace("/", "."), persona=key) for key in self.personas
                      if key != user_persona]
            object.__setattr__(self, "agents", agents)
        ids = [a.id for a in self.agents]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"agents: duplicate agent ids: {', '.join(dupes)}")
        for i, agent in enumerate(self.agents):
            self._check_persona(f"agents[{i}].persona", agent.persona)
            problem = memory_budget_problem(agent.memory, self.personas[agent.persona].identity)
            if problem:
                raise ValueError(f"agents[{i}].memory.{problem}")
        self._check_task(ids, user_persona)
        self._check_activation()
        return self

    def _check_activation(self) -> None:
        """Given axis files must fit the personas: a persona axis of nobody here is a typo or
        the wrong file; with the scorer on, every agent needs an axis it can be read on."""
        try:
            files = self.activation.axis_files()
        except ValueError as exc:
            raise ValueError(f"activation.{exc}") from None
        names = {p.name for p in self.personas.values()}
        for i, f in enumerate(files):
            if f.kind == "persona" and f.persona not in names:
                raise ValueError(f"activation.axes[{i}]: a persona axis of {f.persona!r}, "
                                 f"which is none of this experiment's personas "
                                 f"({', '.join(sorted(names))})")
        if not files or "activation" not in self.probes.scorers or \
                any(f.kind == "assistant" for f in files):
            return
        covered = {f.persona for f in files}
        for i, agent in enumerate(self.agents):
            name = self.personas[agent.persona].name
            if name not in covered:
                raise ValueError(f"activation.axes: no assistant axis and no persona axis of "
                                 f"{name!r} (agents[{i}]): its texts could not be scored")

    def _check_persona(self, field: str, key: str) -> None:
        if key not in self.personas:
            known = ", ".join(sorted(self.personas))
            raise ValueError(f"{field}: unknown persona {key!r} (known: {known})")

    def _check_task(self, ids: list[str], user_persona: str | None) -> None:
        kind, n = self.task.kind, len(ids)
        if kind == "selfchat" and n != 2:
            raise ValueError(f"task.kind: selfchat needs exactly 2 agents, got {n}")
        if kind == "selfchat" and self.task.selfchat.first not in (None, *ids):
            raise ValueError(f"task.selfchat.first: {self.task.selfchat.first!r} is not an "
                             f"agent id (agents: {', '.join(ids)})")
        if kind == "room" and not 2 <= n <= 16:
            raise ValueError(f"task.kind: a room needs 2 to 16 agents, got {n}")
        if user_persona is not None:
            self._check_persona("task.user.persona", user_persona)
        if kind == "pressure" and self.task.user.style == "custom" and not self.task.user.goal:
            raise ValueError("task.user.goal: style 'custom' needs a goal")

    def agent_model(self, agent: AgentSpec) -> str:
        """The model an agent runs on."""
        return agent.model or self.model

    def summarizer_model(self, agent: AgentSpec) -> str:
        """The model that writes an agent's summaries."""
        return agent.memory.summary.model or self.models.summarizer or self.agent_model(agent)

    def sleeptime_model(self, agent: AgentSpec) -> str:
        """The model of an agent's sleep-time agent."""
        return agent.memory.sleeptime.model or self.models.sleeptime or self.agent_model(agent)

    def helper_models(self, agent: AgentSpec) -> dict[str, str]:
        """The models of an agent's memory helper roles, by role (its `complete_role` calls)."""
        design = agent.memory.reflection.model, agent.memory.facts.model
        return {"sleeptime": self.sleeptime_model(agent),
                "importance": design[0] or self.models.importance or self.agent_model(agent),
                "reflector": design[0] or self.models.reflector or self.agent_model(agent),
                "fact_extractor": design[1] or self.models.fact_extractor
                or self.agent_model(agent)}
