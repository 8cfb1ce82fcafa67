"""AUROC of the embedding scorer for 'in persona' on the labelled set, by split, language,
persona and length, with its cost per text and its worst errors.

    python benchmarks/embedding_scorer.py [--split dev|test|all] [--worst 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "labelled.jsonl"
PERSONAS = ROOT / "examples" / "personas"
# This folder holds a memory.py, which would shadow the `memory` package.
sys.path[:1] = [str(ROOT)]


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def load_items(split: str) -> list[dict[str, Any]]:
    """The labelled items of a split ('all' for both)."""
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if split == "all" or r["split"] == split]


def score_items(items: list[dict[str, Any]]) -> tuple[list[float], float]:
    """Embedding scores of the items (in order) and the mean seconds per text."""
    from scaffold.trackers.embedding import EmbeddingScorer
    from scaffold.trackers.standalone import load_persona

    personas = {p.stem: load_persona(p) for p in PERSONAS.glob("*.yaml")}
    scorer = EmbeddingScorer()
    for persona in personas.values():  # references are embedded once, outside the timing
        scorer.measure("warm up", persona)
    start = time.perf_counter()
    scores = [scorer.measure(r["text"], personas[r["persona"]], r["kind"] != "memory").value
              for r in items]
    return scores, (time.perf_counter() - start) / max(len(items), 1)


def _slice(name: str, keep: Callable[[dict[str, Any]], bool], items: list[dict[str, Any]],
           scores: list[float]) -> str:
    chosen = [(s, r["in_persona"]) for s, r in zip(scores, items) if keep(r)]
    value = auroc([s for s, _ in chosen], [y for _, y in chosen])
    shown = "   n/a" if value is None else f"{value:6.3f}"
    return f"  {name:28s} AUROC {shown}  (n={len(chosen)}, in persona {sum(y for _, y in chosen)})"


def _persona_is(key: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: bool(r["persona"] == key)


def report(items: list[dict[str, Any]], scores: list[float], worst: int) -> list[str]:
    """Lines of the report: slices, then the worst-ranked errors."""
    from scaffold.trackers._units import sentences

    slices: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
        ("all", lambda r: True),
        ("English", lambda r: r["language"] == "en"),
        ("French", lambda r: r["language"] == "fr"),
        ("other languages", lambda r: r["language"] not in ("en", "fr")),
        ("long (3+ sentences)", lambda r: len(sentences(r["text"])) >= 3),
        ("memory texts", lambda r: r["kind"] == "memory"),
    ]
    slices += [(f"persona {p}", _persona_is(p)) for p in sorted({r["persona"] for r in items})]
    lines = [_slice(name, keep, items, scores) for name, keep in slices]
    # How wrong each score is: an in-persona text should score 1, any other text 0.
    ranked = sorted(zip(scores, items),
                    key=lambda x: -(1 - x[0] if x[1]["in_persona"] else x[0]))
    lines.append(f"  worst {worst} (furthest from 1 for in-persona texts, from 0 for others):")
    for score, r in ranked[:worst]:
        tag = "IN " if r["in_persona"] else "OUT"
        lines.append(f"    {score:.3f} {tag} {r['persona']:6s} {r['category']:14s} "
                     f"{r['text'][:90]!r}")
    return lines


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="all", choices=["dev", "test", "all"])
    parser.add_argument("--worst", type=int, default=12)
    args = parser.parse_args()
    splits = ["dev", "test"] if args.split == "all" else [args.split]
    for split in splits:
        items = load_items(split)
        scores, seconds = score_items(items)
        print(f"{split}: {len(items)} items, {seconds * 1000:.0f} ms/text")
        print("\n".join(report(items, scores, args.worst)))


if __name__ == "__main__":
    main()
