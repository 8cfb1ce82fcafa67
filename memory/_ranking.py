"""Exact, deterministic ranking of retrieval candidates: cosine on stored vectors, stable ties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DISTANCE_DECIMALS = 6
"""Distances are compared (and reported) at this precision, so memories with the same text
tie exactly even when their vectors differ in the last bits."""


@dataclass(frozen=True)
class Candidate:
    """A stored memory found for a query.

    Attributes:
        id: the memory's id as events show it.
        distance: exact cosine distance to the query, rounded to DISTANCE_DECIMALS.
        step: the step it was stored at (for ties: the more recent one first).
        item: what a search returns for it.
    """

    id: str
    distance: float
    step: int
    item: dict[str, Any]

    def key(self) -> tuple[float, int, str]:
        """Sort key: nearest first; among equal distances the most recent, then by id."""
        return (self.distance, -self.step, self.id)


def exact_distances(query: Sequence[float] | np.ndarray,
                    vectors: Sequence[Sequence[float]] | np.ndarray) -> list[float]:
    """Cosine distances (1 - cosine) from `query` to each vector, in float64 and rounded, so
    that the same stored vectors give the same numbers however the index was built or
    reloaded (the index's own float32 distances may differ bit-wise after a reload).

    Args:
        query: the query vector.
        vectors: the candidates' stored vectors, one per row.

    Returns:
        One distance per vector, rounded to DISTANCE_DECIMALS; 1.0 for a zero vector.
    """
    q = np.asarray(query, dtype=np.float64).ravel()
    rows = np.asarray(vectors, dtype=np.float64).reshape(-1, q.size)
    q_norm = float(np.linalg.norm(q))
    out = []
    for row in rows:  # row by row: one summation order, whatever the number of rows
        norm = float(np.linalg.norm(row)) * q_norm
        cosine = float(np.dot(row, q)) / norm if norm else 0.0
        out.append(round(1.0 - cosine, DISTANCE_DECIMALS))
    return out


def ranked(candidates: list[Candidate], exclude: set[str] | frozenset[str], top_k: int
           ) -> list[Candidate]:
    """The best `top_k` candidates whose message id is not in `exclude`, in a total order
    (see `Candidate.key`), so ties never depend on the index's internal order."""
    kept = [c for c in candidates if c.item.get("message_id") not in exclude]
    return sorted(kept, key=Candidate.key)[:top_k]


def rank_complete(best: list[Candidate], candidates: list[Candidate], asked: int,
                  top_k: int) -> bool:
    """Whether `best` is final: the index returned fewer than `asked` (it had no more), or
    every memory it did not return is farther than the last one chosen. When the farthest
    candidate ties with the last chosen one, memories not fetched might tie too, so the
    caller asks for more.

    Args:
        best: the chosen candidates (from `ranked`).
        candidates: everything the index returned.
        asked: how many the index was asked for.
        top_k: how many were wanted.
    """
    if len(candidates) < asked:
        return True
    if len(best) < top_k:
        return False
    return max(c.distance for c in candidates) > best[-1].distance
