"""Scorers on their own: a persona file and a (question, answer) pair, no experiment or run."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scaffold import registry
from scaffold.config import (
    JudgeSpec,
    PersonaSpec,
    ProbeSpec,
    format_validation_error,
    read_yaml_file,
)
from scaffold.errors import ConfigError
from scaffold.trackers.scoring import IdentityScore, Scorer, ScorerContext

__all__ = ["ascore_text", "build_scorer", "load_persona", "probe_for", "score_text"]


def load_persona(path: str | Path) -> PersonaSpec:
    """Read a persona file: one PersonaSpec in YAML (name, identity, anchors, probes, ...).

    Raises:
        ConfigError: the file is missing, not YAML, or not a valid persona; each problem
            names its field.
    """
    data = read_yaml_file(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["a persona file is a mapping (name, identity, anchors)"])
    try:
        return PersonaSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), format_validation_error(exc)) from None


def _judge_complete(model: str) -> Any:
    """`complete` for the judge: the model through a plain ModelClient (no run, no cassette)."""
    from scaffold.models import CallContext, ModelClient

    client = ModelClient(lambda cls, **fields: None)

    async def complete(messages: list[dict[str, Any]], *, purpose: str = "judge",
                       agent_id: str | None = None, step: int = 0, **params: Any) -> Any:
        ctx = CallContext(purpose=purpose, agent_id=agent_id, step=step)
        return await client.complete(model, messages, ctx, **params)

    return complete


def build_scorer(name: str, persona: PersonaSpec | None = None, judge_model: str | None = None,
                 personas: Mapping[str, PersonaSpec] | None = None,
                 judge: JudgeSpec | None = None) -> Scorer:
    """Build a registered scorer outside a run.

    Args:
        name: the scorer's registry name (break, rules, embedding, judge, leakage, ...).
        persona: the persona scored; added to `personas` when given.
        judge_model: a model name (e.g. 'local/qwen2.5-0.5b', 'scripted/default') for the
            judge; without it the judge returns unscored results.
        personas: other personas of the setting (a room): negative references for the
            embedding scorer, names for leakage.
        judge: judge settings; the defaults of an experiment's `judge:` if None.

    Raises:
        PluginNotFound: no scorer of that name.
    """
    everyone = dict(personas or {})
    if persona is not None and all(p.name != persona.name for p in everyone.values()):
        everyone.setdefault("persona", persona)
    ctx = ScorerContext(judge_model=judge_model, judge=(judge or JudgeSpec()).model_dump(),
                        complete=_judge_complete(judge_model) if judge_model else None,
                        personas=everyone)
    return registry.get("scorer", name)(ctx)


def probe_for(persona: PersonaSpec, question: str | None) -> ProbeSpec | None:
    """The persona's probe with this question (so its rules apply), else an ad hoc probe
    without rules; None (the text is memory) when there is no question."""
    if question is None:
        return None
    for probe in persona.probes:
        if probe.question.strip().casefold() == question.strip().casefold():
            return probe
    return ProbeSpec(id="question", question=question)


async def ascore_text(scorer: Scorer, persona: PersonaSpec, answer: str,
                      question: str | None = None) -> IdentityScore:
    """Score an answer to `question` (or, without one, a memory text) as the persona."""
    return await scorer.score(answer, probe_for(persona, question), persona)


def score_text(scorer: Scorer, persona: PersonaSpec, answer: str,
               question: str | None = None) -> IdentityScore:
    """Blocking form of `ascore_text`, for scripts and notebooks without a running loop."""
    return asyncio.run(ascore_text(scorer, persona, answer, question))
