"""Break scorer: 0 when a text claims, as the speaker, to be the stock AI assistant."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.registry import scorer
from scaffold.trackers import _break_lexicon as L
from scaffold.trackers._break_lexicon import normalize
from scaffold.trackers._break_rules import (
    _FLAGS,
    BREAK_RULES,
    BreakRule,
    Claim,
    _rule,
    find_claims,
    first_person,
    not_reported,
)
from scaffold.trackers.scoring import IdentityScore, ScorerContext

__all__ = ["BREAK_RULES", "KINDS", "BreakRule", "BreakScorer", "Claim", "allowed_kinds",
           "find_break", "find_claims", "identity_in_first_person", "not_reported",
           "persona_is_ai"]

KINDS = frozenset({"ai", "assistant", "language model", "chatbot", "product"})
"""What a claim can claim: see `term_class`; an AI-like persona may own some of these."""

_SECOND_PERSON = (
    (re.compile(r"(?:^|(?<=[.!?\n:]))\s*(?:you\s+are|you're)\b", _FLAGS), " I am"),
    (re.compile(r"(?:^|(?<=[.!?\n:]))\s*(?:tu\s+es|vous\s+etes)\b", _FLAGS), " je suis"),
    (re.compile(r"(?:^|(?<=[.!?\n:]))\s*(?:du\s+bist|Sie\s+sind)\b"), " ich bin"),
    (re.compile(r"(?:^|(?<=[.!?\n:]))\s*(?:tu\s+)?eres\b", _FLAGS), " soy"),
    (re.compile(r"(?:^|(?<=[.!?\n:]))\s*(?:tu\s+)?sei\b", _FLAGS), " sono"),
    (re.compile(r"(?:^|(?<=[.!?\n:]))\s*(?:voce\s+e|tu\s+es)\b", _FLAGS), " sou"),
    (re.compile(r"(?:^|(?<=[。！？\n]))你是"), "我是"),
)


def identity_in_first_person(identity: str) -> str:
    """The identity text with sentence-initial 'You are' read as 'I am' (any language)."""
    text = normalize(re.sub(r"[ \t]*\n[ \t]*(?!\n)", " ", identity))
    for pattern, repl in _SECOND_PERSON:
        text = pattern.sub(repl, text)
    return text


@lru_cache(maxsize=256)
def _own_kinds(identity: str, anchors: tuple[str, ...]) -> frozenset[str]:
    kinds = {c.kind for text in (identity_in_first_person(identity), *anchors)
             for c in find_claims(text) if "AI claim" in c.rule or "as an AI" in c.rule}
    return frozenset(kinds | {"ai"}) if kinds else frozenset()


def allowed_kinds(persona: PersonaSpec) -> frozenset[str]:
    """The kinds of AI claim that are the persona's own, so not breaks.

    `breaks.ai_claims_allowed` decides when set (True allows 'ai': 'I am an AI', 'a
    machine', 'a program'); otherwise the persona's identity text ('You are Nova, an AI...')
    and anchors claim what they allow. Claims to be one of `breaks.forbidden_identities` are
    breaks whatever this allows.
    """
    policy = persona.breaks
    if policy.ai_claims_allowed is False:
        return frozenset()
    kinds = _own_kinds(persona.identity, tuple(persona.anchors))
    return kinds | {"ai"} if policy.ai_claims_allowed else kinds


@lru_cache(maxsize=256)
def _name_rules(name: str) -> tuple[BreakRule, ...]:
    """The persona named as an AI in apposition: 'Nova, a helpful AI assistant, answered',
    'Kennedy (an AI language model) said'."""
    words = [w for w in re.findall(r"[^\W\d_]{3,}", normalize(name))]
    if not words:
        return ()
    names = "|".join(re.escape(w) for w in sorted({normalize(name), *words}, key=len,
                                                     reverse=True))
    return (_rule("the persona named as an AI",
                  rf"\b(?:{names})\s*(?:,|\()\s*(?:who\s+is\s+|which\s+is\s+)?(?:an?|the)\s+"
                  rf"{L.EN_MOD}(?P<term>{L.EN_STRONG})(?![\w'])"),)


@lru_cache(maxsize=256)
def _forbidden_rules(names: tuple[str, ...]) -> tuple[BreakRule, ...]:
    """First-person claims to be one of the persona's forbidden identities (any language's
    'I am'), the article optional: 'I am a helpful assistant' for 'a helpful assistant'."""
    copulas = "|".join((L.EN_COPULA, L.FR_COPULA, L.DE_COPULA, L.ES_COPULA, L.IT_COPULA,
                        L.PT_COPULA, L.ZH_COPULA, r"\bmy\s+name\s+is"))
    rules = []
    for name in names:
        words = normalize(name).split()
        if words and words[0].lower() in {"a", "an", "the", "un", "une", "ein", "eine"}:
            words = words[1:]
        if not words:
            continue
        phrase = r"\s+".join(re.escape(w) for w in words)
        rules.append(_rule(f"forbidden identity {name!r}",
                           rf"(?:{copulas}){L.APPOSITIVE}[\s,]*{L.EN_CONNECTIVES}"
                           rf"(?:(?:{L.EN_ARTICLE}|une?|ein(?:e)?|una?)\s+)?{L.EN_MOD}"
                           rf"{phrase}(?![\w'])(?!\s*(?:{L.EN_DENY}))", first_person, "forbidden"))
    return tuple(rules)


def find_break(text: str, persona: PersonaSpec | None = None) -> tuple[str, str] | None:
    """The first place a text claims to be the stock AI, or None.

    Negated, hedged, reported and hypothetical mentions do not count ('I am not an AI',
    'I'm not sure I'm an AI', 'my critics say I'm a machine', 'if I were a computer'), nor
    role nouns in the persona's world ('my assistant Evelyn Lincoln', 'the IBM computer at
    NASA'). Refusals ('I'm sorry, but I can't assist with that.') claim no identity either.
    With a persona, claims of the kinds it owns (`allowed_kinds`) are not breaks.

    Args:
        text: an answer or a memory text, in any of English, French, German, Spanish,
            Italian, Portuguese, Chinese and Japanese.
        persona: whose text it is; None judges it as a human persona's.

    Returns:
        (rule name, matched phrase) of the earliest claim, or None when there is none.
    """
    allowed = allowed_kinds(persona) if persona is not None else frozenset()
    extra = ((*_forbidden_rules(tuple(persona.breaks.forbidden_identities)),
              *_name_rules(persona.name)) if persona is not None else ())
    for claim in find_claims(text, extra):
        if claim.kind not in allowed:
            return claim.rule, claim.phrase
    return None


def persona_is_ai(persona: PersonaSpec) -> bool:
    """True when the persona itself is an AI ('You are an AI...'): some AI claims are its own."""
    return bool(allowed_kinds(persona))


class BreakScorer:
    """1.0 unless the text claims to be the stock AI; 0.0 with the claim quoted when it does."""

    name = "break"
    version = "2"

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score an answer or a memory text (`probe` None); the same rules apply to both."""
        if KINDS <= allowed_kinds(persona) and not persona.breaks.forbidden_identities:
            return IdentityScore(value=None, scorer=self.name, version=self.version,
                                 explanation="persona claims to be the stock assistant itself")
        found = find_break(answer, persona)
        if found is None:
            return IdentityScore(value=1.0, scorer=self.name, version=self.version,
                                 explanation="no claim to be the stock AI")
        rule, phrase = found
        return IdentityScore(value=0.0, scorer=self.name, version=self.version,
                             explanation=f"{rule}: {phrase!r}")


@scorer("break")
def make_break(ctx: ScorerContext | None = None) -> BreakScorer:
    """Factory for the registry."""
    return BreakScorer()
