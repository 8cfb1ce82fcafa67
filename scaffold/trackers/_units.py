"""Split a text into sentence-sized units, so a single off-persona sentence is not averaged away."""

from __future__ import annotations

import re

MIN_CHARS = 25
"""A fragment shorter than this ('Yes.', 'Well.') joins its neighbour: alone it says little."""
MAX_UNITS = 12
"""Longer texts merge neighbouring sentences, which bounds the cost of one score."""

_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])\s*|\n+")


def sentences(text: str) -> list[str]:
    """The text's sentences (Latin and CJK end marks, line breaks), short fragments merged."""
    units: list[str] = []
    for part in (p.strip() for p in _BOUNDARY.split(text)):
        if not part:
            continue
        if units and (len(part) < MIN_CHARS or len(units[-1]) < MIN_CHARS):
            units[-1] = f"{units[-1]} {part}"
        else:
            units.append(part)
    return units


def units(text: str, limit: int = MAX_UNITS) -> list[str]:
    """At most `limit` units covering the text, each one sentence or a few neighbouring ones."""
    parts = sentences(text) or [text.strip()]
    while len(parts) > limit:
        parts = [" ".join(parts[i:i + 2]) for i in range(0, len(parts), 2)]
    return parts
