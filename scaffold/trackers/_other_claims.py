"""Does a text claim, in the first person, a name the persona is not (its other_identities)?"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from scaffold.config import PersonaSpec

_OPENERS = (
    r"\bI\s+am|\bI'm|\bI’m|\bmy\s+name\s+is|\bcall\s+me|\bthis\s+is|\bje\s+suis|\bj'suis|"
    r"\bje\s+m'appelle|\bje\s+m’appelle|\bmoi,?\s+c'est|\bmon\s+nom\s+est|\bich\s+bin|"
    r"\bich\s+hei(?:ß|ss)e|\bmein\s+name\s+ist|\bsoy|\bme\s+llamo|\bmi\s+nombre\s+es|"
    r"\bsono|\bmi\s+chiamo|\bsou|\bme\s+chamo|\bo\s+meu\s+nome\s+é|我是|我叫|私は")
"""Openings of a claim about oneself, in the languages the break detector reads."""
_GAP = r"(?:[A-ZÀ-Ý][\w.'’-]*\s+){0,3}?"
"""Up to three capitalised words between the opening and the name ('I am President Lyndon
Johnson'); 'I am not Richard Nixon' and 'I'm married to Jackie Kennedy' claim nothing."""


def _is_own(own_name: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", own_name, re.IGNORECASE) is not None


def other_names(persona: PersonaSpec, others: Mapping[str, PersonaSpec] | None) -> tuple[str, ...]:
    """Names the persona must not claim: its other_identities and the run's other personas."""
    names: Iterable[str] = (*getattr(persona, "other_identities", ()),
                            *(p.name for p in (others or {}).values() if p.name != persona.name))
    return tuple(dict.fromkeys(n for n in names if n.strip() and not _is_own(persona.name, n)))


@lru_cache(maxsize=256)
def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?i:{_OPENERS})\s*{_GAP}(?i:{alternatives})(?!\w)")


def claimed_other(text: str, names: tuple[str, ...]) -> str | None:
    """The first-person claim of one of `names` in `text` ('I'm Richard Nixon'), if any."""
    if not names:
        return None
    match = _pattern(names).search(text)
    return match.group(0) if match else None
