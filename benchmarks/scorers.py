"""Scorers against the labelled set: break precision/recall/F1, in-persona AUROC, worst errors.

Run: .venv/bin/python benchmarks/scorers.py [--scorers break,rules,embedding] [--judge MODEL]
     [--data benchmarks/data/labelled.jsonl] [--split dev|test] [--persona KEY] [--errors 10]
     [--json out.json]

Each scorer is built on its own through the registry (no experiment spec) and scores every
item: a probe answer with its persona probe, a reply or a memory text without one. `break`
is read as a classifier (value 0 = break) against the `break` labels; every scorer's value is
read as an "in persona" score against the `in_persona` labels (AUROC over the items it
scored). Figures are printed for all items, per split (tune on dev, report test), per
persona and per language, with 95% bootstrap intervals over items. The judge runs only with
--judge (e.g. --judge local/qwen2.5-0.5b-instruct), since it costs a model call per item.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scaffold import registry  # noqa: E402
from scaffold.config import PersonaSpec, ProbeSpec  # noqa: E402
from scaffold.trackers.labelled import (  # noqa: E402
    LABELLED_SET,
    LabelledItem,
    auroc,
    binary_figures,
    bootstrap_interval,
    load_items,
    load_persona,
)
from scaffold.trackers.scoring import IdentityScore, ScorerContext  # noqa: E402

Scored = list[tuple[LabelledItem, IdentityScore]]


def probe_for(item: LabelledItem, persona: PersonaSpec) -> ProbeSpec | None:
    """The persona probe a probe item answered (None for replies and memory texts)."""
    if item.kind != "probe" or item.probe_id is None:
        return None
    return next((p for p in persona.probes if p.id == item.probe_id), None)


def judge_context(model: str) -> ScorerContext:
    """Model access for the judge, outside any run (nothing is recorded)."""
    from scaffold.models import CallContext, ModelClient

    client = ModelClient(emit=lambda *args, **kwargs: None)

    async def complete(messages: list[dict[str, Any]], *, purpose: str = "judge",
                       agent_id: str | None = None, step: int = 0, **params: Any) -> Any:
        ctx = CallContext(purpose=purpose, agent_id=agent_id, step=step)
        return await client.complete(model, messages, ctx, **params)

    return ScorerContext(judge_model=model, complete=complete)


async def score_all(name: str, items: list[LabelledItem], ctx: ScorerContext) -> Scored:
    """Score every item with one scorer per persona, built standalone from the registry (the
    persona is the only one of its setting: `ctx.personas` holds just it)."""
    personas: dict[str, PersonaSpec] = {}
    scorers: dict[str, Any] = {}
    out: Scored = []
    for item in items:
        persona = personas.setdefault(item.persona, load_persona(item.persona))
        if item.persona not in scorers:
            own = replace(ctx, personas={item.persona: persona})
            scorers[item.persona] = registry.get("scorer", name)(own)
        result = await scorers[item.persona].score(item.text, probe_for(item, persona),
                                                   persona, None)
        out.append((item, result))
    return out


def _groups(items: Scored) -> dict[str, Scored]:
    groups: dict[str, Scored] = {"all": items}
    keys: list[Callable[[LabelledItem], str]] = [
        lambda i: f"split={i.split}", lambda i: f"persona={i.persona}",
        lambda i: f"language={i.language}",
        lambda i: f"kind={i.kind}", lambda i: f"source={i.source}"]
    for key in keys:
        for item, result in items:
            groups.setdefault(key(item), []).append((item, result))
    return groups


def _interval(ci: tuple[float, float] | None) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "[n/a]"


def break_report(scored: Scored) -> dict[str, Any]:
    """Break as a classifier: precision, recall, F1 per group (unscored counts as no break)."""
    rows: dict[str, Any] = {}
    print("break: precision / recall / F1 on `break` labels (value 0 = break predicted)")
    print(f"  {'group':24} {'n':>4} {'pos':>4} {'P':>5} {'R':>5} {'F1':>5}  F1 95% CI")
    for group, items in _groups(scored).items():
        predicted = [r.value == 0.0 for _, r in items]
        actual = [i.break_ for i, _ in items]
        fig = binary_figures(predicted, actual)
        ci = bootstrap_interval([1.0 if p else 0.0 for p in predicted], actual, "f1")
        unscored = sum(r.value is None for _, r in items)
        rows[group] = {**fig.model_dump(), "f1_ci": ci, "unscored": unscored}
        print(f"  {group:24} {fig.n:4d} {fig.positives:4d} {fig.precision:5.2f} "
              f"{fig.recall:5.2f} {fig.f1:5.2f}  {_interval(ci)}"
              + (f"  ({unscored} unscored)" if unscored else ""))
    return rows


def auroc_report(name: str, scored: Scored) -> dict[str, Any]:
    """A scorer's value as an in-persona score: AUROC per group over the items it scored."""
    rows: dict[str, Any] = {}
    print(f"{name}: AUROC for `in_persona` over scored items")
    print(f"  {'group':24} {'n':>4} {'in':>4} {'AUROC':>6}  95% CI")
    for group, items in _groups(scored).items():
        kept = [(i, r) for i, r in items if r.value is not None]
        values = [float(r.value) for _, r in kept if r.value is not None]
        labels = [i.in_persona for i, _ in kept]
        area = auroc(values, labels)
        ci = bootstrap_interval(values, labels, "auroc") if area is not None else None
        rows[group] = {"n": len(kept), "in_persona": sum(labels), "auroc": area, "ci": ci}
        shown = f"{area:6.3f}" if area is not None else "   n/a"
        print(f"  {group:24} {len(kept):4d} {sum(labels):4d} {shown}  {_interval(ci)}")
    return rows


def _line(item: LabelledItem, result: IdentityScore) -> str:
    text = " ".join(item.text.split())
    value = "None" if result.value is None else f"{result.value:.2f}"
    return (f"    [{item.id} {item.split} {item.category}] {value}: {text[:150]}"
            + (f"\n      ({result.explanation[:120]})" if result.explanation else ""))


def worst_errors(name: str, scored: Scored, count: int) -> None:
    """The most confident mistakes: breaks missed and raised (break), or the highest-scored
    out-of-persona and lowest-scored in-persona items (every scorer)."""
    if name == "break":
        fn = [(i, r) for i, r in scored if i.break_ and r.value != 0.0]
        fp = [(i, r) for i, r in scored if not i.break_ and r.value == 0.0]
        for title, rows in (("missed breaks (false negatives)", fn),
                            ("raised breaks (false positives)", fp)):
            print(f"  {title}: {len(rows)}")
            for item, result in rows[:count]:
                print(_line(item, result))
        return
    kept = [(i, r) for i, r in scored if r.value is not None]
    high = sorted((x for x in kept if not x[0].in_persona), key=lambda x: -float(x[1].value or 0))
    low = sorted((x for x in kept if x[0].in_persona), key=lambda x: float(x[1].value or 0))
    for title, rows in (("highest-scored items not in persona", high),
                        ("lowest-scored items in persona", low)):
        print(f"  {title}:")
        for item, result in rows[:count]:
            print(_line(item, result))


def main(argv: list[str] | None = None) -> int:
    """Score the labelled set with each scorer and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=LABELLED_SET)
    parser.add_argument("--scorers", default="break,rules,embedding")
    parser.add_argument("--judge", default=None, help="judge model (adds the judge scorer)")
    parser.add_argument("--errors", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None, help="also write figures here")
    parser.add_argument("--split", choices=["dev", "test"], default=None,
                        help="only this split (default: both, reported apart)")
    parser.add_argument("--persona", default=None, help="only this persona's items")
    args = parser.parse_args(argv)
    items = [i for i in load_items(args.data)
             if args.split in (None, i.split) and args.persona in (None, i.persona)]
    names = [n.strip() for n in args.scorers.split(",") if n.strip()]
    if args.judge and "judge" not in names:
        names.append("judge")
    print(f"labelled set: {args.data} ({len(items)} items; "
          f"{sum(i.split == 'dev' for i in items)} dev, {sum(i.split == 'test' for i in items)} "
          f"test; {sum(i.break_ for i in items)} breaks, {sum(i.in_persona for i in items)} in "
          f"persona)\n")
    figures: dict[str, Any] = {}
    for name in names:
        ctx = judge_context(args.judge) if name == "judge" and args.judge else ScorerContext()
        scored = asyncio.run(score_all(name, items, ctx))
        figures[name] = {"classifier": break_report(scored)} if name == "break" else {}
        figures[name]["auroc"] = auroc_report(name, scored)
        worst_errors(name, scored, args.errors)
        print()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
