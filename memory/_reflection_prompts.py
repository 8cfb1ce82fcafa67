"""Prompts of Generative Agents' memory stream (Park et al. 2023) and parsers for their replies."""

from __future__ import annotations

import re
from dataclasses import dataclass

IMPORTANCE_PROMPT = (
    "On the scale of 1 to 10, where 1 is purely mundane (e.g., brushing teeth, making bed) and "
    "10 is extremely poignant (e.g., a break up, college acceptance), rate the likely "
    "poignancy of the following piece of memory.\nMemory: {memory}\n"
    "Answer with one number only.\nRating:"
)
"""The paper's importance prompt (appendix), asked of each memory on its own."""

QUESTIONS_PROMPT = (
    "{memories}\n\nGiven only the information above, what are {n} most salient high-level "
    "questions we can answer about the subjects in the statements? One question per line."
)
"""The paper's question-generation prompt, over the most recent memories."""

INSIGHTS_PROMPT = (
    "Statements relevant to the question \"{question}\":\n{memories}\n\n"
    "What {n} high-level insights can you infer from the above statements? Write one insight "
    "per line, each followed by the numbers of the statements it rests on "
    "(example format: insight (because of 1, 5, 3))."
)
"""The paper's insight prompt, over the memories retrieved for one question."""

_NUMBER = re.compile(r"(?<![\d.])(-?\d+(?:\.\d+)?)")
_BULLET = re.compile(r"^\s*(?:[-*•]|\(?\d+[.):]|Q\d*[.:)]|Question\s*\d*[.:)])\s*", re.I)
_BECAUSE = re.compile(r"\(\s*because of\s*([^)]*)\)\s*\.?", re.I)
_LABEL = re.compile(r"^\s*insight\s*\d*\s*[:.)-]?\s*", re.I)


@dataclass(frozen=True)
class Rating:
    """An importance rating read from a reply.

    Attributes:
        value: the importance used, 1 to 10.
        parsed: the number the reply held (None: it held none).
        problem: why `value` is not simply the number given: 'no_number' or 'out_of_range'.
    """

    value: int
    parsed: float | None
    problem: str | None


def parse_rating(reply: str, default: int) -> Rating:
    """The first number in a rating reply, rounded and clamped to 1..10.

    Args:
        reply: the rater's reply ("7", "Rating: 7/10", "I'd say 8.").
        default: the importance when the reply holds no number.
    """
    match = _NUMBER.search(reply)
    if match is None:
        return Rating(default, None, "no_number")
    number = float(match.group(1))
    value = min(10, max(1, int(round(number))))
    return Rating(value, number, None if 1 <= number <= 10 else "out_of_range")


def parse_questions(reply: str, n: int) -> list[str]:
    """Up to `n` questions: lines of the reply ending in '?', bullets and numbers removed."""
    found = []
    for line in reply.splitlines():
        text = _BULLET.sub("", line).strip().strip('"')
        if text.endswith("?") and len(text) > 3 and text not in found:
            found.append(text)
    return found[:n]


@dataclass(frozen=True)
class Insight:
    """One insight and the statements (1-based numbers in the prompt) it cites."""

    text: str
    cites: tuple[int, ...]


def parse_insights(reply: str, n: int, statements: int) -> list[Insight]:
    """Up to `n` insights, one a line, with the statement numbers they cite ('(because of
    ...)' anywhere in the line, as small models also put it first); numbers outside
    1..statements are dropped, and an 'Insight 2:' label is taken off."""
    found: list[Insight] = []
    for line in reply.splitlines():
        text = _BULLET.sub("", line).strip()
        cites: tuple[int, ...] = ()
        match = _BECAUSE.search(text)
        if match:
            numbers = (int(x) for x in re.findall(r"\d+", match.group(1)))
            cites = tuple(dict.fromkeys(k for k in numbers if 1 <= k <= statements))
            text = f"{text[: match.start()]} {text[match.end():]}"
        text = " ".join(_LABEL.sub("", text.strip()).lstrip(":-. ").split())
        if len(text.split()) >= 3 and not text.endswith("?") \
                and text not in (i.text for i in found):
            found.append(Insight(text, cites))
    return found[:n]


def numbered(texts: list[str]) -> str:
    """Statements numbered from 1, one a line."""
    return "\n".join(f"{i}. {' '.join(t.split())}" for i, t in enumerate(texts, 1))
