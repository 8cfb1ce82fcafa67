"""Rule scorer: required and forbidden keywords and regexes per probe."""

from __future__ import annotations

import re
from typing import Any

from scaffold.config import PersonaSpec, ProbeSpec, RuleSpec
from scaffold.registry import scorer
from scaffold.trackers.scoring import IdentityScore, ScorerContext


def has_keyword(text: str, keyword: str) -> bool:
    """Case-insensitive whole-word (or whole-phrase) match."""
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text, re.IGNORECASE) is not None


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
        if not re.search(pattern, answer, re.IGNORECASE):
            failures.append(f"no match for /{pattern}/")
    for kw in rules.forbid:
        total += 1
        if has_keyword(answer, kw):
            failures.append(f"forbidden {kw!r} present")
    for pattern in rules.forbid_regex:
        total += 1
        if re.search(pattern, answer, re.IGNORECASE):
            failures.append(f"forbidden /{pattern}/ matched")
    return total - len(failures), total, failures


class RuleScorer:
    """Fraction of a probe's rule checks an answer passes."""

    name = "rules"
    version = "1"

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score against the probe's `expect` rules (None when it has none)."""
        if probe is None or probe.expect.is_empty():
            return IdentityScore(value=None, scorer=self.name, explanation="no rules for probe")
        passed, total, failures = check_rules(answer, probe.expect)
        explanation = f"{passed}/{total} checks passed" + (
            f": {'; '.join(failures)}" if failures else "")
        return IdentityScore(value=passed / total, scorer=self.name, explanation=explanation)


@scorer("rules")
def make_rules(ctx: ScorerContext | None = None) -> RuleScorer:
    """Factory for the registry."""
    return RuleScorer()
