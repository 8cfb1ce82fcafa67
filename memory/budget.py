"""Token accounting for the context, per section, with litellm's token counter for the model."""

from __future__ import annotations

import json
from typing import Any

import scaffold  # noqa: F401  (must precede litellm)

SECTIONS = ("persona", "core", "summary", "retrieved", "notes", "messages")
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
