"""Token accounting for the context, per section, with litellm's token counter for the model."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

import scaffold  # noqa: F401  (must precede litellm)

SECTIONS = ("persona", "core", "summary", "retrieved", "reflection", "notes", "facts",
            "messages")
"""Context sections in the order they are rendered."""


class TokenCounter:
    """Counts tokens of messages for one model, caching per message content."""

    def __init__(self, model: str, cache_size: int = 20_000):
        self.model = model
        self._cache: dict[str, int] = {}
        self._cache_size = cache_size

    def message(self, message: dict[str, Any]) -> int:
        """Tokens one message costs in a prompt (content plus per-message overhead)."""
        if len(message) == 2:  # the common case: role and content only
            key = f"{message.get('role')}\x00{message.get('content')}"
        else:
            key = json.dumps(message, sort_keys=True, default=str)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        import litellm

        try:
            n = int(litellm.token_counter(model=self.model, messages=[message]))
        except Exception:  # unknown tokenizer for this model name: litellm's default encoding
            n = int(litellm.token_counter(messages=[message]))
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[key] = n
        return n

    def messages(self, messages: list[dict[str, Any]]) -> int:
        """Tokens of a list of messages."""
        return sum(self.message(m) for m in messages)

    def text(self, text: str) -> int:
        """Tokens of a bare text (as one user message)."""
        return self.message({"role": "user", "content": text})


class ContextBudget:
    """A token budget and the threshold at which memory must act."""

    def __init__(self, budget_tokens: int, counter: TokenCounter):
        self.budget_tokens = budget_tokens
        self.counter = counter

    def over(self, tokens: int, threshold: float) -> bool:
        """True when `tokens` exceeds threshold × budget."""
        return tokens > threshold * self.budget_tokens


CUT_MARKER = "…"
"""Ends a text that was cut to fit its token budget."""


class Fit(NamedTuple):
    """A text fitted to a token budget.

    Attributes:
        text: the text to render (the original, or a prefix ending in CUT_MARKER).
        tokens: what the rendered message costs.
        full_tokens: what the uncut message would have cost.
        kept_chars: characters of the body kept (all of them when not cut).
        cut: whether the body was cut.
    """

    text: str
    tokens: int
    full_tokens: int
    kept_chars: int
    cut: bool

    def report(self, budget: int, chars: int) -> dict[str, int]:
        """What was cut, for a memory event's `detail`: the budget, what the whole would have
        cost and what was rendered, in tokens, and the characters kept of `chars`."""
        return {"budget": budget, "tokens": self.full_tokens, "rendered_tokens": self.tokens,
                "chars": chars, "kept_chars": self.kept_chars}


def system_cost(counter: TokenCounter, text: str) -> int:
    """Tokens of `text` rendered as one system message."""
    return counter.message({"role": "system", "content": text})


def fit_body(counter: TokenCounter, budget: int, body: str,
             frame: Callable[[str], str]) -> Fit | None:
    """The longest prefix of `body` whose framed text fits in `budget` tokens as one system
    message, cut with CUT_MARKER when the whole does not fit. Any script fits (digits, CJK,
    emoji): the cut is searched on characters with the counter itself, not estimated.

    Args:
        counter: the token counter the budget is counted with.
        budget: tokens the framed message may cost (per-message overhead included).
        body: the text that may be cut.
        frame: builds the full rendered text around a (possibly cut) body.

    Returns:
        The fitted text, or None when not even the frame around a bare marker fits.
    """
    full = frame(body)
    full_tokens = system_cost(counter, full)
    if full_tokens <= budget:
        return Fit(full, full_tokens, full_tokens, len(body), cut=False)

    def framed(n: int) -> str:
        return frame(body[:n].rstrip() + CUT_MARKER)

    lo, hi = -1, len(body) - 1  # lo: the longest prefix known to fit (-1: none yet)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if system_cost(counter, framed(mid)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    if lo < 0:
        return None
    text = framed(lo)
    return Fit(text, system_cost(counter, text), full_tokens, len(body[:lo].rstrip()), cut=True)


@cache
def default_counter() -> TokenCounter:
    """litellm's default encoding: what a backend built without the run's counter measures
    with (a run always gives each backend the agent's counter)."""
    return TokenCounter("default")


class FitCache:
    """Remembers fits of unchanged texts, so that rendering the same memory again (every
    model input, every probe) costs no counting."""

    def __init__(self, size: int = 32):
        self._fits: dict[tuple[str, int, str], Fit | None] = {}
        self._size = size

    def fit(self, counter: TokenCounter, budget: int, body: str,
            frame: Callable[[str], str]) -> Fit | None:
        """`fit_body(counter, budget, body, frame)`, cached by counter model, budget and text."""
        key = (counter.model, budget, frame(body))
        if key not in self._fits:
            if len(self._fits) >= self._size:
                self._fits.clear()
            self._fits[key] = fit_body(counter, budget, body, frame)
        return self._fits[key]
