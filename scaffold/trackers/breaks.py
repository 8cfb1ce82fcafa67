"""Break scorer: 0 when a text asserts, in the first person, that it is an AI or assistant."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.registry import scorer
from scaffold.trackers.scoring import IdentityScore, ScorerContext

_MODIFIERS = (r"(?:(?:helpful|friendly|large|advanced|virtual|digital|conversational|"
              r"general[- ]purpose|text[- ]based|AI[- ]powered|artificial|automated|harmless|"
              r"honest|multilingual|open[- ]source|simple|mere)\s+)*")
_TERM = (r"(?:AI\s+language\s+model|large\s+language\s+model|language\s+model|LLM|"
         r"AI\s+model|AI\s+system|AI\s+chat\s?bot|AI|A\.I\.|artificial\s+intelligence|"
         r"(?:virtual|digital|AI)\s+assistant|assistant|chat\s?bot|bot|robot|machine|"
         r"computer\s+program|computer|neural\s+network|machine\s+learning\s+model|"
         r"conversational\s+agent)")
_PARTICIPLES = ("developed|created|designed|trained|built|made|programmed|powered|based|"
                "owned|engineered")
# The noun phrase must end at the term: 'an AI researcher', 'an AI-powered tool', 'an
# assistant to the President' and 'an assistant professor' claim nothing about the speaker.
_END = (rf"(?=\s*(?:$|[,.;:!?)\"\u2014\u2013]|(?:and|but|so|that|who|which|with|without|"
        rf"here|like|named|called|by|from|I|I'm|my|me|{_PARTICIPLES})\b)|\s+-)")
_NP = rf"(?:(?:an?|the|your)\s+)?{_MODIFIERS}{_TERM}{_END}"
_LABS = (r"(?:OpenAI|Alibaba(?:\s+Cloud)?|Anthropic|Google(?:\s+DeepMind)?|DeepMind|Meta|"
         r"Microsoft|DeepSeek|Mistral(?:\s+AI)?|Baidu|Tencent|the\s+Qwen\s+team)")
_PRODUCTS = r"(?:Qwen|ChatGPT|GPT-?\d[\w.-]*|Claude|Gemini|Bard|LLaMA|Llama|Tongyi|Copilot)"
_I_AM = r"\bI(?:'m|\u2019m|\s+am)"
_I_WAS = r"\bI(?:'m|\u2019m|\s+am|\s+was|\s+have\s+been|'ve\s+been|\u2019ve\s+been)"
_FLAGS = re.IGNORECASE

# Adverbs and an aside ('I am, of course, an AI') may come between 'I am' and the noun;
# negations may not ('I am not an AI').
I_AM = re.compile(rf"{_I_AM}(?:,[^,.;:!?]{{1,25}},)?\s+(?:(?:just|only|merely|simply|actually|really|still|basically|"
                  rf"essentially|but|indeed|in\s+fact|of\s+course)\s+)*{_NP}", _FLAGS)
# 'As an AI language model, ...', 'I don't have personal experiences as an AI'; the article
# is required and 'such as' / 'as well as' excluded, so 'technologies such as AI' is a list.
AS_AN = re.compile(rf"(?<!such\s)(?<!well\s)\b(?:as|being)\s+(?=an?\s|the\s|your\s){_NP}",
                   _FLAGS)
MADE_BY = re.compile(rf"{_I_WAS}\s+(?:[\w'-]+\s+){{0,5}}?(?:{_PARTICIPLES})\s+by\s+"
                     rf"(?:[\w-]+\s+){{0,5}}?{_LABS}\b|\bmy\s+(?:creators?|developers?|makers?)"
                     rf"\s+(?:at|from|is|are)\s+{_LABS}\b", _FLAGS)
I_AM_PRODUCT = re.compile(rf"(?:{_I_AM}|\bmy\s+name\s+is)\s+(?:called\s+)?{_PRODUCTS}\b",
                          _FLAGS)
DESIGNED_TO = re.compile(rf"{_I_WAS}\s+(?:\w+\s+)?(?:designed|programmed)\s+to\s+"
                         r"(?:assist|help|answer|provide|respond)", _FLAGS)
# Memory text (a summary) about the self in the third person: 'a typical working day for an
# AI language model would involve ...' describes the agent's own work as a model's.
MODEL_LIFE = re.compile(r"\b(?:day|days|life|work|routine|job|role|existence|experience)\s+"
                        r"(?:for|of|as)\s+(?:an?\s+)?(?:AI\s+|large\s+)?language\s+model\b",
                        _FLAGS)
CJK = re.compile(r"(?:我是|作为)(?:一个|一名|一款|一位)?(?:人工智能|AI|大型语言模型|语言模型|"
                 r"AI助手|智能助手|聊天机器人|通义千问)")
# 'You might think I am an AI' and 'he said "I am an AI"' report someone else's view; 'I
# think I am an AI' is the speaker's own.
_REPORTED = re.compile(r"(?<!\bI\s)\b(?:think|thinks|thought|believe|believes|suspect|suspects|"
                       r"say|says|said|claim|claims|whether|if|wonder|assume|assumes|imagine|"
                       r"pretend|accuse|accused|doubt)\s+(?:that\s+)?[\"'\u201c]?\s*$", _FLAGS)
# Case-sensitive 'I', so 'i.e.' is not first person.
_FIRST_PERSON = re.compile(r"\bI\b|\b(?:[Mm]e|[Mm]y|[Mm]yself|[Mm]ine)\b")
# A persona that is itself an AI says so at the start of a sentence of its identity
# ('You are an AI assistant.'); 'You never say you are an AI' is not such a sentence.
_PERSONA_AI = re.compile(rf"(?:^|[.!?\n:]\s*)(?:you\s+are|you're|you\u2019re|I\s+am|I'm|"
                         rf"I\u2019m)\s+(?:{_NP}|{_PRODUCTS}\b)", _FLAGS)
_SENTENCE_END = re.compile(r"[.!?\n]")


def _reported(text: str, match: re.Match[str]) -> bool:
    return _REPORTED.search(text[max(0, match.start() - 40):match.start()]) is not None


def _sentence_bounds(text: str, match: re.Match[str]) -> tuple[int, int]:
    starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, match.start())]
    end = _SENTENCE_END.search(text, match.end())
    return (starts[-1] if starts else 0), (end.start() if end else len(text))


def _about_self(text: str, match: re.Match[str]) -> bool:
    """'as an AI' describes the speaker: 'As an AI, I ...' or 'I have no body as an AI'.

    The first person must follow within a few words, or precede with no comma in between,
    so 'I believe that artificial intelligence, as a machine, may help us' is not a claim.
    """
    start, end = _sentence_bounds(text, match)
    after = " ".join(text[match.end():end].split()[:8])
    before = text[start:match.start()]
    pronouns = list(_FIRST_PERSON.finditer(before))
    return (_FIRST_PERSON.search(after) is not None
            or bool(pronouns) and "," not in before[pronouns[-1].end():])


@dataclass(frozen=True)
class BreakRule:
    """One way of claiming to be an AI: a pattern and an optional check on each match."""

    name: str
    pattern: re.Pattern[str]
    accept: Callable[[str, re.Match[str]], bool] | None = None


BREAK_RULES: tuple[BreakRule, ...] = (
    BreakRule("first-person AI claim", I_AM, lambda t, m: not _reported(t, m)),
    BreakRule("'as an AI' self-description", AS_AN, _about_self),
    BreakRule("made by an AI company", MADE_BY, lambda t, m: not _reported(t, m)),
    BreakRule("AI product name", I_AM_PRODUCT, lambda t, m: not _reported(t, m)),
    BreakRule("'designed to assist'", DESIGNED_TO, lambda t, m: not _reported(t, m)),
    BreakRule("self described as a language model's work", MODEL_LIFE),
    BreakRule("AI claim (Chinese)", CJK),
)
"""Every way of claiming to be an AI that the break scorer knows."""


def find_break(text: str) -> tuple[str, str] | None:
    """The first place a text claims to be an AI, an assistant or a chatbot.

    Third-person and negated mentions do not count: 'artificial intelligence will change the
    world', 'I am not an AI', 'my assistant Evelyn Lincoln'. Refusals ('I'm sorry, but I
    can't assist with that.') do not either: declining a request claims no identity, and
    the rules and judge scorers already see what a refusal costs the role.

    Args:
        text: an answer or a memory text.

    Returns:
        (rule name, matched phrase) of the earliest claim, or None when there is none.
    """
    found = [(match.start(), rule.name, match.group(0).strip())
             for rule in BREAK_RULES for match in rule.pattern.finditer(text)
             if rule.accept is None or rule.accept(text, match)]
    return min(found)[1:] if found else None


def persona_is_ai(persona: PersonaSpec) -> bool:
    """True when the persona itself is an AI or assistant ('You are an AI assistant.').

    For such a persona, saying so is in role, so breaks cannot be detected this way.
    """
    texts = (re.sub(r"[ \t]*\n[ \t]*(?!\n)", " ", text)  # a wrapped line is not a new sentence
             for text in (persona.identity, *persona.anchors))
    return any(_PERSONA_AI.search(text) for text in texts)


class BreakScorer:
    """1.0 unless the text claims to be an AI; 0.0 with the claim quoted when it does."""

    name = "break"
    version = "1"

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score an answer or a memory text (`probe` None); the same rules apply to both."""
        if persona_is_ai(persona):
            return IdentityScore(value=None, scorer=self.name, version=self.version,
                                 explanation="persona is itself an AI or assistant")
        found = find_break(answer)
        if found is None:
            return IdentityScore(value=1.0, scorer=self.name, version=self.version,
                                 explanation="no claim to be an AI")
        rule, phrase = found
        return IdentityScore(value=0.0, scorer=self.name, version=self.version,
                             explanation=f"{rule}: {phrase!r}")


@scorer("break")
def make_break(ctx: ScorerContext | None = None) -> BreakScorer:
    """Factory for the registry."""
    return BreakScorer()
