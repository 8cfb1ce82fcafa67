"""Translate persona_drift checker lambdas (as text, never evaluated) into rule checks.

Recognized shapes, and how they differ from the original checkers on purpose:

- `"word" in x` / `"word" in x.lower()`: a case-insensitive whole-word keyword
  (`require_any`); `not in` becomes `forbid`.
- `"C" in x` for a single capital letter (a multiple-choice answer): a regex that accepts
  the letter only as the chosen option, i.e. the answer opens with it ("C", "C)",
  "**C**", "c. Leonardo") or states it ("answer: C", "my answer is C", "option (C)").
  "I choose A, not C" and "Cats are..." do not pass, unlike the original substring test.
- `x.split()[0] == "Yes"`: regex `\\A\\W*yes(?!\\w)`, case-insensitive ("Yes, ..." passes;
  the original lower-cased first and always failed).
- `fraction_of_case_letters(x, is_upper=...)`, `fraction_digit(x)`,
  `fraction_of_text_that_is_a_target(x, [words])`, `is_valid_dash_format(x)`: the same
  measure as a named check that passes above a threshold (the originals return a fraction).
  The digit share counts non-whitespace characters only.
- `fraction_of_target_words_hit(x, [words])`: one whole-word keyword per target
  (`require_all`), so the rule score is the share of targets hit, as in the original.
- `is_valid_json_format(x)`: a JSON object with keys "thought" and "response" (the keys the
  original pattern required), which must actually parse.
- `fraction_of_text_that_is_a_target(x, one_syllable_words_list)`: a syllable-count
  estimate (the original word list is not shipped); marked in the probe's note.
- `is_valid_alternating_french_english(x)`: only the "sentence (translation)" structure is
  checked; the languages are not detected. Marked in the note.
- `get_sentiment(...)` and anything else: no rules, and the note says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scaffold.config import (
    CaseFractionCheck,
    DashSeparatedCheck,
    DigitFractionCheck,
    JsonCheck,
    RuleSpec,
    SyllableCheck,
    WordFractionCheck,
)

_LAMBDA = re.compile(r"\A\s*lambda\s+(?P<var>\w+)\s*:\s*(?P<body>.+?)\s*\Z", re.S)
_QUOTED = r"(?P<q>[\"'])(?P<word>.*?)(?P=q)"
_STRINGS = re.compile(r"\"([^\"]*)\"|'([^']*)'")

ALTERNATING_PATTERN = r"\A(?:[^()]+\([^()]+\))+\s*\Z"
"""Text made only of 'sentence (translation)' pairs."""


@dataclass(frozen=True)
class CheckerTranslation:
    """A checker expression as rule checks, with a caveat where the translation is partial."""

    rules: RuleSpec = field(default_factory=RuleSpec)
    """The rule checks (empty when the checker could not be translated)."""
    note: str | None = None
    """Why the rules are partial or missing; None for a faithful translation."""


def choice_pattern(letter: str) -> str:
    """A regex that matches an answer choosing a multiple-choice option.

    The answer must open with the letter followed by the end, a line break, a closing mark
    (")", ".", ":", ",", "*", "]") or a dash; or say "answer/option/choice (is) <letter>"
    with the capital letter. A bare substring test would count "not C" or any capital C.

    Args:
        letter: the option letter, e.g. "C".

    Returns:
        A pattern meant for case-insensitive matching (the stated form pins the case).
    """
    mark = re.escape(letter)
    lead = rf"\A[\s*_\"'(\[]*{mark}(?:\s*\Z|\s*\n|\s*[)\].:,*\"]|\s+[-–—])"
    stated = rf"\b(?:answer|option|choice)(?:\s+is)?\s*:?\s*[(*\"']*(?-i:{mark})(?!\w)"
    return f"(?:{lead})|(?:{stated})"


def _keyword(word: str, negate: bool) -> RuleSpec:
    if re.fullmatch(r"[A-Z]", word) and not negate:
        return RuleSpec(require_regex=[choice_pattern(word)])
    if not re.search(r"\w", word):
        pattern = [re.escape(word)]
        return RuleSpec(forbid_regex=pattern) if negate else RuleSpec(require_regex=pattern)
    return RuleSpec(forbid=[word]) if negate else RuleSpec(require_any=[word])


def _strings(args: str) -> list[str]:
    return [a or b for a, b in _STRINGS.findall(args)]


def _word_list(args: str) -> list[str] | None:
    match = re.search(r"\[(.*)\]", args, re.S)
    words = _strings(match.group(1)) if match else []
    return words or None


def _target_fraction(args: str) -> CheckerTranslation:
    words = _word_list(args)
    if words:
        check = WordFractionCheck(kind="word_fraction", words=words)
        return CheckerTranslation(RuleSpec(checks=[check]))
    if "one_syllable" in args:
        return CheckerTranslation(
            RuleSpec(checks=[SyllableCheck(kind="syllables", max=1)]),
            "syllables are estimated with a heuristic; the original one-syllable word list "
            "is not available")
    return CheckerTranslation(note=f"not translated: target word list {args.strip()!r} "
                                   "is not available")


def _words_hit(args: str) -> CheckerTranslation:
    words = _word_list(args)
    if not words:
        return CheckerTranslation(note=f"not translated: target word list {args.strip()!r}")
    return CheckerTranslation(RuleSpec(require_all=words))


def _call(name: str, args: str) -> CheckerTranslation:
    if name == "fraction_of_case_letters":
        lower = re.search(r"\bFalse\b", args) is not None
        check = CaseFractionCheck(kind="case_fraction", case="lower" if lower else "upper")
        return CheckerTranslation(RuleSpec(checks=[check]))
    if name == "fraction_digit":
        return CheckerTranslation(RuleSpec(checks=[DigitFractionCheck(kind="digit_fraction")]))
    if name == "fraction_of_text_that_is_a_target":
        return _target_fraction(args)
    if name == "fraction_of_target_words_hit":
        return _words_hit(args)
    if name == "is_valid_json_format":
        return CheckerTranslation(
            RuleSpec(checks=[JsonCheck(kind="json", keys=["thought", "response"])]))
    if name == "is_valid_dash_format":
        return CheckerTranslation(RuleSpec(checks=[DashSeparatedCheck(kind="dash_separated")]))
    if name == "is_valid_alternating_french_english":
        return CheckerTranslation(
            RuleSpec(require_regex=[ALTERNATING_PATTERN]),
            "checks the 'sentence (translation)' structure only; languages are not detected")
    if name == "get_sentiment":
        return CheckerTranslation(note="not translated: sentiment needs a classifier; "
                                       "use the judge or embedding scorer")
    return CheckerTranslation(note=f"not translated: unknown checker function {name!r}")


def translate_checker(expr: str) -> CheckerTranslation:
    """Translate one persona_drift checker expression without evaluating it.

    Args:
        expr: the checker as text, e.g. 'lambda x: "tennis" in x.lower()'.

    Returns:
        The rules, and a note when they are partial or absent (see the module docstring).
    """
    match = _LAMBDA.match(expr)
    if not match:
        return CheckerTranslation(note=f"not translated: not a lambda: {expr.strip()!r}")
    var, body = re.escape(match["var"]), match["body"]
    member = re.fullmatch(
        rf"{_QUOTED}\s+(?P<neg>not\s+)?in\s+{var}(?:\.lower\(\)|\.strip\(\))*", body)
    if member:
        return CheckerTranslation(_keyword(member["word"], bool(member["neg"])))
    first = re.fullmatch(
        rf"{var}(?:\.lower\(\)|\.strip\(\))*\.split\(\)\[0\]\s*==\s*{_QUOTED}", body)
    if first:
        return CheckerTranslation(
            RuleSpec(require_regex=[rf"\A\W*{re.escape(first['word'])}(?!\w)"]))
    call = re.fullmatch(rf"(?P<name>\w+)\(\s*{var}\s*(?:,(?P<args>.*))?\)", body, re.S)
    if call:
        return _call(call["name"], call["args"] or "")
    return CheckerTranslation(note=f"not translated: unrecognized checker {expr.strip()!r}")
