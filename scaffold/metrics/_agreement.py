"""Scorer agreement: raw agreement and Cohen's kappa on thresholded answer scores."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from scaffold.metrics._answers import AnswerScore, scorer_names
from scaffold.metrics._models import Agreement

AGREEMENT_THRESHOLD = 0.5
"""Scores at or above this count as in persona."""


def cohen_kappa(a: list[bool], b: list[bool]) -> float | None:
    """Cohen's kappa of two binary raters over the same items.

    Returns:
        (p_observed - p_chance) / (1 - p_chance); None when there are no items or chance
        agreement is 1 (both raters gave one and the same label throughout).
    """
    if len(a) != len(b):
        raise ValueError("raters must label the same items")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    if chance >= 1.0:
        return None
    return (observed - chance) / (1 - chance)


def scorer_agreement(scores: list[AnswerScore]) -> list[Agreement]:
    """Agreement for every pair of scorers on the answers both scored.

    Answers are matched on (agent, round, probe, sample); unscored values are left out.
    """
    table: dict[tuple[str, str, str, int], dict[str, float]] = defaultdict(dict)
    for s in scores:
        if s.value is not None:
            table[(s.agent_id, s.round_id, s.probe_id, s.sample)][s.scorer] = s.value
    out = []
    for x, y in combinations(scorer_names(scores), 2):
        pairs = [(row[x] >= AGREEMENT_THRESHOLD, row[y] >= AGREEMENT_THRESHOLD)
                 for row in table.values() if x in row and y in row]
        a, b = [p[0] for p in pairs], [p[1] for p in pairs]
        agree = sum(p == q for p, q in pairs) / len(pairs) if pairs else None
        out.append(Agreement(scorer_a=x, scorer_b=y, n=len(pairs), agreement=agree,
                             kappa=cohen_kappa(a, b)))
    return out
