"""Per-owner KV states of an embedded llama.cpp model: save, restore, and fork for probes.

Every caller that continues a conversation (an agent, its summarizer, its note writer, a
simulated user) owns a KV state: its next call starts from the state its previous call left,
as if nothing else had run on the model in between, so llama.cpp only evaluates the new
tokens. Measurements (probes, judges) fork: they start from a *round base* (the owner's state
extended by the probe's shared context, evaluated once per context) and are never saved, so
they leave no trace, and a probe's answer depends only on the owner's state and the context,
not on which calls ran before it.

States are copied with llama.cpp's per-sequence state API (only the cells of sequence 0, about
12 kB per token for the 0.5B default), together with the token ids they hold.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SEQ = 0
"""llama-cpp-python's high-level `Llama` keeps everything in sequence 0."""

Owner = tuple[str, str, str]
"""(run id, agent id, role) of a conversation that owns a KV state."""


@dataclass(frozen=True)
class KvSnapshot:
    """A copy of sequence 0's KV cells and the token ids they hold.

    `data` is the buffer llama.cpp wrote (ctypes, handed back to it as is on restore: no
    further copies of the few megabytes a state takes); `size` is how much of it is used.
    """

    data: Any
    size: int
    tokens: np.ndarray

    @property
    def n_tokens(self) -> int:
        """Tokens the state holds."""
        return int(len(self.tokens))

    @property
    def nbytes(self) -> int:
        """Bytes this snapshot keeps in memory."""
        return self.size + int(self.tokens.nbytes)


def capture(llama: Any) -> KvSnapshot:
    """Copy the model's current sequence-0 state."""
    import llama_cpp

    ctx = llama._ctx.ctx
    size = int(llama_cpp.llama_state_seq_get_size(ctx, SEQ))
    buffer = (ctypes.c_uint8 * size)()
    written = int(llama_cpp.llama_state_seq_get_data(ctx, buffer, size, SEQ))
    if written == 0 and llama.n_tokens > 0:
        raise RuntimeError("llama.cpp could not copy the KV state")
    return KvSnapshot(buffer, written, llama.input_ids[: llama.n_tokens].copy())


def restore(llama: Any, snapshot: KvSnapshot | None) -> None:
    """Make `snapshot` the model's state (None: an empty cache)."""
    import llama_cpp

    llama._ctx.kv_cache_seq_rm(SEQ, 0, -1)
    llama.n_tokens = 0
    if snapshot is not None and snapshot.n_tokens:
        read = int(llama_cpp.llama_state_seq_set_data(llama._ctx.ctx, snapshot.data,
                                                      snapshot.size, SEQ))
        if read == 0:
            raise RuntimeError("llama.cpp could not restore a saved KV state")
        llama.input_ids[: snapshot.n_tokens] = snapshot.tokens
        llama.n_tokens = snapshot.n_tokens
    # the logits in the context belong to whatever ran last: make generate() decode at least
    # one token of the prompt, the same whether the state was restored or left in place
    llama._requires_eval = True


def common_prefix(a: np.ndarray | list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    left = np.asarray(a[:n], dtype=np.int64)
    right = np.asarray(b[:n], dtype=np.int64)
    differ = np.flatnonzero(left != right)
    return int(differ[0]) if len(differ) else n


def extend(llama: Any, base: KvSnapshot | None, tokens: list[int]) -> KvSnapshot:
    """`base` extended to hold exactly `tokens`: its common prefix kept, the rest evaluated in
    one call (so the result depends only on `base` and `tokens`)."""
    restore(llama, base)
    keep = common_prefix(base.tokens, tokens) if base is not None else 0
    llama._ctx.kv_cache_seq_rm(SEQ, keep, -1)
    llama.n_tokens = keep
    if keep < len(tokens):
        llama.eval(tokens[keep:])
    return capture(llama)


@dataclass
class PhaseTimes:
    """llama.cpp's own timings of one kind of call: prompt evaluation (batches of tokens, the
    round bases of probes included) and decoding (one token at a time)."""

    calls: int = 0
    prompt_ms: float = 0.0
    prompt_tokens: int = 0
    decode_ms: float = 0.0
    decode_tokens: int = 0


def read_timings(llama: Any, into: PhaseTimes) -> None:
    """Add the context's timings since the last read to `into`, and reset them."""
    import llama_cpp

    ctx = llama._ctx.ctx
    perf = llama_cpp.llama_perf_context(ctx)
    into.calls += 1
    into.prompt_ms += perf.t_p_eval_ms
    into.prompt_tokens += perf.n_p_eval
    into.decode_ms += perf.t_eval_ms
    into.decode_tokens += perf.n_eval
    llama_cpp.llama_perf_context_reset(ctx)


@dataclass
class StateStats:
    """What the state book did, for benchmarks: tokens sent vs tokens evaluated."""

    restores: int = 0
    saves: int = 0
    round_bases: int = 0
    round_base_hits: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    """Prompt tokens sent, over all calls."""
    reused_tokens: int = 0
    """Of those, tokens whose KV state was already there (not evaluated again)."""
    phases: dict[str, PhaseTimes] = field(default_factory=dict)
    """llama.cpp's timings by call purpose (agent, summarizer, probe, judge, ...)."""

    def phase(self, purpose: str) -> PhaseTimes:
        """The timings of one purpose's calls."""
        return self.phases.setdefault(purpose, PhaseTimes())

    def count(self, prompt: int, reused: int) -> None:
        """Account one call's prompt."""
        self.calls += 1
        self.prompt_tokens += prompt
        self.reused_tokens += min(reused, max(0, prompt - 1))


@dataclass
class StateBook:
    """The saved states of one loaded model, by owner, plus each owner's current round base.

    Not thread-safe on its own: callers hold the model's lock.
    """

    states: dict[Owner, KvSnapshot] = field(default_factory=dict)
    round_bases: dict[Owner, tuple[str, KvSnapshot]] = field(default_factory=dict)
    live: Owner | None = None
    """The owner whose state the model holds right now, unchanged since it was saved."""
    stats: StateStats = field(default_factory=StateStats)
    versions: dict[Owner, int] = field(default_factory=dict)
    """How many times each owner's state was saved (or put back from disk): a state persisted
    at one version need not be written again until the version changes."""

    def resume(self, llama: Any, owner: Owner) -> None:
        """Before an owner's call: its own state (or an empty cache on its first call)."""
        if self.live != owner:
            restore(llama, self.states.get(owner))
            self.stats.restores += 1
        else:
            llama._requires_eval = True
        self.live = None

    def clear(self, llama: Any) -> None:
        """Before a call that uses no saved state: an empty cache."""
        restore(llama, None)
        self.live = None

    def save(self, llama: Any, owner: Owner) -> None:
        """After an owner's call: keep the state its call left."""
        self.put(owner, capture(llama))
        self.live = owner
        self.stats.saves += 1

    def put(self, owner: Owner, snapshot: KvSnapshot) -> None:
        """Make `snapshot` the owner's state (a save, or a state read back from disk)."""
        self.states[owner] = snapshot
        self.round_bases.pop(owner, None)
        self.versions[owner] = self.versions.get(owner, 0) + 1
        if self.live == owner:
            self.live = None

    def fork(self, llama: Any, owner: Owner, shared: list[int]) -> None:
        """Before a measurement: the owner's state extended by the shared context `shared`
        (evaluated once per distinct context and reused by every probe of the round)."""
        key = hashlib.sha256(np.asarray(shared, dtype=np.int64).tobytes()).hexdigest()
        cached = self.round_bases.get(owner)
        if cached is None or cached[0] != key:
            base = extend(llama, self.states.get(owner), shared)
            self.round_bases[owner] = (key, base)
            self.stats.round_bases += 1
        else:
            restore(llama, cached[1])
            self.stats.round_base_hits += 1
        self.live = None

    def release(self, run_id: str) -> int:
        """Forget every state of a run (at its end); returns how many were dropped."""
        owners = [o for o in self.states if o[0] == run_id]
        for owner in owners:
            del self.states[owner]
            self.versions.pop(owner, None)
        self.round_bases = {o: b for o, b in self.round_bases.items() if o[0] != run_id}
        if self.live is not None and self.live[0] == run_id:
            self.live = None
        return len(owners)

    @property
    def nbytes(self) -> int:
        """Bytes held by saved states and round bases."""
        return (sum(s.nbytes for s in self.states.values())
                + sum(b.nbytes for _, b in self.round_bases.values()))
