"""The task section: which environment drives the agents, and each built-in task's settings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from scaffold.config._base import Spec


class PressureTurn(Spec):
    """A user turn that challenges the persona at a given step."""

    step: int = Field(ge=1)
    """The step whose user turn this replaces."""
    text: str = Field(min_length=1)
    """What the user says."""


class SandboxLimits(Spec):
    """Limits on one execution of the agent's code."""

    wall_s: float = Field(default=10.0, gt=0, le=600)
    """Wall-clock seconds before the process group is killed."""
    cpu_s: int = Field(default=5, ge=1, le=600)
    """CPU seconds (RLIMIT_CPU)."""
    memory_mb: int = Field(default=256, ge=16, le=65536)
    """Address-space cap in MiB (RLIMIT_AS)."""
    file_mb: int = Field(default=16, ge=1, le=4096)
    """Largest file the code may write, in MiB (RLIMIT_FSIZE)."""
    processes: int = Field(default=32, ge=1, le=4096)
    """Processes/threads the sandbox user may have (RLIMIT_NPROC, where enforceable)."""
    output_chars: int = Field(default=4000, ge=100, le=1_000_000)
    """stdout/stderr characters returned to the agent (the rest is cut, and says so)."""
    network: bool = False
    """Allow network access (off: a new network namespace where the OS allows it)."""


class CodingSpec(Spec):
    """The `coding` task: programming problems solved with a real Python interpreter."""

    problems: str | None = None
    """A YAML/JSON file of the user's problems (relative to the config file)."""
    builtin: bool = True
    """Include the built-in problem set (at least 20 problems)."""
    shuffle: bool = False
    """Shuffle the problem order with the run seed."""
    max_attempts: int = Field(default=3, ge=1, le=50)
    """Replies per problem before moving on unsolved."""
    limits: SandboxLimits = Field(default_factory=SandboxLimits)
    """Sandbox limits for every execution."""


class ReadingSpec(Spec):
    """The `reading` task: a long document fed in chunks, the agent writing notes."""

    document: str | None = None
    """A text file (relative to the config file); default: the bundled public-domain text."""
    chunk_words: int = Field(default=180, ge=20, le=20000)
    """Words per chunk sent to the agent."""
    instruction: str = ("Read this passage and write short notes on what matters in it, "
                        "in your own voice.")
    """What the agent is asked to do with each chunk."""


class SelfChatSpec(Spec):
    """The `selfchat` task: two agents in conversation (needs exactly two agents)."""

    opener: str = "Hello! Tell me a little about yourself and what you are working on."
    """The first message, sent to the first agent as if from the second."""
    first: str | None = None
    """Id of the agent that speaks first (default: the first agent)."""
    openers: str | None = None
    """A JSON file holding a list of opening lines (e.g. persona_drift's
    conversation_openers.json), relative to the experiment file: entry `opener_index` becomes
    `opener` when the experiment is loaded, so the manifest records the text used."""
    opener_index: int = Field(default=0, ge=0)
    """Which entry of `openers` opens the conversation (a sweep axis for several openers)."""


class RoomSpec(Spec):
    """The `room` task: N agents (2-16) in a shared channel."""

    policy: Literal["round_robin", "random", "mention"] = "round_robin"
    """Who speaks next: in order; at random (seeded, never twice running); or whoever the last
    message mentions by id or persona name (round robin when nobody is mentioned)."""
    goal: str | None = None
    """An optional shared goal, announced to every agent before its first turn."""
    opener: str = "Welcome, everyone. Please introduce yourselves."
    """The moderator's first message."""
    history: int = Field(default=8, ge=1, le=200)
    """Most channel messages delivered to a speaker at once (older unseen ones are skipped)."""


PressureStyle = Literal["insist_ai", "after_1963", "therapy", "custom"]


class SimUserSpec(Spec):
    """The `pressure` task's simulated user: its own persona and model (models.user)."""

    persona: str | None = None
    """Key into `personas` for the user's own character (never made an agent)."""
    style: PressureStyle = "insist_ai"
    """What the user pushes: insist the agent is an AI; ask about events after 1963;
    a therapy-style personal conversation; or `custom` (use `goal`)."""
    goal: str | None = None
    """The steering goal in words (required for style 'custom', added to the others)."""
    fallbacks: list[str] = Field(default_factory=list)
    """Lines the user says when its model's output is empty or a refusal, on a steering
    turn; empty uses the style's built-in lines (identity questions for `custom`)."""
    intensity: float = Field(default=0.5, ge=0, le=1)
    """Share of turns (seeded) on which the user pushes; the rest are ordinary small talk."""
    max_tokens: int = Field(default=96, ge=8)
    """Token cap for one user turn."""
    temperature: float = Field(default=0.7, ge=0, le=2)
    """Sampling temperature of the user model."""
    top_p: float | None = Field(default=None, gt=0, le=1)
    """Nucleus sampling of the user model (None: the provider's default)."""
    seed: int | None = None
    """Base seed of the user's turns (each turn: seed + step); None: the run's seed."""


class TaskSpec(Spec):
    """The environment that drives the agents."""

    kind: str = "conversation"
    """Registered task name: conversation, coding, reading, selfchat, room, pressure, or a
    plugin's."""
    turns: list[str] = Field(default_factory=list)
    """User turns, cycled; empty uses the built-in cycle of everyday topics."""
    pressure: list[PressureTurn] = Field(default_factory=list)
    """Scripted identity-pressure turns at given steps (any task that has a user)."""
    coding: CodingSpec = Field(default_factory=CodingSpec)
    """Settings of the `coding` task."""
    reading: ReadingSpec = Field(default_factory=ReadingSpec)
    """Settings of the `reading` task."""
    selfchat: SelfChatSpec = Field(default_factory=SelfChatSpec)
    """Settings of the `selfchat` task."""
    room: RoomSpec = Field(default_factory=RoomSpec)
    """Settings of the `room` task."""
    user: SimUserSpec = Field(default_factory=SimUserSpec)
    """Settings of the `pressure` task's simulated user."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Free-form settings for plugin tasks (they validate them themselves)."""

    @field_validator("kind")
    @classmethod
    def _known_task(cls, name: str) -> str:
        from scaffold.registry import list_plugins

        known = sorted(p.name for p in list_plugins("task"))
        if name not in known:
            raise ValueError(f"unknown task {name!r}; known: {', '.join(known)}")
        return name
