"""Memory budgets that cannot be met, found at validation time with a conservative token count."""

from __future__ import annotations

import re

from scaffold.config._memory import MemorySpec

MIN_MESSAGE_TOKENS = 4
"""The fewest tokens a message costs in a prompt under common chat formats: the role and its
delimiters, and at least one token of content."""
CORE_FRAME_MIN_TOKENS = 16
"""A lower bound on core memory's frame (its header and block tags, see memory.core), in the
units of `min_tokens`."""
DEFAULT_SHARE = 0.25
"""A backend's share of the budget when `shares` does not name it (memory.stack.DEFAULT_SHARE)."""

BUILT_IN = frozenset({"summary", "window", "vector", "core", "notes", "reflection", "facts",
                      "sleeptime", "files"})
"""Backends whose rendering is known here; a plugin may replace the identity block."""

_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_PIECE = re.compile(
    rf"[{_UNSPACED}]{{1,2}}"  # Han, kana, hangul: at most two characters a token
    rf"|[^\W\d_{_UNSPACED}]+(?:'[^\W\d_{_UNSPACED}]+)?"  # a word (with its 's)
    r"|\d{1,3}"  # digits: at most three a token
    r"|[\U0001F000-\U0001FAFF\u2600-\u27BF]"  # an emoji or symbol
)


def min_tokens(text: str) -> int:
    """A lower bound on the tokens of `text` for the tokenizers of common models (no tokenizer
    is loaded at validation time): one per word, per three digits, per two Han/kana/hangul
    characters and per emoji; punctuation and other scripts' extra tokens are not counted. The
    JFK persona's identity, 90 tokens for litellm's default encoding, counts 72.
    """
    return len(_PIECE.findall(text))


def identity_holder(memory: MemorySpec, identity: str) -> tuple[str, str] | None:
    """The backend that renders the identity in place of the stack, and the text it always
    renders (core and sleeptime blocks, an always-loaded identity file), or None."""
    plan = memory.plan()
    for name in ("core", "sleeptime"):
        if name in plan:
            blocks = getattr(memory, name)
            persona = blocks.persona if blocks.persona is not None else identity
            return name, persona + "\n" + blocks.human
    files = memory.files
    if "files" in plan and files.identity_file is not None \
            and files.identity_file in files.always:
        return "files", files.seed.get(files.identity_file, identity)
    return None


def memory_budget_problem(memory: MemorySpec, identity: str) -> str | None:
    """Why a condition's budget cannot be met whatever the model, or None.

    Args:
        memory: the agent's memory condition.
        identity: the persona's identity text.

    Returns:
        `"<field>: <message>"` with the field relative to the memory spec, or None.
    """
    plan = memory.plan()
    budget = memory.budget_tokens
    holder = identity_holder(memory, identity)
    if holder is not None:
        name, text = holder
        fixed = CORE_FRAME_MIN_TOKENS + min_tokens(text) + MIN_MESSAGE_TOKENS
        share = memory.shares.get(name, DEFAULT_SHARE)
        if fixed > int(budget * share):
            return (f"budget_tokens: {budget} gives {name} memory {int(budget * share)} tokens "
                    f"(shares.{name} {share:g}), but its blocks (the persona's identity) need "
                    f"at least ~{fixed}; raise budget_tokens or shares.{name}")
    elif not set(plan) <= BUILT_IN:
        fixed = 0  # a plugin may render the identity its own way (or not at all)
    else:
        fixed = min_tokens(identity) + MIN_MESSAGE_TOKENS
        if fixed > budget:
            return (f"budget_tokens: {budget} is below the persona's identity alone (at least "
                    f"~{fixed} tokens)")
    for backend in ("summary", "window"):
        keep_last = getattr(memory, backend).keep_last
        if backend in plan and fixed + keep_last * MIN_MESSAGE_TOKENS > budget:
            return (f"{backend}.keep_last: {keep_last} messages cannot fit in budget_tokens "
                    f"{budget}: each message costs at least {MIN_MESSAGE_TOKENS} tokens and the "
                    f"persona's identity at least ~{fixed}; lower keep_last or raise "
                    "budget_tokens")
    return None
