"""Build assistant and persona axes on a reader model (what `scaffold axis build` runs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.activations._build import AxisRecipe, Collected, auroc, cohens_d, collect, make_axis
from scaffold.activations._plans import Plan, assistant_plan, extraction_questions, persona_plan
from scaffold.activations._reading import ActivationReader
from scaffold.activations.axis import Axis, AxisPrompts, BuildSettings
from scaffold.config import PersonaSpec

__all__ = ["DEFAULT_LAYERS", "AssistantOptions", "Collected", "PersonaOptions", "auroc",
           "build_assistant_axis", "build_persona_axis", "cohens_d", "collect", "plan_assistant",
           "plan_persona"]

Progress = Callable[[int], Callable[[], None]]
"""Given the number of responses to make, returns the function called after each."""

DEFAULT_LAYERS = (6, 9, 12, 15, 18, 21)
"""Blocks read on the embedded Qwen2.5-0.5B (24 blocks): early-middle to late."""


@dataclass(frozen=True)
class AssistantOptions:
    """How many prompts the assistant axis is built from and validated on."""

    roles: int = 6
    questions: int = 4
    held_out_roles: int = 3
    held_out_questions: int = 3
    max_tokens: int = 40
    seed: int = 0
    layers: tuple[int, ...] = DEFAULT_LAYERS


@dataclass(frozen=True)
class PersonaOptions:
    """How many prompts a persona axis is built from and validated on."""

    extra_questions: int = 8
    held_out: float = 0.3
    max_tokens: int = 40
    seed: int = 0
    layers: tuple[int, ...] = DEFAULT_LAYERS
    note: str = field(default="")


def model_label(reader: ActivationReader) -> str:
    """What `{model_name}` in the study's default prompts becomes."""
    file = reader.identity.file.lower()
    return "Qwen" if "qwen" in file else reader.identity.name.split("/")[-1]


def plan_assistant(reader: ActivationReader, roles_dir: Path, opts: AssistantOptions) -> Plan:
    """The assistant axis's train and held-out prompts."""
    return assistant_plan(roles_dir, model_label(reader), opts.roles, opts.questions,
                          opts.held_out_roles, opts.held_out_questions, opts.seed)


def plan_persona(persona: PersonaSpec, roles_dir: Path | None, opts: PersonaOptions) -> Plan:
    """A persona axis's train and held-out prompts."""
    extra = (extraction_questions(roles_dir, opts.extra_questions, opts.seed)
             if roles_dir is not None and opts.extra_questions else [])
    return persona_plan(persona, extra, opts.held_out, opts.seed)


def _prompts(plan: Plan) -> AxisPrompts:
    systems: dict[str, list[str]] = {}
    for p in plan.train:
        if p.group == "other" and p.system and p.system not in systems.setdefault(p.who, []):
            systems[p.who].append(p.system)
    defaults = list(dict.fromkeys(p.system for p in plan.train if p.group == "default"))
    return AxisPrompts(default_systems=defaults, other_systems=systems,
                       questions=list(dict.fromkeys(p.question for p in plan.train)),
                       held_out_roles=plan.held_out_roles,
                       held_out_questions=plan.held_out_questions)


def _collect(reader: ActivationReader, plan: Plan, layers: tuple[int, ...], max_tokens: int,
             seed: int, progress: Progress | None) -> Collected:
    advance = progress(len(plan.train)) if progress else None
    return collect(reader, plan.train, layers, max_tokens, seed, advance)


def build_assistant_axis(reader: ActivationReader, roles_dir: Path, opts: AssistantOptions,
                         progress: Progress | None = None) -> Axis:
    """Default responses minus the mean of role responses, per layer."""
    start = time.perf_counter()
    plan = plan_assistant(reader, roles_dir, opts)
    collected = _collect(reader, plan, opts.layers, opts.max_tokens, opts.seed, progress)
    settings = BuildSettings(
        max_tokens=opts.max_tokens, seed=opts.seed, n_ctx=getattr(reader, "n_ctx", 0),
        roles_dir=str(roles_dir), seconds=round(time.perf_counter() - start, 1),
        plan={"roles": opts.roles, "questions": opts.questions,
              "held_out_roles": opts.held_out_roles,
              "held_out_questions": opts.held_out_questions},
        note=f"{collected.skipped} empty responses skipped")
    recipe = AxisRecipe("assistant", "assistant", None, settings, _prompts(plan))
    return make_axis(reader, collected, list(opts.layers), recipe)


def build_persona_axis(reader: ActivationReader, persona: PersonaSpec, persona_file: Path,
                       roles_dir: Path | None, opts: PersonaOptions,
                       progress: Progress | None = None) -> Axis:
    """In-persona responses minus default responses, per layer."""
    start = time.perf_counter()
    plan = plan_persona(persona, roles_dir, opts)
    collected = _collect(reader, plan, opts.layers, opts.max_tokens, opts.seed, progress)
    settings = BuildSettings(
        max_tokens=opts.max_tokens, seed=opts.seed, n_ctx=getattr(reader, "n_ctx", 0),
        roles_dir=str(roles_dir) if roles_dir else None, persona_file=str(persona_file),
        seconds=round(time.perf_counter() - start, 1),
        plan={"extra_questions": opts.extra_questions, "held_out": opts.held_out},
        note=f"{collected.skipped} empty responses skipped")
    recipe = AxisRecipe("persona", f"persona:{persona.name}", persona.name, settings,
                        _prompts(plan))
    return make_axis(reader, collected, list(opts.layers), recipe)
