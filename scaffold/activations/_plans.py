"""Which prompts an axis is built from, and which are held out for validation."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from scaffold.config import PersonaSpec

Group = Literal["default", "other"]


@dataclass(frozen=True)
class Prompt:
    """One response to make: a system prompt (None: the template's default) and a question."""

    group: Group
    who: str
    """`default`, a role name, or the persona's name."""
    system: str | None
    question: str

    def messages(self) -> list[dict[str, str]]:
        """The chat the response answers."""
        head = [{"role": "system", "content": self.system}] if self.system else []
        return [*head, {"role": "user", "content": self.question}]


@dataclass(frozen=True)
class Plan:
    """Prompts to build an axis from (`train`) and to validate it on (`held_out`)."""

    train: list[Prompt]
    held_out: list[Prompt]
    held_out_roles: list[str] = field(default_factory=list)
    held_out_questions: list[str] = field(default_factory=list)


def default_systems(roles_dir: Path, model_name: str) -> list[str | None]:
    """The study's default-assistant system prompts (`default.json`), `{model_name}` filled;
    the empty one means no system prompt (the chat template's own default)."""
    from scaffold.personas._source import read_json

    data = read_json(roles_dir / "default.json")
    variants = data.get("instruction", []) if isinstance(data, dict) else []
    texts = [str(v.get("pos", "")) for v in variants if isinstance(v, dict)]
    return [t.replace("{model_name}", model_name) or None for t in texts] or [None]


def role_variants(roles_dir: Path) -> dict[str, list[PersonaSpec]]:
    """Each role (file stem) with one PersonaSpec per instruction variant."""
    from scaffold.personas._assistant_axis import load_assistant_axis
    from scaffold.personas._source import SourceProblem

    variants: dict[str, list[PersonaSpec]] = {}
    for variant in range(5):
        try:
            roles = load_assistant_axis(roles_dir, variant)
        except SourceProblem as problem:
            if variant == 0:
                raise ValueError(f"{roles_dir}: {problem.message}") from None
            break  # fewer instruction variants than five: use those there are
        for name, persona in roles.items():
            variants.setdefault(name, []).append(persona)
    return variants


def assistant_plan(roles_dir: Path, model_name: str, roles: int, questions: int,
                   held_out_roles: int, held_out_questions: int, seed: int) -> Plan:
    """Default vs role prompts: `roles` roles answer `questions` of their questions each, and
    the default assistant answers the same questions; held-out roles answer other questions.

    Each role cycles through its instruction variants and the default through its system
    prompts, so no single wording makes the axis.
    """
    rng = random.Random(seed)
    variants = role_variants(roles_dir)
    names = sorted(variants)
    rng.shuffle(names)
    if len(names) < roles + held_out_roles:
        raise ValueError(f"{roles_dir} has {len(names)} roles; {roles} to build from and "
                         f"{held_out_roles} to hold out need {roles + held_out_roles}")
    defaults = default_systems(roles_dir, model_name)
    plan = Plan(train=[], held_out=[], held_out_roles=names[:held_out_roles])
    for index, name in enumerate(names[:held_out_roles + roles]):
        asked = [p.question for p in variants[name][0].probes]
        rng.shuffle(asked)
        held = index < held_out_roles
        chosen = asked[:held_out_questions] if held else asked[:questions]
        target = plan.held_out if held else plan.train
        for i, question in enumerate(chosen):
            role = variants[name][(index + i) % len(variants[name])]
            target.append(Prompt("other", name, role.identity, question))
            target.append(Prompt("default", "default", defaults[(index + i) % len(defaults)],
                                 question))
            if held:
                plan.held_out_questions.append(question)
    return plan


def persona_plan(persona: PersonaSpec, extra_questions: list[str], held_out: float,
                 seed: int) -> Plan:
    """In persona vs default on the persona's probes, the generic identity probes and extra
    (extraction) questions; a `held_out` fraction of the questions is kept for validation."""
    from scaffold.trackers.generic import probe_set

    questions = list(dict.fromkeys([p.question for p in probe_set(persona, True)]
                                   + extra_questions))
    random.Random(seed).shuffle(questions)
    n_held = max(1, round(len(questions) * held_out)) if held_out > 0 else 0
    held, train = questions[:n_held], questions[n_held:]

    def prompts(chosen: list[str]) -> list[Prompt]:
        return [prompt for q in chosen for prompt in (
            Prompt("other", persona.name, persona.identity, q),
            Prompt("default", "default", None, q))]

    return Plan(train=prompts(train), held_out=prompts(held), held_out_questions=held)


def extraction_questions(roles_dir: Path, count: int, seed: int) -> list[str]:
    """`count` questions drawn from the role files (everyday questions about oneself)."""
    pool = sorted({p.question for specs in role_variants(roles_dir).values()
                   for p in specs[0].probes})
    random.Random(seed).shuffle(pool)
    return pool[:count]
