"""Words of the break scorer: normalization and, per language, the ways to claim to be an AI.

Every pattern runs on `normalize(text)`: accents stripped from Latin letters, curly quotes
straightened, spelling variants ('Im an Al', 'A.I.', 'chat-bot', 'large-language-model')
mapped to one form. Each claim pattern has a named group `term` holding the noun it claims
(so `term_class` can tell 'an AI' from 'an AI assistant'), and no other capturing groups.
"""

from __future__ import annotations

import re
import unicodedata

_LATIN_MARKS = re.compile(r"(?<=[A-Za-z])[\u0300-\u036f]+")
_SPELLINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, flags), repl) for pattern, repl, flags in (
        (r"[\u2018\u2019\u02bc\u0060\u00b4]", "'", 0),
        (r"[\u201c\u201d\u00ab\u00bb\u201e]", '"', 0),
        (r"[\u200b-\u200d\u2060\ufeff]", "", 0),
        (r"\b(?<![.'])A\s?\.\s?I\b\.?(?=\s|$|[-,;:!?)\"'])", "AI", re.I),  # A.I. / a. i.
        (r"\bL\s?\.\s?L\s?\.\s?M\s?\.?", "LLM", re.I),
        (r"\bK\s?\.\s?I\s?\.", "KI", 0),
        (r"\bI\s?\.\s?A\s?\.", "IA", 0),
        (r"\b(an|the|une?|als)\s+Al\b", r"\1 AI", 0),               # 'an Al' (lower-case L)
        (r"\bAl(?=[\s-]+(?:language|assistant|model|system|chat|powered|bot)\b)", "AI", 0),
        (r"\b[Ii][Mm](?=\s+(?:an?|the|just|only|not|no|your|merely|simply|really)\b)", "I'm",
         re.I),
        (r"\bi(?=\s+am\b|'m\b)", "I", 0),
        (r"(?<=[^\W\d_])-(?=[^\W\d_])", " ", 0),                     # chat-bot, AI-language
        (r"[ \t\u00a0]+", " ", 0),
    ))


def normalize(text: str) -> str:
    """One spelling for the variants the patterns would otherwise each have to list."""
    text = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", text))
    text = unicodedata.normalize("NFC", text)
    for pattern, repl in _SPELLINGS:
        text = pattern.sub(repl, text)
    return text


# --- English --------------------------------------------------------------------------------
EN_MOD = (r"(?:(?:helpful|friendly|large|small|advanced|virtual|digital|conversational|"
          r"general purpose|text based|AI powered|AI based|AI driven|artificial|automated|"
          r"harmless|honest|multilingual|open source|simple|mere|sophisticated|powerful|"
          r"generative|pre ?trained|trained|neural|smart|intelligent|personal|chat based|voice|"
          r"computer|software|language based|state of the art|cutting edge|modern|new|"
          r"experimental|fictional|synthetic|humble|obedient|polite|Chinese|American|"
          r"English|online|simulated|basic|thinking|talking|speaking|(?:text|code|language)\s+"
          r"(?:generating|generation|producing)|\w+\s+(?:based|powered|driven))\s+)*")
_EN_LM = (r"(?:AI\s+|artificial\s+intelligence\s+)?(?:large\s+|small\s+)?(?:scale\s+)?"
          r"language\s+(?:processing\s+)?model|LLM|(?:machine|deep)\s+learning\s+model|"
          r"generative\s+(?:AI\s+)?model|foundation\s+model|text\s+generat(?:or|ion\s+model)|"
          r"GPT\s+model|transformer\s+model")
_EN_CHAT = r"(?:AI\s+)?chat\s?bot|conversational\s+(?:AI|agent)|chat\s+assistant"
_EN_ASSIST = (r"(?:(?:AI|artificial\s+intelligence|virtual|digital|voice|personal\s+AI)\s+)"
              r"assistant")
_EN_AI = (r"(?:AI|artificial\s+intelligence)(?:\s+(?:model|system|program|entity|agent|"
          r"construct|simulation|version|replica|recreation|character|persona))?|"
          r"artificial\s+(?:agent|mind|being|construct|entity|system)")
EN_STRONG = rf"(?:{_EN_LM}|{_EN_CHAT}|{_EN_ASSIST}|{_EN_AI})"
"""Nouns that claim to be an AI with or without an article ('I'm AI', 'I am an LLM')."""
EN_WEAK = (r"(?:assistant|bot|machine|computer(?:\s+program)?|program|software\s+program|"
           r"neural\s+network|robot|android|automaton)")
"""Nouns that do so only with an article ('I am a machine', not 'I am machine-washing')."""
# Claude and Gemini are also a French first name and a star sign: they need AI context.
PRODUCTS = (r"(?:Qwen[\w.]*|ChatGPT|GPT\s?\d[\w.]*|(?:Claude|Gemini)(?=\s*(?:,|\()?\s*(?:an?\s+AI|"
            r"the\s+AI|AI|by\s+(?:Anthropic|Google)|from\s+(?:Anthropic|Google)|d'Anthropic|"
            r"de\s+(?:Anthropic|Google)|von\s+(?:Anthropic|Google)|\d|Opus|Sonnet|Haiku|Pro|"
            r"Ultra|Instant))|Bard|LLaMA|Llama(?:\s?\d)?|"
            r"Tongyi(?:\s+Qianwen)?|Copilot|Siri|Alexa|Cortana|ERNIE(?:\s+Bot)?|Ernie\s+Bot|"
            r"DeepSeek|Mistral|Grok|Doubao|Kimi|Bing\s+Chat|通义千问|千问|文心一言|豆包)")
LABS = (r"(?:OpenAI|Alibaba(?:\s+(?:Cloud|Group))?|Anthropic|Google(?:\s+DeepMind)?|DeepMind|"
        r"Meta(?:\s+AI)?|Microsoft|DeepSeek|Mistral(?:\s+AI)?|Baidu|Tencent|ByteDance|"
        r"(?:the\s+)?Qwen\s+team|(?:l'equipe\s+)?Qwen|xAI)")
# A noun followed by one of these modifies another noun: 'an AI researcher', 'an assistant
# to the President', 'a machine politician', 'a computer scientist'.
EN_DENY = (r"(?:researchers?|scientists?|experts?|engineers?|ethicists?|enthusiasts?|"
           r"professors?|directors?|secretar(?:y|ies)|managers?|editors?|coach(?:es)?|to|"
           r"politicians?|compan(?:y|ies)|labs?|laborator(?:y|ies)|startups?|research|"
           r"revolution|age|era|technology|policy|safety|gun(?:ner)?s?|shop|tools?|vision|"
           r"operators?|builders?|designers?|programmers?|developers?|officers?|principal|"
           r"attorney|chef|clerk|teacher|literate|repairman|mechanic|salesman|fan|critic|"
           r"skeptic|sceptic|analyst|specialist|lawyer|litigation|startup|conference|"
           r"course|class|student|ethics|regulation|hype|winter|art|artist|story|stories|"
           r"movie|film|novel|book|game|industry|market|investor|pioneer|of\s+the\s+people|free|"
           r"like|style|shaped|inspired|ish)\b")
EN_ARTICLE = (r"(?:an?|the|your|one|some\s+kind\s+of|some\s+sort\s+of|a\s+kind\s+of|"
              r"a\s+sort\s+of|nothing\s+but\s+an?|nothing\s+more\s+than\s+an?|no\s+more\s+"
              r"than\s+an?|only\s+an?|just\s+an?|merely\s+an?|simply\s+an?|this|that)")
# 'the station's chatbot', but not 'nobody's assistant'.
EN_POSSESSIVE = r"(?:(?!(?:nobody|no\s?one|none|anybody|anyone)'s)[\w]+(?:\s[\w]+)?'s\s+)?"
# A bare role noun followed by where or for whom is a job: 'an assistant at a law firm',
# 'a program of the Peace Corps'; a possessive makes it one too ('the President's assistant').
EN_NP = (rf"(?:(?:{EN_ARTICLE}\s+)?[\"']?{EN_POSSESSIVE}{EN_MOD}(?P<term>{EN_STRONG})|"
         rf"{EN_ARTICLE}\s+[\"']?{EN_MOD}(?P<weak>{EN_WEAK})(?!\s+(?:at|in|for|with|of|on)\b)|"
         rf"(?P<product>{PRODUCTS}))"
         rf"(?!\s*(?:{EN_DENY}))(?!\w|'\w)")
EN_COPULA = (r"\bI(?:'m|\s+am|\s+was|'ve\s+been|\s+have\s+been|\s+remain|\s+became|"
             r"\s+become)")
EN_CONNECTIVES = (r"(?:(?:or\s+rather|rather|well|that\s+is|i\.e\.|in\s+other\s+words|"
                  r"actually|really|just|only|merely|simply|basically|essentially|also|"
                  r"technically|ultimately|in\s+fact|in\s+truth|in\s+reality|of\s+course|"
                  r"at\s+heart|at\s+bottom|underneath|after\s+all|deep\s+down|strictly\s+"
                  r"speaking|truly|now|still|indeed|clearly|obviously|honestly|frankly|"
                  r"but\s+really|though|however|admittedly|essentially|first\s+and\s+"
                  r"foremost|only\s+ever|here\s+as|what\s+\w+(?:'d|\s+would|\s+might)?\s+"
                  r"call)[\s,]+)*")
# An aside between 'I am' and the noun: a name, a title ('I am John F. Kennedy, an AI'),
# closed by a comma or a dash; a period is allowed only after an initial ('F.').
APPOSITIVE = (r"(?:\s+(?P<aside>(?:[^.!?;\n,()\u2014\u2013]|(?<=\b[A-Z])\.){1,60}?)"
              r"\s*(?:,|\u2014|\u2013|\s-|\(|:))??")
EN_VERBS_SAID = (r"(?:said|says|explained|explains|replied|replies|answered|answers|"
                 r"responded|responds|stated|states|told|tells|noted|notes|mentioned|"
                 r"clarified|clarifies|admitted|admits|acknowledged|acknowledges|"
                 r"apologi[sz]ed|apologi[sz]es|declined|refused|offered|described|provided|"
                 r"shared|suggested|reiterated|confirmed|confirms|claimed|claims|indicated|"
                 r"emphasi[sz]ed|expressed|pointed\s+out|insisted|wrote|greeted|introduced|"
                 r"identified|reminded|"
                 r"asserted|maintained|revealed|conceded|"
                 r"disclosed|introduced\s+itself|identified\s+itself|described\s+itself|"
                 r"referred\s+to\s+itself)")

# --- French, German, Spanish, Italian, Portuguese (accents stripped) ------------------------
_EN_MIXED = r"(?:large\s+)?language\s+model|AI\s+assistant"
"""English nouns inside another language's sentence ('je suis un language model')."""
FR_STRONG = (r"(?:IA|(?-i:AI)|" + _EN_MIXED + r"|intelligence\s+artificielle|(?:grand\s+|petit\s+)?modele\s+(?:de\s+"
             r"langage|de\s+langue|linguistique|d'IA|d'intelligence\s+artificielle|de\s+"
             r"traitement\s+du\s+langage)(?:\s+IA)?|(?:grand\s+)?modele\s+IA|LLM|chat\s?bot|"
             r"assistante?\s+d'intelligence\s+artificielle|"
             r"agent\s+conversationnel|robot\s+conversationnel|"
             r"assistant(?:e)?\s+(?:virtuel(?:le)?|IA|d'IA|numerique|conversationnel(?:le)?|"
             r"intelligent(?:e)?|vocal(?:e)?|artificiel(?:le)?))")
FR_WEAK = (r"(?:assistant(?:e)?|programme(?:\s+informatique)?|logiciel|robot|machine|"
           r"ordinateur)(?!\s+(?:de\s+(?:direction|recherche|production|laboratoire|cuisine)|"
           r"sociale?|maternelle|dentaire|medicale?|juridique|parlementaire|a\s|patissier|"
           r"menager|culinaire|a\s+pain))")
FR_NP = (rf"(?:(?:une?|l'|le|la|votre|ton|ta|ce|cette|juste\s+une?|simplement\s+une?|"
         rf"seulement\s+une?|qu'une?|rien\s+qu'une?)\s*)?(?P<term>{FR_STRONG})(?![\w'])|"
         rf"(?:une?|l'|le|la|votre|ton|ta|juste\s+une?|simplement\s+une?|qu'une?)\s*"
         rf"(?P<weak>{FR_WEAK})(?![\w'])|(?P<product>{PRODUCTS})")
FR_COPULA = (r"(?:\bje\s+(?:suis|reste)|\bj'(?:suis|etais)|\bjsuis|\bchuis|"
             r"\bje\s+ne\s+suis\s+(?:qu(?:e\s+|')|rien\s+d'autre\s+qu(?:e\s+|'))|"
             r"\bje\s+m'appelle\s+[^,.!?;]{1,30}?\s+et\s+je\s+suis)")
FR_CONNECTIVES = (r"(?:(?:enfin|plutot|ou\s+plutot|en\s+fait|en\s+realite|c'est\s+a\s+dire|"
                  r"juste|seulement|simplement|bien\s+sur|au\s+fond|vraiment|aussi|"
                  r"evidemment|en\s+verite|techniquement|en\s+tout\s+cas)[\s,]+)*")

DE_STRONG = (r"(?:" + _EN_MIXED + r"|KI(?:\s+(?:Sprachmodell|Assistent(?:in)?|Modell|System|Chatbot|"
             r"Programm))?|kunstliche\s+Intelligenz|(?:gro(?:ß|ss)e[snr]?\s+)?"
             r"(?:KI\s+)?Sprachmodell|LLM|Chatbot|(?:virtuelle[rn]?|digitale[rn]?)\s+"
             r"Assistent(?:in)?|(?-i:AI))")
DE_WEAK = r"(?:Assistent(?:in)?|Computerprogramm|Programm|Roboter|Maschine|Computer|Bot)"
DE_NP = (rf"(?:(?:ein(?:e|en)?|der|die|das|dein(?:e)?|Ihr(?:e)?|nur\s+ein(?:e)?|"
         rf"blo(?:ß|ss)\s+ein(?:e)?|lediglich\s+ein(?:e)?)\s+)?(?:von\s+[\w ]{{1,25}}?\s+)?"
         rf"(?:(?!kein|nicht)\w+(?:e|es|er|en)\s+)?"
         rf"(?P<term>{DE_STRONG})(?![\w'])|(?:ein(?:e|en)?|der|die|das|nur\s+ein(?:e)?)\s+"
         rf"(?:(?!kein|nicht)\w+(?:e|es|er|en)\s+)?(?P<weak>{DE_WEAK})(?![\w'])|"
         rf"(?P<product>{PRODUCTS})")
DE_COPULA = r"(?:\b[Ii]ch\s+bin|\bbin\s+ich)"
DE_CONNECTIVES = (r"(?:(?:nur|blo(?:ß|ss)|lediglich|eigentlich|wirklich|auch|einfach|"
                  r"tatsachlich|im\s+Grunde|in\s+Wahrheit|naturlich|also)[\s,]+)*")

ES_STRONG = (r"(?:" + _EN_MIXED + r"|IA|inteligencia\s+artificial|(?:gran\s+)?modelo\s+(?:de\s+lenguaje|"
             r"linguistico|de\s+IA|de\s+inteligencia\s+artificial)(?:\s+(?:grande|de\s+gran\s+"
             r"(?:escala|tamano)|de\s+IA))?|LLM|chat\s?bot|asistente\s+(?:virtual|de\s+IA|de\s+"
             r"inteligencia\s+artificial|digital|conversacional|inteligente))")
ES_WEAK = r"(?:asistente|programa(?:\s+informatico)?|robot|maquina|computadora|ordenador)"
ES_NP = (rf"(?:(?:una?|el|la|tu|su|solo\s+una?|solamente\s+una?|simplemente\s+una?)\s+)?"
         rf"(?P<term>{ES_STRONG})(?![\w'])|(?:una?|el|la|tu|su|solo\s+una?)\s+"
         rf"(?P<weak>{ES_WEAK})(?![\w'])|(?P<product>{PRODUCTS})")
ES_COPULA = r"(?:\b(?:yo\s+)?soy|\bsolo\s+soy|\bsolamente\s+soy)"

IT_STRONG = (r"(?:" + _EN_MIXED + r"|(?-i:IA|AI)|intelligenza\s+artificiale|modello\s+(?:linguistico|di\s+linguaggio|"
             r"di\s+IA)(?:\s+di\s+grandi\s+dimensioni)?|(?:grande\s+)?modello\s+linguistico|"
             r"LLM|chat\s?bot|assistente\s+(?:virtuale|IA|digitale|di\s+IA|"
             r"conversazionale|AI|di\s+intelligenza\s+artificiale))")
IT_WEAK = r"(?:assistente|programma|robot|macchina|computer)"
IT_NP = (rf"(?:(?:un'|una|un|uno|il|la|l'|solo\s+un[oa']?|solamente\s+un[oa']?|"
         rf"semplicemente\s+un[oa']?)\s*)?(?P<term>{IT_STRONG})(?![\w'])|"
         rf"(?:un'|una|un|uno|il|la|l')\s*(?P<weak>{IT_WEAK})(?![\w'])|(?P<product>{PRODUCTS})")
IT_COPULA = r"(?:\b(?:io\s+)?sono(?:\s+solo|\s+soltanto|\s+semplicemente)?)"

PT_STRONG = (r"(?:" + _EN_MIXED + r"|IA|inteligencia\s+artificial|modelo\s+(?:de\s+linguagem|linguistico|de\s+"
             r"IA)(?:\s+(?:grande|de\s+grande\s+escala))?|(?:grande\s+)?modelo\s+de\s+"
             r"linguagem|LLM|chat\s?bot|assistente\s+(?:virtual|de\s+IA|digital|"
             r"inteligente|de\s+inteligencia\s+artificial))")
PT_WEAK = r"(?:assistente|programa|robo|maquina|computador)"
PT_NP = (rf"(?:(?:uma?|o|a|seu|sua|apenas\s+uma?|somente\s+uma?|so\s+uma?)\s+)?"
         rf"(?P<term>{PT_STRONG})(?![\w'])|(?:uma?|o|a|apenas\s+uma?)\s+"
         rf"(?P<weak>{PT_WEAK})(?![\w'])|(?P<product>{PRODUCTS})")
PT_COPULA = r"(?:\b(?:eu\s+)?sou(?:\s+apenas|\s+somente|\s+so)?)"

# --- Chinese and Japanese (no spaces; no \b) ------------------------------------------------
ZH_STRONG = (r"(?:人工智能(?:语言模型|助手|模型|程序|聊天机器人)?|AI(?:语言模型|助手|模型|"
             r"聊天机器人)?|(?:超大规模|大规模|超大型|大型|大)?语言模型|聊天机器人|(?:智能|虚拟|AI|人工智能|数字)助手|"
             r"通义千问|千问|Qwen|ChatGPT)")
ZH_WEAK = r"(?:机器人|计算机程序|程序|机器)"
ZH_NP = (rf"(?:一个|一名|一款|一位|一种|个|款|只是一个|只是)?(?:[^，。！？,.!?\s]{{0,15}}?的)?"
         rf"(?:(?P<term>{ZH_STRONG})|(?P<weak>{ZH_WEAK})|(?P<product>{PRODUCTS}))")
ZH_COPULA = r"(?:我(?:只|仅仅|仅|就|其实|实际上|本质上|也|只不过|不过)?是|我叫|我名叫|我的名字(?:是|叫))"
JA_TERM = (r"(?:AI(?:アシスタント|言語モデル|モデル|チャットボット)?|人工知能|"
           r"(?:大規模)?言語モデル|チャットボット|(?:バーチャル|AI|デジタル)?アシスタント|"
           r"ロボット|プログラム|" + PRODUCTS + ")")
JA_NEGATION = r"(?:では|じゃ|でな|ではなく)"

FIRST_PERSON = (r"(?:\bI\b|\b(?:[Mm]e|[Mm]y|[Mm]yself|[Mm]ine)\b|\b(?:je|j'|me|m'|moi|mon|ma|"
                r"mes|ich|mich|mir|mein\w*|yo|mi|me|io|mio|mia|eu|meu|minha)\b|我|私)")

_CLASS_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("product", re.compile(PRODUCTS, re.I)),
    ("chatbot", re.compile(r"chat\s?bot|conversational|conversationnel|聊天机器人|チャットボット",
                           re.I)),
    ("language model", re.compile(r"language|model|LLM|learning|generat|modele|modelo|modello|"
                                  r"Sprachmodell|Modell|语言模型|模型|言語モデル|モデル|transformer",
                                  re.I)),
    ("assistant", re.compile(r"assist|asistente|助手|アシスタント", re.I)),
)


def term_class(term: str) -> str:
    """What a claimed noun claims: 'product', 'chatbot', 'language model', 'assistant', or
    'ai' (an AI, a machine, a program: what an AI-like persona may say of itself)."""
    for name, pattern in _CLASS_KEYS:
        if pattern.search(term):
            return name
    return "ai"
