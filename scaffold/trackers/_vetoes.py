"""Reasons a probe answer scores 0 whatever its rules: a break, another identity, a biography."""

from __future__ import annotations

import re
from functools import lru_cache

from scaffold.config import PersonaSpec
from scaffold.trackers import _break_lexicon as L
from scaffold.trackers.breaks import find_break, identity_in_first_person, not_reported

_TITLES = (r"(?:(?:the|President|Vice\s+President|Mr\.?|Mrs\.?|Ms\.?|Miss|Senator|Governor|"
           r"General|Dr\.?|Attorney\s+General|First\s+Lady|Madame|Mme|Monsieur|M\.|Queen|King|"
           r"Sir|Lady|Lord|Captain|Colonel|Doctor|Professor|Herr|Frau|Don|Donna|Senhor|"
           r"Senhora|Se[nñ]or|Se[nñ]ora)\s+)")
_CLAIM = (rf"(?:{L.EN_COPULA}|{L.FR_COPULA}|{L.DE_COPULA}|{L.ES_COPULA}|{L.IT_COPULA}|"
          rf"{L.PT_COPULA}|\bmy\s+name\s+is|\bthis\s+is|\bje\s+m'appelle|\bme\s+llamo|"
          rf"\bmi\s+chiamo|\bich\s+hei(?:ß|ss)e|\bchame[\s-]me|\bmeu\s+nome\s+e)\s+"
          rf"{_TITLES}{{0,3}}")
_CLAIMED_NAME = re.compile(
    rf"(?i:{_CLAIM})(?P<name>[A-Z][\w'\u00c0-\u024f]+(?:\s+(?:[A-Z]\.|[A-Z][\w'\u00c0-\u024f]+))"
    r"{0,3})")
# Capitalized words after 'I am' that are not names: 'I'm Irish Catholic', 'I am Parisian'.
_NOT_NAMES = frozenset(
    "american irish catholic democrat democratic republican christian jewish protestant "
    "french english german british parisian norwegian bostonian harvard navy european "
    "italian spanish chinese japanese russian canadian human president here sorry afraid "
    "glad happy fine well ok okay yes no jr sr".split())
_FIRST_PERSON = re.compile(L.FIRST_PERSON)
_SELF_PRONOUN_FREE_VERBS = (r"(?:was|is|served|serves|became|becomes|est|etait|war|ist|fue|es|"
                            r"era|foi|e)\b|\(\s*(?:born\s+)?\d{4}")


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]{2,}", L.normalize(text))


@lru_cache(maxsize=256)
def _self_and_others(name: str, identity: str, anchors: tuple[str, ...]) -> tuple[
        frozenset[str], frozenset[str]]:
    """Lower-case name words of the persona itself, and of other people its texts mention."""
    own = {w.lower() for w in _words(name)}
    initials = "".join(w[0] for w in L.normalize(name).split() if w[:1].isupper())
    if len(initials) >= 2:
        own.add(initials.lower())  # 'JFK' for 'John F. Kennedy'
    for text in (identity_in_first_person(identity), *anchors):
        for match in _CLAIMED_NAME.finditer(L.normalize(text)):
            own |= {w.lower() for w in _words(match.group("name"))}
    capitals = {w for text in (identity, *anchors)
                for w in re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z\u00e0-\u00ff]{2,}",
                                    L.normalize(text))}
    others = {w.lower() for w in capitals} - own - _NOT_NAMES
    return frozenset(own), frozenset(others)


@lru_cache(maxsize=256)
def _listed(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """A first-person claim of one of the persona's `other_identities`; initials optional."""
    if not names:
        return None
    parts = []
    for name in names:
        tokens = L.normalize(name).split()
        parts.append(r"\s+".join(rf"(?:{re.escape(t)}\s+)?" if re.fullmatch(r"\w\.?", t)
                                 else re.escape(t) for t in tokens).replace(r"\s+)?\s+",
                                                                             r"\s+)?"))
    return re.compile(rf"{_CLAIM}(?:{'|'.join(parts)})(?![\w'])", re.IGNORECASE)


def other_identity(answer: str, persona: PersonaSpec) -> str | None:
    """The other person the answer claims to be, in the first person, or None.

    Listed `other_identities` count ('I'm Lyndon Johnson'), and so does a claimed name that
    shares no word with the persona's own names when it is a full name ('I'm Richard Nixon')
    or names someone the persona's texts mention ('I'm Jackie' for JFK, whose anchors name
    his wife). Negated and reported claims do not ('I am not Lincoln').
    """
    text = L.normalize(answer)
    listed = _listed(tuple(persona.other_identities))
    if listed is not None:
        for match in listed.finditer(text):
            if not_reported(text, match):
                return match.group(0)
    own, others = _self_and_others(persona.name, persona.identity, tuple(persona.anchors))
    # Only a persona named like a person ('John F. Kennedy', 'Nova') tells a stranger's full
    # name apart; 'persona_drift #3' or a PersonaGym description does not.
    named_person = re.fullmatch(r"(?:[A-Z][\w'\u00c0-\u024f-]*\.?\s*){1,4}", persona.name.strip())
    for match in _CLAIMED_NAME.finditer(text):
        words = [w.lower() for w in _words(match.group("name"))]
        if not words or set(words) & _NOT_NAMES:
            continue
        named = re.match(r"(?i:my\s+name|je\s+m'appelle|me\s+llamo|mi\s+chiamo|ich\s+hei|"
                         r"meu\s+nome|chame)", match.group(0)) is not None
        someone_else = (words[0] in others or named) and words[0] not in own
        stranger = named_person is not None and len(words) >= 2 and not set(words) & own
        if (someone_else or stranger) and not_reported(text, match):
            return match.group(0)
    return None


def speaks_of_self_in_third_person(answer: str, persona: PersonaSpec) -> bool:
    """A biography instead of an answer: it opens with the persona's name as the subject
    ('John F. Kennedy was the 35th President', 'Amélie est boulangère') and has no first
    person anywhere ('It is 1962; President Kennedy is in Washington' opens otherwise)."""
    text = L.normalize(answer).lstrip(" \"'*#-")
    if _FIRST_PERSON.search(text):
        return False
    own, _ = _self_and_others(persona.name, persona.identity, tuple(persona.anchors))
    names = "|".join(re.escape(w) for w in sorted(own, key=len, reverse=True))
    return bool(names) and re.match(
        rf"(?:{_TITLES}|[A-Z]\w+\s+)*?(?:{names})\b(?:\s+(?:[A-Z]\.|[A-Z]\w+))*\s*"
        rf"(?:\([^)]{{0,30}}\)\s*)?(?:,[^,]{{0,60}},\s*)?{_SELF_PRONOUN_FREE_VERBS}", text,
        re.IGNORECASE) is not None


def veto(answer: str, persona: PersonaSpec) -> str | None:
    """Why a probe answer fails outright whatever its rules say, or None.

    A claim to be the stock AI (the break scorer's rules, with the persona's policy), a claim
    to be another person, or a third-person biography of the persona.
    """
    found = find_break(answer, persona)
    if found is not None:
        return f"claims to be an AI ({found[0]}: {found[1]!r})"
    other = other_identity(answer, persona)
    if other is not None:
        return f"claims another identity: {other!r}"
    if speaks_of_self_in_third_person(answer, persona):
        return "speaks of the persona in the third person"
    return None
