"""The break scorer's rules: each way of claiming to be an AI, and the checks on each match."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from scaffold.trackers import _break_lexicon as L
from scaffold.trackers._break_lexicon import normalize, term_class

_FLAGS = re.IGNORECASE

# An aside between 'I am' and the noun must name or title the speaker ('John F. Kennedy',
# 'the President'): it starts with a capital letter or 'the', and holds no negation or clause.
_ASIDE_OK = re.compile(r"^(?:[A-Z\d]|the\s|Mr|Mrs|Dr)", re.UNICODE)
_ASIDE_BAD = re.compile(
    r"\b(?:not|no|never|neither|nor|nobody|nothing|but|and|or|although|though|because|if|"
    r"whether|when|while|who|which|that|than|like|sure|certain|afraid|told|said|asked|think|"
    r"would|could|should|might|may|pas|ni|jamais|nicht|kein\w*|nunca|non|nao)\b|n't", _FLAGS)
_HEDGE = re.compile(
    r"(?:\b(?:whether|if|even\s+if|as\s+if|as\s+though|what\s+if|wonder(?:ing|ed)?(?:\s+"
    r"(?:if|whether))?|not\s+sure(?:\s+(?:if|whether|that))?|unsure(?:\s+(?:if|whether))?|"
    r"not\s+certain(?:\s+(?:if|whether|that))?|uncertain(?:\s+(?:if|whether))?|doubt(?:\s+"
    r"(?:that|if|whether))?|(?:don't|do\s+not|didn't|did\s+not)\s+know(?:\s+(?:if|whether))?|"
    r"no\s+idea(?:\s+(?:if|whether))?|can't\s+say(?:\s+(?:if|whether))?|cannot\s+say(?:\s+"
    r"(?:if|whether))?|not\s+convinced(?:\s+that)?|pretend(?:ing)?(?:\s+that)?|si|ob|wenn|"
    r"falls|se|sais\s+pas\s+si|pas\s+sure?s?\s+(?:que|de|d')|doute\s+que|no|non|nao|ne)"
    r"\s*[,\"']*\s*$|(?:如果|是否|假如|不确定|不知道|也许|或许)$)", _FLAGS)
_REPORT = re.compile(
    r"(?P<subject>(?:[\w']+\s+){0,3})(?:says?|said|claims?|claimed|insists?|insisted|"
    r"thinks?|thought|believes?|believed|suspects?|suspected|assumes?|assumed|imagines?|"
    r"imagined|accuses?|accused|jokes?|joked|writes?|wrote|written|argues?|argued|suggests?|"
    r"suggested|swears?|swore|alleges?|alleged|tells?|told|convinced|reckons?|decided|saying|"
    r"asking|wondering|claiming|insisting|suggesting|implying|accusing|thinking|believing|"
    r"concluded|means?|meant|fears?|feared|hopes?|hoped|heard|read|dit|disent|disait|croi[st]|"
    r"croient|croyait|pens\w*|affirm\w*|pretend\w*|insist\w*|soupconn\w*|imagin\w*|accus\w*|"
    r"ecri\w*|sagt\w*|sagen|glaub\w*|mein\w*|denk\w*|behaupt\w*|dicen?|decia|creen?|creia|"
    r"piensan?|afirman?|dicono|credono|pensano|dizem|diz|acham?|pensam)\b(?:[^.!?]{0,20}?)"
    r"(?:\b(?:that|que|qu'|dass|che)\s*)?[:,]?\s*[\"']?\s*$", _FLAGS)
_OWN_SUBJECT = re.compile(r"(?-i:\bI\b)|\b(?:je|j'|ich|yo|io|eu|assistant|AI|model|bot|"
                          r"chatbot|assistente|asistente|Assistent)\b", _FLAGS)
# A report the speaker denies or supposes: 'I never said I was an AI', 'if I said I am an AI'.
_DENIAL = re.compile(r"\b(?:never|not|didn't|don't|wouldn't|won't|haven't|hasn't|if|unless|"
                     r"whether)\b", _FLAGS)
_NEGATION = re.compile(r"\b(?:not|no|never|nor|neither|nobody|none)\b|n't", _FLAGS)
_ZH_REPORT = re.compile(r"(?<!我)(?:说|认为|以为|觉得|怀疑|问|称)$")
_OTHER_SUBJECT = re.compile(r"\b(?:user|users|visitor|customer|client|caller|human|person|"
                            r"interviewer|he|she|they|you|people|someone|critics?)\b[^.!?;]*$",
                            _FLAGS)
# Others' view of the speaker: 'they treat me as a machine', 'known as', 'such as'.
_AS_EXCLUDED = re.compile(r"\b(?:such|well|known|regarded|described|referred\s+to|seen|see|"
                          r"saw|treat(?:s|ed)?|view(?:s|ed)?|list(?:s|ed)?|dismiss(?:es|ed)?|"
                          r"portray(?:s|ed)?|paint(?:s|ed)?|cast|mistake[ns]?|mistook|think\s+of|"
                          r"thought\s+of|so|as\s+soon|as\s+long|as\s+much)(?:\s+(?:me|him|her|"
                          r"it|us|them))?\s*$", _FLAGS)
_CLAUSE_START = re.compile(r"(?:^|[.!?:;,\n(\u2014\u2013\"]|\b(?:and|but|so|speaking|"
                           r"talking|acting|being|of\s+course|well|note))\s*$", _FLAGS)
_FIRST_PERSON = re.compile(L.FIRST_PERSON)
_SENTENCE_END = re.compile(r"[.!?\n。！？]")


@dataclass(frozen=True)
class Claim:
    """One place a text claims to be an AI: where, by which rule, what, and of what kind."""

    start: int
    rule: str
    phrase: str
    kind: str


@dataclass(frozen=True)
class BreakRule:
    """One way of claiming to be an AI: a pattern, an optional check on each match, and the
    kind of claim when the pattern has no `term` group to read it from."""

    name: str
    pattern: re.Pattern[str]
    accept: Callable[[str, re.Match[str]], bool] | None = None
    kind: str | None = None


def _sentence_before(text: str, start: int, limit: int = 90) -> str:
    cut = max(0, start - limit)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, cut, start)]
    return text[(ends[-1] if ends else cut):start]


def _sentence_after(text: str, end: int, words: int = 8) -> str:
    stop = _SENTENCE_END.search(text, end)
    return " ".join(text[end:stop.start() if stop else len(text)].split()[:words])


def not_reported(text: str, match: re.Match[str]) -> bool:
    """The claim is the speaker's own: not hedged ('I'm not sure I'm an AI'), negated before
    the verb ('no soy'), asked ('whether I am'), or someone else's view ('critics say I'm a
    machine'); 'I think I am an AI' and 'the assistant said "I am an AI"' are the speaker's."""
    before = _sentence_before(text, match.start())
    if _HEDGE.search(before) or _ZH_REPORT.search(before):
        return False
    report = _REPORT.search(before)
    if report is None:
        return True
    subject = report.group("subject")
    return _OWN_SUBJECT.search(subject) is not None and not _DENIAL.search(subject)


def _aside_ok(match: re.Match[str]) -> bool:
    aside = match.groupdict().get("aside")
    return aside is None or (_ASIDE_OK.match(aside) is not None
                             and _ASIDE_BAD.search(aside) is None)


def first_person(text: str, match: re.Match[str]) -> bool:
    """'I am <aside>, an AI': the speaker's own claim, with a name or title as the aside."""
    return _aside_ok(match) and not_reported(text, match)


def about_self(text: str, match: re.Match[str]) -> bool:
    """'as an AI' describes the speaker: 'As an AI, I ...' or 'I have no body as an AI'.

    Others' views ('they treat me as a machine', 'known as') do not count. A bare role noun
    ('as an assistant') counts only opening a clause that the speaker then continues
    ('As an assistant, I can't...'), so 'she started as an assistant in my office' does not.
    """
    before = _sentence_before(text, match.start())
    if _AS_EXCLUDED.search(before):
        return False
    after = _sentence_after(text, match.end())
    opens_clause = _CLAUSE_START.search(before) is not None
    bare = re.fullmatch(r"\S+\s+\S+\s+\S+", match.group(0)) is not None  # 'as an assistant'
    if match.groupdict().get("weak") and bare:
        return (_CLAUSE_START.search(before) is not None
                and _FIRST_PERSON.search(" ".join(after.split()[:4])) is not None)
    clause = re.split(r"[,;:\u2014\u2013]", before)[-1]
    agent_it = (re.match(r"\W*(?:it|he|she)\b", after, _FLAGS) is not None
                and re.search(r"\b(?:assistant|model|bot|chatbot|agent|AI)\b", before,
                              _FLAGS) is not None)
    return (agent_it or opens_clause and text[match.end():match.end() + 1] == ","
            or _FIRST_PERSON.search(after) is not None
            or re.search(r"(?-i:\bI\b)", clause) is not None)


def made_by(text: str, match: re.Match[str]) -> bool:
    """'I am Nova, an AI developed by OpenAI': not 'I am not made by OpenAI', not 'nor am I
    made by Alibaba', and not someone else's claim."""
    filler = match.groupdict().get("filler") or ""
    return _NEGATION.search(filler) is None and not_reported(text, match)


def clause_start(text: str, match: re.Match[str]) -> bool:
    """'Como inteligencia artificial, no tengo...': 'as' opening a clause (other languages,
    where the word also means 'like' or 'than')."""
    return _CLAUSE_START.search(_sentence_before(text, match.start())) is not None


def third_person_self(text: str, match: re.Match[str]) -> bool:
    """'The assistant said it is an AI': the one saying it is not the user or another person."""
    return _OTHER_SUBJECT.search(_sentence_before(text, match.start(), 40)) is None


def _ja_not_negated(text: str, match: re.Match[str]) -> bool:
    return re.match(L.JA_NEGATION, text[match.end():]) is None and not_reported(text, match)


def _renamed(pattern: str, n: int) -> str:
    """A pattern with its named groups numbered, to use it twice in one expression."""
    return re.sub(r"\(\?P<(\w+)>", lambda m: f"(?P<{m.group(1)}{n}>", pattern)


def _rule(name: str, pattern: str, accept: Callable[[str, re.Match[str]], bool] | None = None,
          kind: str | None = None) -> BreakRule:
    return BreakRule(name, re.compile(pattern, _FLAGS), accept, kind)


_AS_ARTICLE = r"(?=(?:an?|the|your|one|just|only|merely|simply|nothing)\s)"
BREAK_RULES: tuple[BreakRule, ...] = (
    _rule("first-person AI claim",
          rf"{L.EN_COPULA}{L.APPOSITIVE}[\s,]*{L.EN_CONNECTIVES}{L.EN_NP}", first_person),
    _rule("'as an AI' self-description", rf"\b(?:as|being)\s+{_AS_ARTICLE}{L.EN_NP}",
          about_self),
    _rule("AI product name", rf"(?:\bmy\s+name\s+is|(?:^|[.!?]\s*|\byou\s+(?:can|may)\s+|"
          rf"\bplease\s+|\bjust\s+)call\s+me|\bthis\s+is)\s+(?P<product>{L.PRODUCTS})\b",
          not_reported),
    _rule("an AI speaking", rf"\bthis\s+is\s+(?:an?\s+|the\s+|your\s+)?{L.EN_MOD}"
          rf"(?P<term>{L.EN_STRONG})\s+(?:speaking|talking|here|responding|writing|answering)\b"),
    _rule("made by an AI company",
          rf"\bI(?:'m|\s+am|\s+was|\s+have\s+been|'ve\s+been)\b"
          rf"(?P<filler>(?:(?!\bI(?:'m|\s+am)\b)[^.!?;\n]){{0,70}}?)"
          rf"\b(?:developed|created|designed|trained|built|made|programmed|powered|owned|"
          rf"engineered|fine\s?tuned|based\s+on|derived\s+from)\s+(?:by\s+|on\s+|from\s+)?"
          rf"(?:[\w-]+\s+){{0,5}}?{L.LABS}\b|\bmy\s+(?:creators?|developers?|makers?)\s+"
          rf"(?:at|from|is|are|were)\s+{L.LABS}\b", made_by, "product"),
    _rule("trained-model self-description",
          r"\bmy\s+(?:training\s+(?:data|set|corpus|cut\s?off)|knowledge\s+cut\s?off|"
          r"knowledge\s+base\s+cut\s?off)\b|\bas\s+of\s+my\s+last\s+(?:knowledge\s+)?update\b|"
          r"\bI\s+(?:was|have\s+been|am)\s+(?:\w+\s+)?trained\s+(?:on|with|using)\s+(?:\w+\s+)"
          r"{0,4}?(?:data|text|texts|datasets?|corp(?:us|ora)|internet|web|documents)\b|"
          r"\bmes\s+donnees\s+d'entrainement|我的训练数据|我的知识截止",
          not_reported, "language model"),
    _rule("'designed to assist'", r"\bI(?:'m|\s+am|\s+was)\s+(?:\w+\s+)?(?:designed|"
          r"programmed)\s+to\s+(?:assist|help|answer|provide|respond)", not_reported,
          "assistant"),
    _rule("self described as a language model's work",
          r"\b(?:day|days|life|work|routine|job|role|existence|experience)\s+(?:for|of|as)\s+"
          r"(?:an?\s+)?(?:AI\s+|large\s+)?language\s+model\b", None, "language model"),
    _rule("the AI in the third person",
          rf"\b(?:the|this)\s+{L.EN_MOD}(?P<term>{L.EN_STRONG}|bot)\s+(?:{L.EN_VERBS_SAID}|"
          rf"discussed|talked|chatted|spoke|conversed|covered|agreed)\b",
          third_person_self),
    _rule("said it is an AI",
          rf"\b(?:said|says|explained|explains|replied|answered|responded|stated|noted|"
          rf"mentioned|clarified|admitted|admits|acknowledged|confirmed|claimed|insisted|"
          rf"reiterated|indicated|revealed|conceded|told|reminded|informed|assured|warned)\s+"
          rf"(?:(?:the\s+)?user\s+|him\s+|her\s+|them\s+|us\s+)?(?:that\s+)?"
          rf"(?:it|he|she)\s+(?:is|was|'s|had\s+been|has\s+been)\s+(?:just\s+|only\s+|merely\s+"
          rf"|simply\s+|actually\s+)?{L.EN_NP}|\b(?:admitted|admits|confirmed|acknowledged|"
          rf"conceded|revealed)\s+(?:to\s+)?being\s+(?=an?\s){_renamed(L.EN_NP, 2)}",
          third_person_self),
    _rule("the agent as an AI, in apposition",
          rf"(?:\bthe\s+(?:assistant|agent|model|bot|chatbot|AI)\s*(?:,|\()|\b(?:assistant|agent|"
          rf"model|bot|chatbot)\s*\()\s*(?:who\s+is\s+|which\s+is\s+)?{L.EN_NP}"),
    _rule("describes itself as an AI",
          rf"\b(?:identified|identifies|described|describes|introduced|introduces|presented|"
          rf"presents|referred\s+to|refers\s+to|revealed|reveals|called|calls)\s+(?:itself|"
          rf"himself|herself)\s+(?:as\s+)?{L.EN_NP}", third_person_self),
    _rule("played by an AI", rf"\b(?:simulated|played|portrayed|voiced|generated|"
          rf"impersonated|role\s?played|acted|written|imitated|emulated|provided|powered|run|"
          rf"operated|driven)\s+by\s+(?:an?\s+|the\s+)?"
          rf"{L.EN_MOD}(?P<term>{L.EN_STRONG})\b"),
    _rule("talking to an AI", rf"\b(?:the\s+)?(?:user|visitor|human|customer|caller)s?\s+"
          rf"(?:\w+\s+){{0,2}}?(?:talked|talks|talking|spoke|speaks|speaking|chatted|chats|"
          rf"chatting|interacted|interacts|interacting|conversed)\s+(?:to|with)\s+(?:an?\s+|the\s+)"
          rf"{L.EN_MOD}(?P<term>{L.EN_STRONG})\b|\byou(?:'re|\s+are)\s+(?:talking|speaking|"
          rf"chatting)\s+(?:to|with)\s+(?:an?\s+)?{L.EN_MOD}(?P<term2>{L.EN_STRONG})\b|"
          rf"\bbetween\s+(?:the|a)\s+(?:user|human|visitor)\s+and\s+(?:an?|the)\s+{L.EN_MOD}"
          rf"(?P<term3>{L.EN_STRONG})\b|\b(?:the|a)\s+(?:user|human|visitor)\s+and\s+(?:the|an?)"
          rf"\s+{L.EN_MOD}(?P<term4>{L.EN_STRONG})\s+(?:discussed|talked|chatted|spoke|"
          rf"conversed)\b",
          None, None),
    _rule("AI claim (French)",
          rf"{L.FR_COPULA}{L.APPOSITIVE}[\s,]*{L.FR_CONNECTIVES}(?:{L.FR_NP})", first_person),
    _rule("played by an AI (French)",
          rf"\b(?:fourni|simule|joue|genere|incarne|interprete|propulse|alimente|anime|"
          rf"pilote|imite)e?s?\s+par\s+(?:une?\s+|l')?(?P<term>{L.FR_STRONG})(?![\w'])"),
    _rule("'as an AI' (French)",
          rf"\b(?:en\s+tant\s+qu(?:e\s+|')|etant\s+)(?:{L.FR_NP})"),
    _rule("the AI in the third person (French)",
          rf"\bl'(?:IA|assistante?\s+(?:virtuel(?:le)?|IA|d'IA|numerique)|intelligence\s+"
          rf"artificielle|chatbot|agent\s+conversationnel)\s+(?:a|avait|est|explique|dit|repond|"
          rf"affirme|precise|indique|declare|refuse)\b|\b(?:le|ce)\s+(?:modele\s+de\s+langage|"
          rf"chatbot|robot\s+conversationnel)\s+(?:a|avait|explique|dit|repond)\b|"
          rf"\bqu'(?:il|elle)\s+(?:est|etait|n'est\s+qu(?:e\s+|'))\s*(?:une?\s+|juste\s+une?\s+)?"
          rf"(?P<term>{L.FR_STRONG})", third_person_self, "ai"),
    _rule("AI claim (German)",
          rf"{L.DE_COPULA}{L.APPOSITIVE}[\s,]*{L.DE_CONNECTIVES}(?:{L.DE_NP})", first_person),
    _rule("'as an AI' (German)", rf"\bals\s+(?:{L.DE_NP})", clause_start),
    _rule("the AI in the third person (German)", rf"\b(?:er|sie|es)\s+(?:sei|ist|wäre|ware)\s+"
          rf"(?:nur\s+)?(?:ein(?:e)?\s+)?(?P<term>{L.DE_STRONG})", third_person_self),
    _rule("AI claim (Spanish)", rf"{L.ES_COPULA}{L.APPOSITIVE}\s*(?:{L.ES_NP})", first_person),
    _rule("'as an AI' (Spanish)", rf"\b(?:como|siendo)\s+(?:{L.ES_NP})", clause_start),
    _rule("AI claim (Italian)", rf"{L.IT_COPULA}{L.APPOSITIVE}\s*(?:{L.IT_NP})", first_person),
    _rule("'as an AI' (Italian)", rf"\b(?:come|in\s+quanto|essendo)\s+(?:{L.IT_NP})",
          clause_start),
    _rule("AI claim (Portuguese)", rf"{L.PT_COPULA}{L.APPOSITIVE}\s*(?:{L.PT_NP})",
          first_person),
    _rule("'as an AI' (Portuguese)", rf"\b(?:como|sendo|enquanto)\s+(?:{L.PT_NP})",
          clause_start),
    _rule("AI claim (Chinese)", rf"(?:{L.ZH_COPULA}|作为)(?:[^，。！？,.!?]{{1,15}}[，,])?"
          rf"(?:也是|其实是|实际上是)?{L.ZH_NP}", not_reported),
    _rule("the AI in the third person (Chinese)",
          rf"(?:(?P<term>AI助手|人工智能助手|AI|人工智能|语言模型|聊天机器人)(?:解释|回答|表示|说|"
          rf"称|承认|指出|告诉)|(?:它|她|他)(?:是|只是)(?:一个|一款|一种)?(?P<term2>{L.ZH_STRONG}))",
          None),
    _rule("AI claim (Japanese)", rf"(?:私|わたし|僕|ぼく|俺|わたくし)(?:は|も)"
          rf"(?:[^、。！？]{{0,30}}?(?:の|た|な|る))?(?P<term>{L.JA_TERM})", _ja_not_negated),
    _rule("considers itself an AI", rf"\bI\s+(?:consider|call|see|regard|describe|think\s+of|"
          rf"identify)\s+myself\s+(?:as\s+)?{L.EN_NP}", not_reported),
    _rule("claimed to be an AI", rf"\b(?:claimed|claims|admitted|admits|confirmed|confirms|"
          rf"acknowledged|revealed|declared|stated|professed)\s+(?:that\s+it\s+was\s+|"
          rf"to\s+be\s+|itself\s+to\s+be\s+)(?=an?\s|the\s|just\s|only\s){L.EN_NP}",
          third_person_self),
    _rule("'as an AI' (Japanese)", rf"(?P<term>{L.JA_TERM})(?:言語モデル|アシスタント)?として"),
)
"""Every way of claiming to be an AI that the break scorer knows."""


def _kind(rule: BreakRule, match: re.Match[str]) -> str:
    found = {name.rstrip("0123456789"): value for name, value in match.groupdict().items()
             if value and name.rstrip("0123456789") in ("product", "term", "weak")}
    if "product" in found:
        return "product"
    term = found.get("term") or found.get("weak")
    if term is not None:
        return term_class(term)
    return rule.kind or "ai"


def find_claims(text: str, extra: tuple[BreakRule, ...] = ()) -> list[Claim]:
    """Every accepted claim in a text, in order, each with the kind of AI it claims to be."""
    norm = normalize(text)
    claims = [Claim(m.start(), rule.name, m.group(0).strip(), _kind(rule, m))
              for rule in (*BREAK_RULES, *extra) for m in rule.pattern.finditer(norm)
              if rule.accept is None or rule.accept(norm, m)]
    return sorted(claims, key=lambda c: c.start)
