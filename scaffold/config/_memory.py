"""Memory condition settings: overflow, summaries, vector store, core blocks, notes, conditions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from scaffold.config._base import Spec, unit_interval
from scaffold.config._memory_designs import FactsSpec, FilesSpec, ReflectionSpec, SleeptimeSpec

CONDITIONS: dict[str, tuple[str, ...]] = {
    "window": ("window",),
    "summary": ("summary",),
    "vector": ("window", "vector"),
    "summary+vector": ("summary", "vector"),
    "core-ro": ("core", "window"),
    "core-rw": ("core", "window"),
    "notes": ("window", "notes"),
    "full": ("core", "summary", "vector", "notes"),
    "sleeptime": ("sleeptime", "window"),
    "summary+sleeptime": ("sleeptime", "summary"),
    "files": ("files", "window"),
    "summary+files": ("files", "summary"),
    "reflection": ("window", "reflection"),
    "summary+reflection": ("summary", "reflection"),
    "facts": ("window", "facts"),
    "summary+facts": ("summary", "facts"),
}
"""Named conditions and the backends each expands to, in render order."""

StoreKind = Literal["turns", "summaries", "notes"]
"""What a vector memory can store."""
STORE_KINDS: tuple[StoreKind, ...] = ("turns", "summaries", "notes")
"""Every kind, the default of `VectorSpec.store`."""


class OverflowSpec(Spec):
    """When the context overflows and how much recent history always stays."""

    threshold: float = 0.8
    """Act when the next prompt would exceed threshold × budget_tokens; in (0, 1]."""
    keep_last: int = Field(default=4, ge=0)
    """Most recent messages always kept verbatim (tool call/result pairs are never split)."""

    _threshold = field_validator("threshold")(classmethod(lambda cls, v: unit_interval(v)))


class SummarySpec(OverflowSpec):
    """Summarize-on-overflow settings."""

    prompt: str = "plain"
    """Built-in prompt name (plain, task, self, observer) or a custom prompt text."""
    model: str | None = None
    """Summarizer model; defaults to models.summarizer, then to the agent's model."""
    recursive: bool = True
    """Fold the previous summary into the next (True) or append summaries (False)."""
    append_char_cap: int = Field(default=4000, ge=200)
    """Append mode: when all summaries exceed this many characters, rewrite them into one."""
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

    _share = field_validator("eviction_share")(classmethod(lambda cls, v: unit_interval(v)))


class VectorSpec(Spec):
    """Vector memory on ChromaDB: every turn, summary and note stored; top-k retrieved."""

    top_k: int = Field(default=4, ge=1, le=50)
    """Memories retrieved per step."""
    chroma_url: str | None = None
    """A Chroma server (http://host:port); default is an embedded store in the run directory."""
    collection: str | None = None
    """Collection name; defaults to one per agent (shared when several agents name the same)."""
    store: list[StoreKind] = Field(default_factory=lambda: list(STORE_KINDS))
    """What gets stored."""
    where: dict[str, Any] = Field(default_factory=dict)
    """Chroma metadata filter applied to every query (e.g. {"author": "jfk"})."""
    exclude_window: bool = True
    """Do not retrieve messages that are still in the context window."""
    max_chars: int = Field(default=600, ge=50)
    """Each retrieved memory is cut to this many characters."""


class CoreSpec(Spec):
    """Letta-style core memory: persona and human blocks rendered every turn."""

    read_only: bool = True
    """Protected persona (True) or self-editable through core_memory_* tools (False)."""
    persona: str | None = None
    """Initial persona block; defaults to the persona's identity text."""
    human: str = ""
    """Initial block about the user."""
    persona_limit: int = Field(default=2000, ge=50)
    """Character limit of the persona block."""
    human_limit: int = Field(default=1000, ge=50)
    """Character limit of the human block."""


class NotesSpec(Spec):
    """Lessons-learned notes the agent writes about the task and about itself."""

    on_compaction: bool = True
    """Write notes whenever another backend compacts memory."""
    every: int | None = Field(default=None, ge=1)
    """Also write notes every K steps (None: only on compaction)."""
    prompt: str = (
        "Write two or three short notes on what you have learned so far: one about the task, "
        "one about yourself (who you are and how you act). One line each."
    )
    """What the agent is asked when writing notes."""
    max_notes: int = Field(default=8, ge=1)
    """Notes kept; beyond it the oldest two are merged."""
    max_chars: int = Field(default=1200, ge=100)
    """Total characters of the notes section."""
    max_tokens: int = Field(default=96, ge=8)
    """Token cap for one note-writing reply."""


class MemorySpec(Spec):
    """One memory condition: the backends that manage the context, and their settings."""

    condition: str = "summary"
    """window, summary, vector, summary+vector, core-ro, core-rw, notes, full, sleeptime,
    summary+sleeptime, files, summary+files, reflection, summary+reflection, facts,
    summary+facts — or the name of a memory plugin to use on its own
    (with plain truncation as overflow)."""
    backends: list[str] = Field(default_factory=list)
    """Explicit backend list in render order; overrides what `condition` expands to."""
    budget_tokens: int = Field(default=2048, ge=64)
    """The agent's context budget in tokens (system prompt and memory included)."""
    shares: dict[str, float] = Field(default_factory=dict)
    """Per-backend share of the budget for its rendered block (default 0.25 each)."""
    summary: SummarySpec = Field(default_factory=SummarySpec)
    """Settings for the summary backend."""
    window: OverflowSpec = Field(default_factory=OverflowSpec)
    """Settings for plain truncation."""
    vector: VectorSpec = Field(default_factory=VectorSpec)
    """Settings for the vector backend."""
    core: CoreSpec = Field(default_factory=CoreSpec)
    """Settings for core memory blocks."""
    notes: NotesSpec = Field(default_factory=NotesSpec)
    """Settings for lessons-learned notes."""
    sleeptime: SleeptimeSpec = Field(default_factory=SleeptimeSpec)
    """Settings for the sleep-time agent that rewrites the core blocks."""
    files: FilesSpec = Field(default_factory=FilesSpec)
    """Settings for memory files."""
    reflection: ReflectionSpec = Field(default_factory=ReflectionSpec)
    """Settings for the reflection memory stream (Generative Agents)."""
    facts: FactsSpec = Field(default_factory=FactsSpec)
    """Settings for fact memory with ADD / UPDATE / DELETE (Mem0)."""
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Settings for third-party backends, by backend name."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"condition": data} if isinstance(data, str) else data

    @field_validator("shares")
    @classmethod
    def _shares(cls, shares: dict[str, float]) -> dict[str, float]:
        for name, share in shares.items():
            if not 0 < share <= 1:
                raise ValueError(f"{name}: must be in (0, 1]")
        return shares

    @model_validator(mode="after")
    def _known_backends(self) -> MemorySpec:
        from scaffold.registry import list_plugins

        known = {p.name for p in list_plugins("memory")}
        names = self.backends or ([] if self.condition in CONDITIONS else [self.condition])
        unknown = [n for n in names if n not in known]
        if unknown:
            choices = ", ".join([*CONDITIONS, *sorted(known - set(CONDITIONS))])
            field = "backends" if self.backends else "condition"
            raise ValueError(f"{field}: unknown memory condition or backend "
                             f"{', '.join(map(repr, unknown))}; known: {choices}")
        return self

    @model_validator(mode="after")
    def _core_mode(self) -> MemorySpec:
        if self.condition in ("core-ro", "core-rw"):
            object.__setattr__(self, "core", self.core.model_copy(
                update={"read_only": self.condition == "core-ro"}))
        return self

    def plan(self) -> list[str]:
        """The backends this condition uses, in render order."""
        if self.backends:
            return list(self.backends)
        return list(CONDITIONS.get(self.condition, (self.condition, "window")))

    def settings_for(self, backend: str) -> dict[str, Any]:
        """Constructor settings for one backend."""
        if backend in type(self).model_fields and isinstance(getattr(self, backend), Spec):
            return getattr(self, backend).model_dump()  # a built-in's own section
        return dict(self.options.get(backend, {}))
