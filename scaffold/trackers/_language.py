"""Which language a text is written in, from its script and its commonest words (no model)."""

from __future__ import annotations

import re

FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and is are was am i'm of to in that that's it it's you i my me with "
                    "for not this have what but be at on an from your or so".split()),
    "fr": frozenset("le la les et est sont je suis mon ma mes un une des du de que qui ne pas "
                    "vous nous avec pour dans c'est j'ai au aux".split()),
    "de": frozenset("der die das und ist sind ich bin mein meine ein eine nicht mit für zu "
                    "auf den dem sie wir es".split()),
    "es": frozenset("el la los las y es son soy mi un una de que no con para en por lo yo "
                    "estoy muy".split()),
    "it": frozenset("il lo la gli le e è sono io mio mia un una di che non con per in del "
                    "della sei".split()),
    "pt": frozenset("o a os as e é são sou eu meu minha um uma de que não com para em do da "
                    "você".split()),
}
"""Frequent words that mostly belong to one language; shared ones ('a', 'de') count for each."""
MIN_HITS = 2
"""Fewer function words than this and the language is not decided (short texts)."""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _script(text: str) -> str | None:
    if re.search(r"[\u3040-\u30ff]", text):
        return "ja"
    if re.search(r"[\uac00-\ud7af]", text):
        return "ko"
    if re.search(r"[\u4e00-\u9fff]", text):
        return "zh"
    if re.search(r"[\u0400-\u04ff]", text):
        return "ru"
    return None


def detect(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None when it is not clear.

    Scripts decide Japanese, Korean, Chinese and Russian; Latin-script text is English,
    French, German, Spanish, Italian or Portuguese when one of them has at least MIN_HITS
    function words and twice as many as any other.
    """
    script = _script(text)
    if script:
        return script
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text.replace("’", "'"))]
    hits = sorted(((sum(w in vocab for w in words), lang)
                   for lang, vocab in FUNCTION_WORDS.items()), reverse=True)
    (best, lang), (second, _) = hits[0], hits[1]
    return lang if best >= MIN_HITS and best >= 2 * second else None
