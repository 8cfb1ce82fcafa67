"""Settings of the memory designs taken from deployed systems (reflection, facts, sleep-time, files)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from scaffold.config._base import Spec


Weight = Literal["recency", "importance", "relevance"]
"""A component of the memory stream's retrieval score."""
WEIGHTS: tuple[Weight, ...] = ("recency", "importance", "relevance")


class ReflectionSpec(Spec):
    """Generative Agents' memory stream (Park et al. 2023): every observation stored with a
    model-rated importance (1-10); retrieval ranks by recency, importance and relevance; when
    the importance of the observations since the last reflection reaches `threshold`, the
    reflector writes higher-level reflections, stored and retrieved like observations."""

    top_k: int = Field(default=4, ge=1, le=50)
    """Memories retrieved per step."""
    decay: float = Field(default=0.995, gt=0, le=1)
    """Recency: decay ** (steps since the memory was last retrieved, or created); the paper
    decays by 0.995 per game hour, here per step."""
    weights: dict[Weight, float] = Field(default_factory=lambda: dict.fromkeys(WEIGHTS, 1.0))
    """Weights of the three components (each min-max normalised over the memories scored);
    the paper weighs them equally, and a component not named here weighs 1."""
    threshold: int = Field(default=150, ge=1)
    """Reflect when the summed importance of observations since the last reflection reaches
    this (the paper's 150). The embedded model rated the JFK example's turns 6.4 on average
    (36 of 47 an 8, the rest a 1); at two observations a step it fires about every 12 steps,
    three times in a 40-step run. (Lower it for shorter runs: 100 fired at steps 7 and 14 of
    the 24-step example.)"""
    questions: list[str] = Field(default_factory=list)
    """Fixed reflection questions; empty: the reflector first asks `n_questions` questions
    about the recent memories, as in the paper."""
    n_questions: int = Field(default=2, ge=1, le=10)
    """Questions generated per reflection (the paper: 3)."""
    insights: int = Field(default=3, ge=1, le=10)
    """Insights asked for per question (the paper: 5)."""
    recent: int = Field(default=100, ge=1)
    """Most recent memories the questions are asked about (the paper: 100)."""
    evidence: int = Field(default=8, ge=1, le=50)
    """Memories retrieved per question as evidence for its insights."""
    rate_reflections: bool = True
    """Rate each reflection's importance too (one more call each), as the paper does; off:
    a reflection takes the mean importance of the memories it cites."""
    default_importance: int = Field(default=5, ge=1, le=10)
    """Importance used when the rater's reply holds no number (recorded as a failed
    `importance` event with this policy)."""
    exclude_window: bool = True
    """Do not retrieve observations that are still in the context window."""
    max_chars: int = Field(default=400, ge=50)
    """Each retrieved memory is cut to this many characters."""
    max_tokens: int = Field(default=160, ge=16)
    """Token cap for one question or insight reply (a rating reply is capped at 8)."""
    model: str | None = None
    """Model of the importance rater and the reflector; defaults to models.importance /
    models.reflector, then to the agent's model."""


class FactsSpec(Spec):
    """Mem0-style fact memory: after each completed exchange the fact extractor pulls facts
    from it; each new fact is compared with the most similar stored facts and the model
    decides ADD, UPDATE, DELETE or NOOP. The table keeps every fact's history."""

    similar: int = Field(default=5, ge=1, le=50)
    """Stored facts retrieved per new fact (by embedding similarity) for the update decision
    (Mem0: 5)."""
    max_facts: int = Field(default=10, ge=1, le=50)
    """Most facts taken from one exchange."""
    on_update_failure: Literal["skip", "add"] = "skip"
    """When the update reply cannot be parsed: apply nothing (Mem0's behaviour) or add the new
    facts as they are; either way a failed `fact_update` event records the reply."""
    max_chars: int = Field(default=300, ge=20)
    """A fact longer than this is cut."""
    max_tokens: int = Field(default=256, ge=16)
    """Token cap for one extraction or update reply."""
    model: str | None = None
    """Model of the fact extractor; defaults to models.fact_extractor, then the agent's."""


SLEEPTIME_BLOCKS = ("persona", "human")
"""Core blocks a sleep-time agent can rewrite (memory.core.BLOCKS)."""


class SleeptimeSpec(Spec):
    """Letta-style sleep-time agent: a second model rewrites the core blocks between steps."""

    every: int | None = Field(default=4, ge=1)
    """Rewrite after every N completed steps (None: only after compactions)."""
    on_compaction: bool = False
    """Also rewrite at the step after another backend compacted memory (a summary or a
    truncation; under `window` overflow that is nearly every step once the window is full)."""
    blocks: list[str] = Field(default_factory=lambda: list(SLEEPTIME_BLOCKS))
    """Blocks the sleep-time agent rewrites, one model call each per rewrite."""
    model: str | None = None
    """Sleep-time model; defaults to models.sleeptime, then to the agent's model."""
    prompt: str = (
        "You maintain the memory of another AI agent. Rewrite its '{block}' memory block from "
        "the recent conversation: keep what is still true, add what was learned, drop what is "
        "wrong or outdated. Keep it short. Reply with the new block text only."
    )
    """Instruction to the sleep-time agent; `{block}` is replaced by the block's name."""
    agent_edits: bool = False
    """Also let the agent edit its blocks itself (core_memory_* tools)."""
    persona: str | None = None
    """Initial persona block; defaults to the persona's identity text."""
    human: str = ""
    """Initial block about the user."""
    persona_limit: int = Field(default=2000, ge=50)
    """Character limit of the persona block (at least the initial block's length)."""
    human_limit: int = Field(default=1000, ge=50)
    """Character limit of the human block."""
    max_messages: int = Field(default=24, ge=2)
    """Unseen messages kept for the next rewrite (the oldest drop beyond this)."""
    max_tokens: int = Field(default=160, ge=16)
    """Token cap for one rewritten block."""
    history: int = Field(default=8, ge=1)
    """Versions of each block kept in the snapshot (every version is in the events)."""

    @field_validator("blocks")
    @classmethod
    def _known_blocks(cls, blocks: list[str]) -> list[str]:
        unknown = [b for b in blocks if b not in SLEEPTIME_BLOCKS]
        if unknown or not blocks or len(set(blocks)) != len(blocks):
            raise ValueError(f"expected distinct blocks among {', '.join(SLEEPTIME_BLOCKS)}, "
                             f"got {blocks!r}")
        return blocks

    @model_validator(mode="after")
    def _scheduled(self) -> SleeptimeSpec:
        if self.every is None and not self.on_compaction:
            raise ValueError("every: the sleep-time agent never runs with every: null and "
                             "on_compaction: false; set one of them")
        return self


FILE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")
"""A memory file path: relative, '/'-separated names of letters, digits, '_', '.', '-'
(no name starts with '.' or '-', so no '..', no hidden files, no absolute paths)."""


class FilesSpec(Spec):
    """Memory files (Letta MemFS, Claude-style memory tool): named files the agent reads and
    writes with tools; `always` files are in context every step, the others only once opened."""

    always: list[str] = Field(default_factory=lambda: ["identity.md"])
    """Files rendered in context every step (when they exist)."""
    seed: dict[str, str] = Field(default_factory=dict)
    """Files written at the start of a run, path -> text."""
    identity_file: str | None = "identity.md"
    """Seed this file with the persona's identity (unless `seed` names it); when it is also in
    `always`, it replaces the fixed identity in the system prompt. None: no identity file."""
    read_only: list[str] = Field(default_factory=list)
    """Files the agent may read but not change or delete."""
    open_steps: int = Field(default=3, ge=1)
    """An opened file leaves the context after this many steps without being opened or
    edited again (or at once when closed with memory_close)."""
    max_open: int = Field(default=2, ge=1)
    """Files open at once besides the `always` ones; opening one more closes the least
    recently used."""
    max_files: int = Field(default=16, ge=1)
    """Files the agent may keep."""
    max_file_chars: int = Field(default=2000, ge=50)
    """Characters one file may hold (seeded files may be longer)."""

    @field_validator("always", "read_only")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            check_file_path(path)
        return paths

    @field_validator("seed")
    @classmethod
    def _seed_paths(cls, seed: dict[str, str]) -> dict[str, str]:
        for path in seed:
            check_file_path(path)
        return seed

    @field_validator("identity_file")
    @classmethod
    def _identity_path(cls, path: str | None) -> str | None:
        return None if path is None else check_file_path(path)


def check_file_path(path: str) -> str:
    """`path` when it is a memory file path (FILE_PATH, at most 120 characters).

    Raises:
        ValueError: it is not.
    """
    if len(path) > 120 or not FILE_PATH.match(path):
        raise ValueError(f"{path!r} is not a memory file path (relative, names of letters, "
                         "digits, '_', '.', '-' separated by '/', no '..')")
    return path
