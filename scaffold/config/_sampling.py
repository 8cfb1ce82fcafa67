"""Sampling settings of the model roles, the embedded model's runtime settings, and the record
of both that a run's manifest keeps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from scaffold.config._base import Spec

if TYPE_CHECKING:
    from scaffold.config._experiment import ExperimentSpec


class SamplingSpec(Spec):
    """Sampling of one model role. `None` leaves a setting to the role's default (temperature)
    or to the provider (top_p); the seed of each call is derived from `seed` (or, when `None`,
    from the run's seed) and the call's step."""

    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature."""
    top_p: float | None = Field(default=None, gt=0, le=1)
    """Nucleus sampling: keep the smallest set of tokens whose probability reaches top_p."""
    seed: int | None = None
    """Base seed of this role's calls; None: the run's seed."""


class SummarizerSampling(SamplingSpec):
    """Sampling of the summarizer (its token cap is `memory.summary.max_tokens`)."""

    temperature: float = Field(default=0.0, ge=0, le=2)
    """Temperature of the first attempt."""
    retry_temperature: float = Field(default=0.7, ge=0, le=2)
    """Temperature of retries after a failed summary (`on_failure: retry`): a retry at the
    first attempt's temperature and seed would repeat the failure."""


class HelperSampling(SamplingSpec):
    """Sampling of a memory design's helper role (sleep-time agent, ...): greedy by default,
    so that the memory a helper writes is reproducible; its token cap is set by the design."""

    temperature: float = Field(default=0.0, ge=0, le=2)
    """Sampling temperature."""


IMPORTANCE_MAX_TOKENS = 8
"""Token cap of one importance rating reply (a number from 1 to 10)."""


class LocalModelSpec(Spec):
    """The embedded (`local/...`) model's runtime: one loaded copy per distinct setting."""

    n_ctx: int = Field(default=4096, ge=256)
    """Context size in tokens (llama.cpp's n_ctx); a prompt longer than this fails the call."""
    n_threads: int | None = Field(default=None, ge=1)
    """CPU threads for generating and for evaluating prompts; None: llama-cpp-python's defaults
    (half the cores generate, every core evaluates prompts)."""
    kv_state: bool = True
    """Each agent (and its summarizer, note writer, simulated user) continues from its own
    previous call's KV state, and probes fork from it: only new tokens are evaluated; the
    states are saved beside each step checkpoint (`<run>/kv/`), so a run resumed after a kill
    continues bit-exactly. Off: every call starts from an empty cache (slower, nothing saved).
    A run with and without probes gives the same replies either way."""


def sampling_record(spec: ExperimentSpec) -> dict[str, Any]:
    """How every model role samples in this run, for the manifest (None: provider default;
    seeds: the base each call's seed is derived from).

    Args:
        spec: the run's resolved spec.
    """
    def role(temperature: float | None, top_p: float | None, seed: int | None,
             max_tokens: int | None, **extra: Any) -> dict[str, Any]:
        return {"temperature": temperature, "top_p": top_p,
                "seed": spec.seed if seed is None else seed, "max_tokens": max_tokens, **extra}

    agents = {}
    for a in spec.agents:
        gen, notes, summ = a.generation, a.notes, a.summarizer
        agents[a.id] = {
            "agent": role(gen.temperature, gen.top_p, gen.seed, gen.max_tokens),
            "summarizer": role(summ.temperature, summ.top_p, summ.seed,
                               a.memory.summary.max_tokens,
                               retry_temperature=summ.retry_temperature),
            "notes": role(gen.temperature if notes.temperature is None else notes.temperature,
                          gen.top_p if notes.top_p is None else notes.top_p,
                          notes.seed if notes.seed is not None else gen.seed,
                          a.memory.notes.max_tokens),
            "sleeptime": role(a.sleeptime.temperature, a.sleeptime.top_p, a.sleeptime.seed,
                              a.memory.sleeptime.max_tokens),
            **{name: role(r.temperature, r.top_p, r.seed, tokens) for name, r, tokens in (
                ("importance", a.importance, IMPORTANCE_MAX_TOKENS),
                ("reflector", a.reflector, a.memory.reflection.max_tokens),
                ("fact_extractor", a.fact_extractor, a.memory.facts.max_tokens))},
        }
    probes, judge, user = spec.probes, spec.judge, spec.task.user
    return {
        "agents": agents,
        "probes": role(probes.temperature, probes.top_p, probes.seed, probes.max_tokens,
                       samples=probes.samples, seed_per="probes.seed (else the run seed), agent, round, probe, sample"),
        "judge": {**role(judge.temperature, judge.top_p, judge.seed, judge.max_tokens),
                  "seed": judge.seed},  # the judge is sent a seed only when one is set
        "user": role(user.temperature, user.top_p, user.seed, user.max_tokens),
        "local": spec.local.model_dump(),
    }
