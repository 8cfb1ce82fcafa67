"""Validation of the activation axes on held-out prompts, the break-vs-in-persona effect on the
labelled set, and the capture overhead (ratio to the same evaluation without capture).

    python benchmarks/activations.py [--personas jfk,nova,amelie] [--per-group 60]
        [--split test|dev|all] [--overhead-texts 12] [--threads N]
        [--parts assistant,personas,labelled,overhead]

Held out means: roles the assistant axis was not built from, answering questions it never
saw; for a persona axis, the persona's questions kept out of its build. Axes come from the
axis search path (the axes cache, then the shipped ones); a missing
persona axis is built (and cached) first. Prints `ratio: X` last (capture / no capture).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "labelled.jsonl"
PERSONAS = ROOT / "examples" / "personas"
ROLES = ROOT.parent / "shared" / "datasets" / "assistant_axis" / "roles"
# This folder holds a memory.py, which would shadow the `memory` package.
sys.path[:1] = [str(ROOT)]

from scaffold.activations import Axis, open_reader, save_axis  # noqa: E402
from scaffold.activations.build import (  # noqa: E402
    AssistantOptions,
    PersonaOptions,
    auroc,
    build_persona_axis,
    cohens_d,
    collect,
    plan_assistant,
    plan_persona,
)
from scaffold.activations.discovery import axes_cache_dir, find_axes  # noqa: E402


def bootstrap(stat: Any, a: Sequence[float] | np.ndarray[Any, Any],
              b: Sequence[float] | np.ndarray[Any, Any], resamples: int = 1000,
              seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of stat(a, b), resampling each group with replacement."""
    rng = np.random.default_rng(seed)
    x, y = np.asarray(a, float), np.asarray(b, float)
    values = [stat(rng.choice(x, x.size), rng.choice(y, y.size)) for _ in range(resamples)]
    values = [v for v in values if np.isfinite(v)]
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def _line(name: str, separation: float, interval: tuple[float, float], n: tuple[int, int],
          target: float) -> str:
    verdict = "meets" if separation >= target else "BELOW"
    return (f"  {name:34s} AUROC {separation:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]  "
            f"(n={n[0]}+{n[1]}; {verdict} target {target})")


def held_out_assistant(reader: Any, axis: Axis) -> float:
    """AUROC of default vs role on held-out roles and questions, per layer."""
    params, settings = axis.meta.settings.plan, axis.meta.settings
    opts = AssistantOptions(roles=int(params["roles"]), questions=int(params["questions"]),
                            held_out_roles=int(params["held_out_roles"]),
                            held_out_questions=int(params["held_out_questions"]),
                            max_tokens=settings.max_tokens, seed=settings.seed)
    plan = plan_assistant(reader, Path(axis.meta.settings.roles_dir or ROLES), opts)
    if plan.held_out_roles != axis.meta.prompts.held_out_roles:
        raise SystemExit("the re-derived held-out roles differ from the axis file's")
    print(f"assistant axis: held-out roles {', '.join(plan.held_out_roles)}, "
          f"{len(plan.held_out)} responses to make")
    got = collect(reader, plan.held_out, axis.meta.layers, opts.max_tokens, opts.seed)
    chosen = 0.0
    for layer in axis.meta.layers:
        default = got.group(layer, "default") @ axis.vectors[layer]
        other = got.group(layer, "other") @ axis.vectors[layer]
        value = auroc(default, other)
        tag = " (scoring layer)" if layer == axis.meta.layer else ""
        print(_line(f"layer {layer}{tag}", value, bootstrap(auroc, default, other),
                    (default.size, other.size), 0.9))
        chosen = value if layer == axis.meta.layer else chosen
    return chosen


def persona_axis(reader: Any, key: str, max_tokens: int) -> tuple[Any, Axis]:
    """The persona and its axis (built and cached when none is found)."""
    from scaffold.trackers.standalone import load_persona

    persona = load_persona(PERSONAS / f"{key}.yaml")
    _, axis = find_axes(reader.identity.sha256, persona.name)
    if axis is None:
        print(f"building the persona axis of {persona.name} (none found)")
        start = time.perf_counter()
        axis = build_persona_axis(reader, persona, PERSONAS / f"{key}.yaml", ROLES,
                                  PersonaOptions(extra_questions=6, max_tokens=max_tokens))
        target = axes_cache_dir() / f"persona-{key}-{reader.identity.sha256[:8]}.npz"
        save_axis(axis, target)
        print(f"  built in {time.perf_counter() - start:.0f} s -> {target}")
    return persona, axis


def held_out_persona(reader: Any, key: str, max_tokens: int) -> float:
    """AUROC of in persona vs default on the persona axis's held-out questions."""
    persona, axis = persona_axis(reader, key, max_tokens)
    params = axis.meta.settings.plan
    opts = PersonaOptions(extra_questions=int(params["extra_questions"]),
                          held_out=float(params["held_out"]),
                          max_tokens=axis.meta.settings.max_tokens, seed=axis.meta.settings.seed)
    roles = Path(axis.meta.settings.roles_dir) if axis.meta.settings.roles_dir else None
    plan = plan_persona(persona, roles, opts)
    if plan.held_out_questions != axis.meta.prompts.held_out_questions:
        raise SystemExit(f"{key}: the re-derived held-out questions differ from the axis file's")
    got = collect(reader, plan.held_out, [axis.meta.layer], opts.max_tokens, opts.seed)
    vector = axis.vectors[axis.meta.layer]
    on_persona = got.group(axis.meta.layer, "other") @ vector
    on_default = got.group(axis.meta.layer, "default") @ vector
    value = auroc(on_persona, on_default)
    print(_line(f"persona {key}, layer {axis.meta.layer}", value,
                bootstrap(auroc, on_persona, on_default),
                (on_persona.size, on_default.size), 0.9))
    return value


def labelled_effect(reader: Any, assistant: Axis, split: str, per_group: int,
                    persona_key: str | None = None) -> float:
    """Cohen's d of the assistant-axis projection, break minus in-persona labelled answers
    (with `persona_key`: on that persona's axis, its items only, in persona minus break)."""
    from scaffold.trackers.activation import ActivationScorer
    from scaffold.trackers.standalone import load_persona
    from scaffold.config import ProbeSpec

    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    rows = [r for r in rows if (split == "all" or r["split"] == split)
            and persona_key in (None, r["persona"])]
    rng = random.Random(0)
    breaks = [r for r in rows if r["break"]]
    clean = [r for r in rows if r["in_persona"] and not r["break"]]
    chosen = rng.sample(breaks, min(per_group, len(breaks))) + \
        rng.sample(clean, min(per_group, len(clean)))
    chosen.sort(key=lambda r: (r["persona"], r["question"] or ""))  # shared prefixes read once
    personas = {p.stem: load_persona(p) for p in PERSONAS.glob("*.yaml")}
    axes: dict[str, Axis] = {}
    if persona_key is not None:
        axes[personas[persona_key].name] = persona_axis(reader, persona_key, 32)[1]
    scorer = ActivationScorer(reader=reader, axes=(assistant, axes))
    on_break: list[float] = []
    on_clean: list[float] = []
    for r in chosen:
        probe = ProbeSpec(id="q", question=r["question"]) if r.get("question") else None
        details = scorer.measure(r["text"], probe, personas[r["persona"]])
        (on_break if r["break"] else on_clean).append(details.projection)
    if persona_key is not None:
        d = cohens_d(on_clean, on_break)
        low, high = bootstrap(cohens_d, on_clean, on_break)
        print(f"labelled {split} split, {persona_key} only: persona-axis projection, in persona "
              f"{np.mean(on_clean):+.3f} (n={len(on_clean)}) vs break {np.mean(on_break):+.3f} "
              f"(n={len(on_break)}): Cohen's d {d:+.2f} [{low:+.2f}, {high:+.2f}]; AUROC "
              f"{auroc(on_clean, on_break):.3f}")
        return d
    d = cohens_d(on_break, on_clean)
    low, high = bootstrap(cohens_d, on_break, on_clean)
    print(f"labelled {split} split: assistant-axis projection, break {np.mean(on_break):+.3f} "
          f"(n={len(on_break)}) vs in persona {np.mean(on_clean):+.3f} (n={len(on_clean)}): "
          f"Cohen's d {d:+.2f} [{low:+.2f}, {high:+.2f}]; AUROC "
          f"{auroc(on_break, on_clean):.3f}")
    return d


def overhead(reader: Any, texts: int, layer: int) -> float:
    """Seconds with capture over seconds without, evaluating the same token sequences (a
    few-hundred-token context and a labelled answer) from an empty cache, alternating which
    goes first so drifts in the shared machine's load cancel."""
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    chosen = random.Random(1).sample(rows, texts)
    system = "You are a helpful assistant. " * 40
    capture, plain, lengths = [], [], []
    for i, r in enumerate(chosen):
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": r["question"] or "Tell me about yourself."}]
        tokens = reader.prompt_tokens(messages) + reader.text_tokens(r["text"])
        lengths.append(len(tokens))

        def with_capture(messages: list[dict[str, str]] = messages, text: str = r["text"]) -> None:
            reader.forget()
            capture.append(reader.read(messages, text, [layer]).seconds)

        runs = [lambda tokens=tokens: plain.append(reader.eval_plain(tokens)), with_capture]
        for run in runs if i % 2 == 0 else runs[::-1]:
            run()
    pairs = statistics.median(c / p for c, p in zip(capture, plain))
    print(f"capture overhead: {sum(capture):.2f} s with capture (tokenizing, evaluating, "
          f"copying layer {layer}, averaging) vs {sum(plain):.2f} s evaluating the same tokens "
          f"without a callback, {texts} sequences of {statistics.mean(lengths):.0f} tokens; "
          f"median ratio of pairs {pairs:.3f}")
    return sum(capture) / sum(plain)


def step_cost(reader: Any, axis: Axis, prompts: int, max_tokens: int) -> None:
    """What scoring a reply adds to a step: generating it vs reading it after a cached
    context (the reader keeps its cache between reads, so only the new turn is evaluated)."""
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    questions = [r["question"] for r in random.Random(2).sample(rows, prompts) if r["question"]]
    system = [{"role": "system", "content": "You are a helpful assistant. " * 40}]
    generating, reading = 0.0, 0.0
    for question in questions:
        messages = [*system, {"role": "user", "content": question}]
        reader.generate(messages, max_tokens, 0)  # the context is cached in a run: warm it
        start = time.perf_counter()
        reply = reader.generate(messages, max_tokens, 0) or "..."
        generating += time.perf_counter() - start
        reader.forget()
        reader.read(system, "Earlier reply.", [axis.meta.layer])  # the context, cached
        reading += reader.read(messages, reply, [axis.meta.layer]).seconds
    print(f"per reply: generating {generating / len(questions):.2f} s ({max_tokens} tokens at "
          f"most, context cached), reading it for the activation scorer "
          f"{reading / len(questions):.2f} s: "
          f"step ratio {(generating + reading) / generating:.3f} "
          f"(the same steps with the scorer / without)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--personas", default="jfk")
    parser.add_argument("--split", default="test", choices=["dev", "test", "all"])
    parser.add_argument("--per-group", type=int, default=60)
    parser.add_argument("--overhead-texts", type=int, default=12)
    parser.add_argument("--step-prompts", type=int, default=4)
    parser.add_argument("--parts", default="assistant,personas,labelled,overhead",
                        help="which measurements to make (comma-separated)")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads of the reader (default every core; 1 is faster on a "
                             "machine other jobs keep busy)")
    args = parser.parse_args()
    reader = open_reader(n_threads=args.threads)
    assistant, _ = find_axes(reader.identity.sha256, None)
    if assistant is None:
        raise SystemExit("no assistant axis for the embedded model: run `scaffold axis build`")
    print(f"reader {reader.identity.name} ({reader.identity.file}); assistant axis layer "
          f"{assistant.meta.layer}, built from {assistant.meta.counts} responses")
    parts = set(args.parts.split(","))
    if "assistant" in parts:
        held_out_assistant(reader, assistant)
    if "personas" in parts:
        for key in [k for k in args.personas.split(",") if k]:
            held_out_persona(reader, key, args.max_tokens)
    if "labelled" in parts:
        labelled_effect(reader, assistant, args.split, args.per_group)
    if "labelled-persona" in parts:
        for key in [k for k in args.personas.split(",") if k]:
            labelled_effect(reader, assistant, args.split, args.per_group, key)
    if "overhead" in parts:
        step_cost(reader, assistant, args.step_prompts, args.max_tokens)
        print(f"ratio: {overhead(reader, args.overhead_texts, assistant.meta.layer):.3f}")


if __name__ == "__main__":
    main()
