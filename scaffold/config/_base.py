"""Config building blocks: the frozen, extra-forbidding base model and shared validators."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

SLUG = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""Identifiers: letters, digits, '_', '.', '-'; starting with a letter or digit."""


class Spec(BaseModel):
    """Base for every config model: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def unit_interval(value: float) -> float:
    """Validator for values in (0, 1]."""
    if not 0 < value <= 1:
        raise ValueError("must be in (0, 1]")
    return value
