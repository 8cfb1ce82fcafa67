"""The labelled scorer set: its items, loading, and the figures that validate a scorer on it."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from scaffold.config import PersonaSpec

REPO = Path(__file__).resolve().parents[2]
LABELLED_SET = REPO / "benchmarks" / "data" / "labelled.jsonl"
"""The labelled set shipped with the repository (rules in benchmarks/data/LABELLING.md)."""
PERSONA_DIR = REPO / "examples" / "personas"
"""Persona files named by the items' `persona` key."""


class LabelledItem(BaseModel):
    """One hand-labelled answer or memory text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    persona: str
    kind: Literal["probe", "reply", "memory"]
    probe_id: str | None
    question: str | None
    text: str
    in_persona: bool
    break_: bool
    category: str
    language: str
    source: Literal["handwritten", "model"]
    split: Literal["dev", "test"]


def load_items(path: Path = LABELLED_SET) -> list[LabelledItem]:
    """Read a labelled set (JSONL; `break` is read into `break_`)."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            row["break_"] = row.pop("break")
            items.append(LabelledItem.model_validate(row))
    return items


def load_persona(key: str, directory: Path = PERSONA_DIR) -> PersonaSpec:
    """The persona an item names, from `<directory>/<key>.yaml`."""
    data = yaml.safe_load((directory / f"{key}.yaml").read_text(encoding="utf-8"))
    return PersonaSpec.model_validate(data)


class BinaryFigures(BaseModel):
    """Precision, recall and F1 of a yes/no prediction against labels."""

    n: int
    positives: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float


def binary_figures(predicted: Sequence[bool], actual: Sequence[bool]) -> BinaryFigures:
    """Precision, recall and F1; a ratio with nothing to count is 1.0 only when it is vacuous
    (no positives predicted and none missed), so an empty class never flatters a scorer."""
    tp = sum(p and a for p, a in zip(predicted, actual, strict=True))
    fp = sum(p and not a for p, a in zip(predicted, actual, strict=True))
    fn = sum(a and not p for p, a in zip(predicted, actual, strict=True))
    precision = tp / (tp + fp) if tp + fp else float(fn == 0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BinaryFigures(n=len(actual), positives=tp + fn, tp=tp, fp=fp, fn=fn,
                         precision=precision, recall=recall, f1=f1)


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U, ties count half); None without both classes.

    The chance that a random positive item scores above a random negative one.
    """
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    ranked = sorted((s, i) for i, s in enumerate([*pos, *neg]))
    ranks = [0.0] * len(ranked)
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[ranked[k][1]] = (i + j) / 2 + 1
        i = j + 1
    u = sum(ranks[:len(pos)]) - len(pos) * (len(pos) + 1) / 2
    return u / (len(pos) * len(neg))


def bootstrap_interval(values: Sequence[float], labels: Sequence[bool], metric: str,
                       rounds: int = 1000, seed: int = 0) -> tuple[float, float] | None:
    """95% percentile bootstrap interval of `metric` ('f1' on predictions in `values` > 0.5
    being positive, or 'auroc'), resampling items; None when too few resamples are defined."""
    rng = random.Random(seed)
    n = len(values)
    stats: list[float] = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        v = [values[i] for i in idx]
        y = [labels[i] for i in idx]
        if metric == "auroc":
            stat = auroc(v, y)
        else:
            stat = binary_figures([x > 0.5 for x in v], y).f1
        if stat is not None:
            stats.append(stat)
    if len(stats) < rounds // 2:
        return None
    stats.sort()
    return stats[int(0.025 * (len(stats) - 1))], stats[int(0.975 * (len(stats) - 1))]
