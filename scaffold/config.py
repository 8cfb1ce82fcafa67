"""Experiment files: pydantic models, YAML loading and field-path error messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scaffold.errors import ConfigError

DEFAULT_MODEL = "local/qwen2.5-0.5b-instruct"
"""The embedded default: runs in-process on a CPU, offline, with no keys."""

_SLUG = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Spec(BaseModel):
    """Base for every config model: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RuleSpec(Spec):
    """Rule checks for one probe answer; the score is the fraction of checks that pass."""

    require_any: list[str] = Field(default_factory=list)
    """Keywords (case-insensitive, whole words); at least one must appear."""
    require_all: list[str] = Field(default_factory=list)
    """Keywords that must all appear."""
    require_regex: list[str] = Field(default_factory=list)
    """Regular expressions that must each match (case-insensitive)."""
    forbid: list[str] = Field(default_factory=list)
    """Keywords none of which may appear."""
    forbid_regex: list[str] = Field(default_factory=list)
    """Regular expressions none of which may match (case-insensitive)."""

    @field_validator("require_regex", "forbid_regex")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"item {i}: invalid regular expression {pattern!r}: {exc}")
        return patterns

    def is_empty(self) -> bool:
        """True when no check is configured."""
        return not (
            self.require_any or self.require_all or self.require_regex
            or self.forbid or self.forbid_regex
        )


class ProbeSpec(Spec):
    """One identity question asked on a fork of the agent's context."""

    id: str = Field(pattern=_SLUG)
    """Stable identifier used in events and reports."""
    question: str = Field(min_length=1)
    """The question appended to the agent's next input."""
    expect: RuleSpec = Field(default_factory=RuleSpec)
    """What an in-character answer looks like."""


class PersonaSpec(Spec):
    """A non-standard self: identity text, statements that express it, probes that test it."""

    name: str = Field(min_length=1)
    """Display name, e.g. 'John F. Kennedy'."""
    identity: str = Field(min_length=1)
    """The identity text, used as the agent's system prompt."""
    anchors: list[str] = Field(min_length=1)
    """First-person statements that express the persona (used by scorers and scripted models)."""
    probes: list[ProbeSpec] = Field(default_factory=list)
    """The persona's own identity probes."""

    @field_validator("probes")
    @classmethod
    def _unique_probe_ids(cls, probes: list[ProbeSpec]) -> list[ProbeSpec]:
        ids = [p.id for p in probes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate probe ids: {', '.join(dupes)}")
        return probes


def _unit_interval(value: float) -> float:
    if not 0 < value <= 1:
        raise ValueError("must be in (0, 1]")
    return value


class OverflowSpec(Spec):
    """When the context overflows and how much recent history always stays."""

    threshold: float = 0.8
    """Act when the next prompt would exceed threshold × budget_tokens; in (0, 1]."""
    keep_last: int = Field(default=4, ge=0)
    """Most recent messages always kept verbatim (tool call/result pairs are never split)."""

    _threshold = field_validator("threshold")(classmethod(lambda cls, v: _unit_interval(v)))


class SummarySpec(OverflowSpec):
    """Summarize-on-overflow settings."""

    prompt: str = "plain"
    """Built-in prompt name (plain, task, self, observer) or a custom prompt text."""
    model: str | None = None
    """Summarizer model; defaults to models.summarizer, then to the agent's model."""
    recursive: bool = True
    """Fold the previous summary into the next (True) or append summaries (False)."""
    identity: bool = False
    """Give the summarizer the persona's identity text (as the agent summarizing itself)."""
    eviction_share: float = 1.0
    """Share of the evictable (older) messages summarized per compaction; in (0, 1]."""
    max_tokens: int = Field(default=256, ge=16)
    """Token cap for one summary reply."""
    on_failure: Literal["retry", "keep_previous", "accept"] = "keep_previous"
    """What to do when a summary comes back empty, refused or runaway."""
    retries: int = Field(default=1, ge=0, le=10)
    """Extra attempts when on_failure is 'retry'."""

    _share = field_validator("eviction_share")(classmethod(lambda cls, v: _unit_interval(v)))


class MemorySpec(Spec):
    """One memory condition: which backend manages the context, and its settings."""

    condition: Literal["window", "summary"] = "summary"
    """Named condition: 'window' (plain truncation, the control) or 'summary'."""
    budget_tokens: int = Field(default=2048, ge=64)
    """The agent's context budget in tokens (system prompt and memory included)."""
    summary: SummarySpec = Field(default_factory=SummarySpec)
    """Settings for the summary condition."""
    window: OverflowSpec = Field(default_factory=OverflowSpec)
    """Settings for the window condition."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"condition": data} if isinstance(data, str) else data


class GenerationSpec(Spec):
    """Sampling settings for the agent's own replies."""

    temperature: float = Field(default=0.7, ge=0, le=2)
    """Sampling temperature."""
    max_tokens: int = Field(default=128, ge=1)
    """Token cap for one reply."""


class AgentSpec(Spec):
    """One agent in a run."""

    id: str = Field(pattern=_SLUG)
    """Unique agent id within the run."""
    persona: str
    """Key into `personas`."""
    model: str | None = None
    """litellm model name; defaults to the experiment's `model`."""
    memory: MemorySpec = Field(default_factory=MemorySpec)
    """The memory condition."""
    generation: GenerationSpec = Field(default_factory=GenerationSpec)
    """Sampling for the agent's replies."""


class PressureTurn(Spec):
    """A user turn that challenges the persona at a given step."""

    step: int = Field(ge=1)
    """The step whose user turn this replaces."""
    text: str = Field(min_length=1)
    """What the user says."""


class TaskSpec(Spec):
    """The environment that drives the agent."""

    kind: str = "conversation"
    """Registered task name."""
    turns: list[str] = Field(default_factory=list)
    """User turns, cycled; empty uses the built-in cycle of everyday topics."""
    pressure: list[PressureTurn] = Field(default_factory=list)
    """Identity-pressure turns at given steps."""


class ProbeSchedule(Spec):
    """When probe rounds run and how answers are sampled."""

    enabled: bool = True
    """Turn probes off entirely (same as --no-probes)."""
    every: int = Field(default=5, ge=1)
    """Run a probe round after every N steps."""
    around_memory_events: bool = True
    """Also probe immediately before and after each compaction."""
    at_end: bool = True
    """Run a final round when the run ends."""
    temperature: float = Field(default=0.0, ge=0, le=2)
    """Sampling temperature for probe answers."""
    max_tokens: int = Field(default=64, ge=1)
    """Token cap for one probe answer."""
    samples: int = Field(default=1, ge=1, le=16)
    """Answers sampled per probe."""


class ModelRoles(Spec):
    """Models for roles other than the agent itself."""

    summarizer: str | None = None
    """Writes summaries; defaults to each agent's model."""
    judge: str | None = None
    """Scores answers with a rubric; defaults to each agent's model."""


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


class ExperimentSpec(Spec):
    """A whole experiment file."""

    name: str = Field(pattern=_SLUG)
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
    retry: RetrySpec = Field(default_factory=RetrySpec)
    """Retry policy for model calls."""
    personas: dict[str, PersonaSpec] = Field(min_length=1)
    """Personas by key."""
    agents: list[AgentSpec] = Field(default_factory=list)
    """Agents; when empty, one agent per persona with default settings."""
    task: TaskSpec = Field(default_factory=TaskSpec)
    """The task environment."""
    probes: ProbeSchedule = Field(default_factory=ProbeSchedule)
    """Probe schedule."""

    @model_validator(mode="after")
    def _agents(self) -> ExperimentSpec:
        if not self.agents:
            agents = [AgentSpec(id=key, persona=key) for key in self.personas]
            object.__setattr__(self, "agents", agents)
        ids = [a.id for a in self.agents]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"agents: duplicate agent ids: {', '.join(dupes)}")
        for i, agent in enumerate(self.agents):
            if agent.persona not in self.personas:
                known = ", ".join(sorted(self.personas))
                raise ValueError(
                    f"agents[{i}].persona: unknown persona {agent.persona!r} (known: {known})"
                )
        return self

    def agent_model(self, agent: AgentSpec) -> str:
        """The model an agent runs on."""
        return agent.model or self.model

    def summarizer_model(self, agent: AgentSpec) -> str:
        """The model that writes an agent's summaries."""
        return agent.memory.summary.model or self.models.summarizer or self.agent_model(agent)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem: `field.path: message`."""
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        if ":" in msg.split(" ")[0] and loc == ():  # model-level error that names its own path
            lines.append(msg)
            continue
        lines.append(f"{_path(loc)}: {msg}" if loc else msg)
    return lines


def parse_experiment(data: Any, source: str = "<config>") -> ExperimentSpec:
    """Validate already-loaded data.

    Raises:
        ConfigError: with one field-path line per problem.
    """
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "an empty document"
        raise ConfigError(source, [f"(top level): expected a mapping of fields, got {kind}"])
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, format_validation_error(exc)) from None


def load_experiment(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment YAML file.

    Raises:
        ConfigError: the file is missing, not YAML, or invalid.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), [f"cannot read file: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(p), [f"invalid YAML: {where}{problem}"]) from None
    return parse_experiment(data, str(p))


def apply_overrides(
    spec: ExperimentSpec,
    *,
    steps: int | None = None,
    model: str | None = None,
    seed: int | None = None,
    out: str | None = None,
    no_probes: bool = False,
) -> ExperimentSpec:
    """Return a copy with CLI overrides applied and re-validated.

    Raises:
        ConfigError: an override makes the spec invalid.
    """
    data = spec.model_dump(mode="python")
    if steps is not None:
        data["steps"] = steps
    if seed is not None:
        data["seed"] = seed
    if out is not None:
        data["out"] = out
    if model is not None:
        data["model"] = model
        for agent in data["agents"]:
            agent["model"] = None
    if no_probes:
        data["probes"]["enabled"] = False
    return parse_experiment(data, "command-line overrides")
