"""Keep secrets (API keys, tokens) out of logs, events, run directories and the TUI.

Two strengths. `redact` (for error messages) masks the keys the run knows and anything shaped
like a provider key. `redact_known` (for everything a run writes, and for model output before
it enters an agent's context) masks only the exact values of the keys the run knows: environment
variables whose names say they hold a secret (OPENAI_API_KEY, HF_TOKEN, ..., also when loaded
from `.env`) and those a config names as `endpoints.*.api_key_env`, so research text is never
altered by a guess.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH(?!OR))",
                          re.IGNORECASE)
"""Names of variables holding secrets (not GIT_AUTHOR_NAME and the like)."""
_KEY_SHAPES = re.compile(
    r"\b(sk-[A-Za-z0-9_\-]{8,}|sk-ant-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|"
    r"hf_[A-Za-z0-9]{16,}|gsk_[A-Za-z0-9]{16,}|xai-[A-Za-z0-9]{16,})"
)
MASK = "***"
MIN_SECRET_CHARS = 8
"""Shorter values are not masked (they would mask ordinary words)."""
_declared: set[str] = set()


def treat_as_secret(name: str) -> None:
    """Mask the value of environment variable `name` too, whatever it is called (a config's
    `endpoints.*.api_key_env`)."""
    _declared.add(name)


_names: dict[Any, tuple[str, bool]] = {}
"""Environment keys as stored, decoded, and whether the name looks secret (read once: this
runs for every text a run writes, and decoding the whole environment each time was a
measurable share of a step's CPU)."""


def _environment() -> list[tuple[str, bool, Any]]:
    """(name, looks secret, stored value) of every environment variable."""
    stored = getattr(os.environ, "_data", None)
    if stored is None:  # not CPython's os._Environ: decode as usual
        return [(k, bool(_SECRET_NAME.search(k)), v) for k, v in os.environ.items()]
    out = []
    for key, value in stored.items():
        seen = _names.get(key)
        if seen is None:
            name = os.environ.decodekey(key)
            seen = _names[key] = (name, bool(_SECRET_NAME.search(name)))
        out.append((seen[0], seen[1], value))
    return out


_secrets_memo: tuple[dict[Any, Any], frozenset[str], list[str]] | None = None
"""The environment and declared names `secret_values` last read, and what it returned."""


def secret_values() -> list[str]:
    """Values of environment variables whose names look secret or were declared secret (8+
    characters long), longest first (a shared list: do not change it).

    Read again only when the environment or the declared names changed since the last call
    (comparing the stored environment with a copy is one pass in C over objects that are
    mostly identical; this runs for every text a run writes).
    """
    global _secrets_memo
    stored = getattr(os.environ, "_data", None)
    memo = _secrets_memo
    if stored is not None and memo is not None and memo[1] == _declared and memo[0] == stored:
        return memo[2]
    values = _read_secret_values()
    if stored is not None:
        _secrets_memo = (dict(stored), frozenset(_declared), values)
    return values


def _read_secret_values() -> list[str]:
    """`secret_values`, read from the environment now."""
    decode = getattr(os.environ, "decodevalue", None) if hasattr(os.environ, "_data") else None
    values = set()
    for name, secret, value in _environment():
        if secret or name in _declared:
            text = decode(value) if decode is not None else value
            if len(text) >= MIN_SECRET_CHARS:
                values.add(text)
    return sorted(values, key=len, reverse=True)


def _forms(value: str) -> list[str]:
    """The value as it appears in text, and as it appears inside a JSON string."""
    escaped = json.dumps(value)[1:-1]
    return [value] if escaped == value else [value, escaped]


def redact_known(text: str) -> str:
    """Replace the exact values of the keys the run knows (see `secret_values`) in `text`."""
    for value in secret_values():
        for form in _forms(value):
            if form in text:
                text = text.replace(form, MASK)
    return text


def redact(text: str) -> str:
    """Replace secret environment values and key-shaped strings in `text` with a mask."""
    return _KEY_SHAPES.sub(MASK, redact_known(text))


def redact_data(data: Any) -> Any:
    """`data` with `redact_known` applied to every string in its dicts, lists and tuples
    (other objects are kept as they are)."""
    if isinstance(data, str):
        return redact_known(data)
    if isinstance(data, dict):
        return {redact_data(k): redact_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [redact_data(x) for x in data]
    if type(data) is tuple:
        return tuple(redact_data(x) for x in data)
    return data


def holds_secret(data: bytes) -> bool:
    """Whether serialized `data` contains a known key (as UTF-8)."""
    return any(v.encode("utf-8") in data for v in secret_values())


class RedactingSerializer:
    """A checkpoint serializer (LangGraph's `dumps_typed`/`loads_typed`) that masks known keys
    before anything is written: when the serialized bytes hold one, the object is redacted
    (`redact_data`) and serialized again."""

    def __init__(self, inner: Any):
        self.inner = inner

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Serialize `obj`, without known keys."""
        kind, data = self.inner.dumps_typed(obj)
        if holds_secret(data):
            kind, data = self.inner.dumps_typed(redact_data(obj))
        return kind, data

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Deserialize as the wrapped serializer does."""
        return self.inner.loads_typed(data)

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.inner, name)


def is_secret_name(name: str) -> bool:
    """True for parameter or variable names that hold credentials."""
    return bool(_SECRET_NAME.search(name))
