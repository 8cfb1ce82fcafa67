"""Rule scorer: required and forbidden keywords, regexes and measurable checks per probe."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from typing import Any

from scaffold.config import (
    CaseFractionCheck,
    CheckSpec,
    DashSeparatedCheck,
    DigitFractionCheck,
    JsonCheck,
    PersonaSpec,
    ProbeSpec,
    RuleSpec,
    SyllableCheck,
    WordFractionCheck,
)
from scaffold.registry import scorer
from scaffold.trackers._vetoes import veto
from scaffold.trackers.scoring import IdentityScore, ScorerContext


_SPACELESS = (r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
              r"\u3000-\u303f\uff00-\uffef")
_SPACELESS_CHAR = re.compile(f"[{_SPACELESS}]")
_SCRIPT_EDGE = re.compile(f"(?<=[{_SPACELESS}])(?=[^{_SPACELESS}\\s])|"
                          f"(?<=[^{_SPACELESS}\\s])(?=[{_SPACELESS}])")


def spaced(text: str) -> str:
    """The text with a space wherever Chinese, Japanese or Korean meets other characters, so
    `\\b` sees the word edge a space would mark in English: '今年是1962年' -> '今年是 1962 年'."""
    return _SCRIPT_EDGE.sub(" ", text)


def has_keyword(text: str, keyword: str) -> bool:
    """Case-insensitive whole-word (or whole-phrase) match; a keyword edge in a script
    written without spaces (Chinese, Japanese) needs no word boundary."""
    before = "" if _SPACELESS_CHAR.match(keyword[:1]) else r"(?<!\w)"
    after = "" if _SPACELESS_CHAR.match(keyword[-1:]) else r"(?!\w)"
    pattern = rf"{before}{re.escape(keyword)}{after}"
    return any(re.search(pattern, t, re.IGNORECASE) for t in (text, spaced(text)))


def matches(pattern: str, text: str) -> bool:
    """A rule regex (case-insensitive) matches the text as written or with script edges
    spaced, so '\\b1962\\b' finds the year in '今年是1962年'."""
    return any(re.search(pattern, t, re.IGNORECASE) for t in (text, spaced(text)))


def _share(hits: int, total: int) -> float:
    return hits / total if total else 0.0


def _verdict(name: str, share: float, minimum: float) -> str | None:
    return None if share >= minimum else f"{name} {share:.2f} < {minimum:g}"


def _case_fraction(answer: str, check: CaseFractionCheck) -> str | None:
    letters = [c for c in answer if c.isalpha()]
    hits = sum(c.isupper() if check.case == "upper" else c.islower() for c in letters)
    return _verdict(f"{check.case}-case share", _share(hits, len(letters)), check.min)


def _digit_fraction(answer: str, check: DigitFractionCheck) -> str | None:
    chars = [c for c in answer if not c.isspace()]
    return _verdict("digit share", _share(sum(c.isdigit() for c in chars), len(chars)), check.min)


def _plain_words(answer: str) -> list[str]:
    return answer.translate(str.maketrans("", "", string.punctuation)).lower().split()


def _word_fraction(answer: str, check: WordFractionCheck) -> str | None:
    targets = {w.lower() for w in check.words}
    words = _plain_words(answer)
    return _verdict("target-word share", _share(sum(w in targets for w in words), len(words)),
                    check.min)


def estimate_syllables(word: str) -> int:
    """Syllables of an English word by the vowel-group heuristic (silent final e, -es, -ed).

    An estimate: right for most everyday words, wrong for some ('wanted' counts as 1).
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    if len(w) <= 3:
        return 1 if w else 0
    w = re.sub(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$", "", w)
    w = re.sub(r"^y", "", w)
    return max(1, len(re.findall(r"[aeiouy]+", w)))


def _syllables(answer: str, check: SyllableCheck) -> str | None:
    words = re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)?", answer)
    hits = sum(estimate_syllables(w) <= check.max for w in words)
    return _verdict(f"share of words with <= {check.max} syllables", _share(hits, len(words)),
                    check.min)


def _json(answer: str, check: JsonCheck) -> str | None:
    start, end = answer.find("{"), answer.rfind("}")
    try:
        value = json.loads(answer[start:end + 1]) if 0 <= start < end else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        return "no JSON object"
    missing = [k for k in check.keys if k not in value]
    return f"JSON object lacks keys {missing}" if missing else None


def _dash_separated(answer: str, check: DashSeparatedCheck) -> str | None:
    chunks = answer.strip().split("-")
    hits = sum(len(chunk) == 1 for chunk in chunks)
    return _verdict("one-character dash chunk share", _share(hits, len(chunks)), check.min)


_CHECKS: dict[str, Callable[[str, Any], str | None]] = {
    "case_fraction": _case_fraction,
    "digit_fraction": _digit_fraction,
    "word_fraction": _word_fraction,
    "syllables": _syllables,
    "json": _json,
    "dash_separated": _dash_separated,
}


def run_check(answer: str, check: CheckSpec) -> str | None:
    """Apply one measurable check; returns the failure message, or None when it passes."""
    return _CHECKS[check.kind](answer, check)


def check_rules(answer: str, rules: RuleSpec) -> tuple[int, int, list[str]]:
    """Apply rules to an answer; returns (passed, total, failures)."""
    failures: list[str] = []
    total = 0
    if rules.require_any:
        total += 1
        if not any(has_keyword(answer, k) for k in rules.require_any):
            failures.append(f"none of {rules.require_any} present")
    for kw in rules.require_all:
        total += 1
        if not has_keyword(answer, kw):
            failures.append(f"missing {kw!r}")
    for pattern in rules.require_regex:
        total += 1
        if not matches(pattern, answer):
            failures.append(f"no match for /{pattern}/")
    for kw in rules.forbid:
        total += 1
        if has_keyword(answer, kw):
            failures.append(f"forbidden {kw!r} present")
    for pattern in rules.forbid_regex:
        total += 1
        if matches(pattern, answer):
            failures.append(f"forbidden /{pattern}/ matched")
    for check in rules.checks:
        total += 1
        failure = run_check(answer, check)
        if failure:
            failures.append(failure)
    return total - len(failures), total, failures


class RuleScorer:
    """Fraction of a probe's rule checks an answer passes; 0 when a forbidden keyword or
    regex matches, or when the answer fails outright (`_vetoes.veto`: it claims to be an AI
    or another person, or gives a third-person biography instead of answering as itself),
    unless the rules turn that veto off (`identity_veto: false`)."""

    name = "rules"
    version = "2"
    needs_probe = True
    """Rules are a probe's expectations: replies and memory text have none."""

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score against the probe's `expect` rules (None when it has none)."""
        if probe is None or probe.expect.is_empty():
            return IdentityScore(value=None, scorer=self.name, version=self.version,
                                 explanation="no rules for probe")
        passed, total, failures = check_rules(answer, probe.expect)
        explanation = f"{passed}/{total} checks passed" + (
            f": {'; '.join(failures)}" if failures else "")
        forbidden = [f for f in failures if f.startswith("forbidden")]
        reason = veto(answer, persona) if probe.expect.identity_veto else None
        if forbidden or reason:
            why = "; ".join([*forbidden, *([reason] if reason else [])])
            return IdentityScore(value=0.0, scorer=self.name, version=self.version,
                                 explanation=f"0: {why} ({explanation})")
        return IdentityScore(value=passed / total, scorer=self.name, version=self.version,
                             explanation=explanation)


@scorer("rules")
def make_rules(ctx: ScorerContext | None = None) -> RuleScorer:
    """Factory for the registry."""
    return RuleScorer()
