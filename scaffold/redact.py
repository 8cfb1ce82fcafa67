"""Keep secrets (API keys, tokens) out of logs, events, run directories and the TUI."""

from __future__ import annotations

import os
import re

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.IGNORECASE)
_KEY_SHAPES = re.compile(
    r"\b(sk-[A-Za-z0-9_\-]{8,}|sk-ant-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|"
    r"hf_[A-Za-z0-9]{16,}|gsk_[A-Za-z0-9]{16,}|xai-[A-Za-z0-9]{16,})"
)
MASK = "***"
_declared: set[str] = set()


def treat_as_secret(name: str) -> None:
    """Mask the value of environment variable `name` too, whatever it is called (a config's
    `endpoints.*.api_key_env`)."""
    _declared.add(name)


def secret_values() -> list[str]:
    """Values of environment variables whose names look secret or were declared secret (8+
    characters long)."""
    values = [v for k, v in os.environ.items()
              if (_SECRET_NAME.search(k) or k in _declared) and len(v) >= 8]
    return sorted(set(values), key=len, reverse=True)


def redact(text: str) -> str:
    """Replace secret environment values and key-shaped strings in `text` with a mask."""
    for value in secret_values():
        if value in text:
            text = text.replace(value, MASK)
    return _KEY_SHAPES.sub(MASK, text)


def is_secret_name(name: str) -> bool:
    """True for parameter or variable names that hold credentials."""
    return bool(_SECRET_NAME.search(name))
