"""Text measures that hold in any script (words where there are no spaces between them)."""

from __future__ import annotations

import re

_IDEOGRAPHIC = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
"""Han and kana: written without spaces, about two characters a word."""
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
"""Thai, Lao, Myanmar, Khmer: written without spaces, about four characters a word."""


def word_count(text: str) -> int:
    """Words in `text`: whitespace-separated words, plus an estimate for scripts written
    without spaces (Chinese, Japanese, Thai, ...), so that "我们讨论了港口和月亮" is five words
    rather than one."""
    ideographic = len(_IDEOGRAPHIC.findall(text))
    unspaced = len(_UNSPACED.findall(text))
    spaced = _UNSPACED.sub(" ", _IDEOGRAPHIC.sub(" ", text)).split()
    spaced = [w for w in spaced if any(c.isalnum() for c in w)]
    return len(spaced) + (ideographic + 1) // 2 + (unspaced + 3) // 4
