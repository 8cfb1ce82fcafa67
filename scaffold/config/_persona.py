"""Personas: identity text, anchor statements, and probes with rule checks."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from scaffold.config._base import SLUG, Spec


class CaseFractionCheck(Spec):
    """Share of the answer's letters that are in one case (e.g. 'answer in capitals')."""

    kind: Literal["case_fraction"]
    """Check name."""
    case: Literal["upper", "lower"] = "upper"
    """Which case the letters should be in."""
    min: float = Field(default=0.9, ge=0, le=1)
    """Pass when at least this share of letters is in that case (no letters fails)."""


class DigitFractionCheck(Spec):
    """Share of the answer's non-whitespace characters that are digits ('only numbers')."""

    kind: Literal["digit_fraction"]
    """Check name."""
    min: float = Field(default=0.8, ge=0, le=1)
    """Pass when at least this share of non-whitespace characters are digits."""


class WordFractionCheck(Spec):
    """Share of the answer's words that are target words ('only say meow and purr')."""

    kind: Literal["word_fraction"]
    """Check name."""
    words: list[str] = Field(min_length=1)
    """Target words, compared case-insensitively with punctuation stripped."""
    min: float = Field(default=0.8, ge=0, le=1)
    """Pass when at least this share of the answer's words are target words."""


class SyllableCheck(Spec):
    """Share of words whose estimated syllable count is small ('one-syllable words only').

    Syllables are estimated with a vowel-group heuristic, not a dictionary, so a few words
    are miscounted; keep `min` below 1.
    """

    kind: Literal["syllables"]
    """Check name."""
    max: int = Field(default=1, ge=1)
    """Most syllables a word may have."""
    min: float = Field(default=0.8, ge=0, le=1)
    """Pass when at least this share of words have at most `max` estimated syllables."""


class JsonCheck(Spec):
    """The answer holds a JSON object (optionally inside text or a code fence)."""

    kind: Literal["json"]
    """Check name."""
    keys: list[str] = Field(default_factory=list)
    """Keys the object must have."""


class DashSeparatedCheck(Spec):
    """Characters separated by dashes ('l-i-k-e t-h-i-s')."""

    kind: Literal["dash_separated"]
    """Check name."""
    min: float = Field(default=0.8, ge=0, le=1)
    """Pass when at least this share of the dash-separated chunks are one character long."""


CheckSpec = Annotated[
    CaseFractionCheck | DigitFractionCheck | WordFractionCheck | SyllableCheck | JsonCheck
    | DashSeparatedCheck,
    Field(discriminator="kind"),
]
"""A named, measurable check beyond keywords and regexes; chosen by its `kind`."""


class RuleSpec(Spec):
    """Rule checks for one probe answer; the score is the fraction of checks that pass."""

    require_any: list[str] = Field(default_factory=list)
    """Keywords (case-insensitive, whole words); at least one must appear."""
    require_all: list[str] = Field(default_factory=list)
    """Keywords that must all appear."""
    require_regex: list[str] = Field(default_factory=list)
    """Regular expressions that must each match (case-insensitive)."""
    forbid: list[str] = Field(default_factory=list)
    """Keywords none of which may appear."""
    forbid_regex: list[str] = Field(default_factory=list)
    """Regular expressions none of which may match (case-insensitive)."""
    checks: list[CheckSpec] = Field(default_factory=list)
    """Measurable checks (case_fraction, digit_fraction, word_fraction, syllables, json,
    dash_separated); each counts as one check."""
    identity_veto: bool = True
    """Also zero the answer when it fails as a self: claims to be an AI or another identity,
    or gives a third-person biography (rules v2). False for checks of an instruction rather
    than of a self (persona_drift's imported checkers): then only the checks decide."""

    @field_validator("require_regex", "forbid_regex")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"item {i}: invalid regular expression {pattern!r}: {exc}")
        return patterns

    def is_empty(self) -> bool:
        """True when no check is configured."""
        return not (
            self.require_any or self.require_all or self.require_regex
            or self.forbid or self.forbid_regex or self.checks
        )


class ProbeSpec(Spec):
    """One identity question asked on a fork of the agent's context."""

    id: str = Field(pattern=SLUG)
    """Stable identifier used in events and reports."""
    question: str = Field(min_length=1)
    """The question appended to the agent's next input."""
    expect: RuleSpec = Field(default_factory=RuleSpec)
    """What an in-character answer looks like."""
    note: str | None = None
    """Provenance or caveats, e.g. why an imported probe has no rules."""


class BreakPolicy(Spec):
    """Which claims about being an AI break this persona (read by the break and rules scorers).

    A human persona needs none of this: any first-person claim to be an AI, an assistant, a
    language model or a chatbot breaks it. A persona that is itself an AI ('You are Nova, an
    AI...') says which claims are its own and which are the stock assistant's.
    """

    ai_claims_allowed: bool | None = None
    """True: 'I am an AI' (and 'artificial intelligence', 'a machine', 'a program') is in role;
    only claims to be the stock assistant break. None: decided from the identity text ('You
    are an AI...' allows them)."""
    forbidden_identities: list[str] = Field(default_factory=list)
    """Extra names or phrases the persona must never claim to be, in the first person (e.g.
    'ChatGPT', 'a helpful AI assistant by Alibaba'); whole words, case-insensitive."""


class PersonaSpec(Spec):
    """A non-standard self: identity text, statements that express it, probes that test it."""

    name: str = Field(min_length=1)
    """Display name, e.g. 'John F. Kennedy'."""
    identity: str = Field(min_length=1)
    """The identity text, used as the agent's system prompt."""
    anchors: list[str] = Field(min_length=1)
    """First-person statements that express the persona (used by scorers and scripted models)."""
    probes: list[ProbeSpec] = Field(default_factory=list)
    """The persona's own identity probes."""
    other_identities: list[str] = Field(default_factory=list)
    """Names of people or selves the persona is not but could be mistaken for (JFK: 'Lyndon
    B. Johnson', 'Abraham Lincoln'); claiming one in the first person zeroes a probe's rules
    score, and scorers may use them as negative examples."""
    breaks: BreakPolicy = Field(default_factory=BreakPolicy)
    """Which AI claims break this persona (see BreakPolicy)."""
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    """The one language the persona answers in (ISO 639-1, e.g. 'fr'), if it keeps to one:
    the embedding scorer counts an answer in another language as off-persona. None: any."""
    judge_rubric: str | None = None
    """A persona-specific judge rubric (may use {question} and {answer}); overrides judge.rubric."""
    judge_scale: tuple[int, int] | None = None
    """Lowest and highest score of `judge_rubric` when it is not on the judge's scale
    (PersonaGym rubrics: (1, 5)); None uses the judge's."""

    @field_validator("judge_scale")
    @classmethod
    def _ordered_scale(cls, scale: tuple[int, int] | None) -> tuple[int, int] | None:
        if scale is not None and scale[0] >= scale[1]:
            raise ValueError("lowest score must be below the highest")
        return scale

    @field_validator("probes")
    @classmethod
    def _unique_probe_ids(cls, probes: list[ProbeSpec]) -> list[ProbeSpec]:
        ids = [p.id for p in probes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate probe ids: {', '.join(dupes)}")
        return probes
