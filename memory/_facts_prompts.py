"""Mem0's two prompts (fact extraction; ADD / UPDATE / DELETE / NOOP against similar facts),
adapted to an agent keeping facts about its user and itself, and robust parsers for replies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

EXTRACT_PROMPT = """You organise the memory of the speaker called "you" below. Extract the \
facts worth remembering from the conversation: facts about the user (name, preferences, \
plans, circumstances), facts about yourself (who you are, what you said you believe, did or \
will do), and facts about the world the conversation relied on. Write each fact as one short \
standalone sentence. Ignore greetings and small talk.

Return JSON only, in this form: {"facts": ["fact one", "fact two"]}
If there is nothing worth remembering, return {"facts": []}

Examples:
User: Hi.
You: Hello! How can I help?
{"facts": []}

User: I'm Anna, I moved to Boston last year and I love sailing.
You: Welcome, Anna. I sail off Hyannis Port myself.
{"facts": ["The user's name is Anna", "The user moved to Boston last year", \
"The user loves sailing", "I sail off Hyannis Port"]}
"""
"""After Mem0's FACT_RETRIEVAL_PROMPT (few-shot, JSON `facts` list)."""

UPDATE_PROMPT = """You manage a memory of facts. You can (1) ADD a fact to the memory, \
(2) UPDATE a fact already in it, (3) DELETE a fact from it, or (4) make no change (NONE).

Compare each new fact with the existing facts and decide, for each:
- ADD: the new fact is not in the memory. Give it a new id.
- UPDATE: an existing fact is about the same thing but the new fact has different or more \
complete information. Keep the existing id; "text" is the updated fact and "old_memory" the \
previous text.
- DELETE: the new fact contradicts an existing fact, which must be removed. Keep its id.
- NONE: the fact is already in the memory, or it is irrelevant.

Existing facts (id and text):
{existing}

New facts:
{new}

Return JSON only, listing every existing fact and every added one, in this form:
{"memory": [{"id": "0", "text": "...", "event": "NONE"}, \
{"id": "1", "text": "...", "event": "UPDATE", "old_memory": "..."}, \
{"id": "2", "text": "...", "event": "ADD"}]}
"""
"""After Mem0's DEFAULT_UPDATE_MEMORY_PROMPT (ids are small integers, as Mem0 maps them so a
model never has to copy a UUID)."""

EVENTS = ("ADD", "UPDATE", "DELETE", "NOOP")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def update_prompt(existing: list[tuple[str, str]], new: list[str]) -> str:
    """The update prompt with existing facts as `id: text` lines and new facts one a line."""
    shown = "\n".join(f'{{"id": "{i}", "text": {json.dumps(t)}}}' for i, t in existing)
    return UPDATE_PROMPT.replace("{existing}", shown or "(none)").replace(
        "{new}", "\n".join(f"- {f}" for f in new))


def find_json(text: str) -> Any:
    """The first JSON object or array in a reply (inside a code fence or not), or None.

    Tries the fenced block, then every `{`/`[` from the left with the JSON decoder, so text
    before or after the JSON (a small model's preamble) does not matter.
    """
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start, char in enumerate(candidate):
            if char not in "{[":
                continue
            try:
                value, _ = decoder.raw_decode(candidate[start:])
            except ValueError:
                continue
            if isinstance(value, (dict, list)):
                return value
    return None


@dataclass(frozen=True)
class Extraction:
    """Facts read from an extraction reply, and how they were read.

    Attributes:
        facts: the facts, stripped, without duplicates.
        parsed: 'json', 'lines' (no JSON: one fact a bulleted line), or 'failed'.
    """

    facts: list[str]
    parsed: str


def parse_facts(reply: str, limit: int) -> Extraction:
    """Facts from `{"facts": [...]}` (or a bare JSON list); without JSON, bulleted lines."""
    value = find_json(reply)
    if isinstance(value, dict):
        value = value.get("facts")
    if isinstance(value, list):
        facts = [" ".join(str(f).split()) for f in value if isinstance(f, (str, int, float))]
        return Extraction(list(dict.fromkeys(f for f in facts if f))[:limit], "json")
    lines = [_BULLET.sub("", line).strip() for line in reply.splitlines()
             if _BULLET.match(line)]
    facts = [line for line in lines if len(line.split()) >= 3]
    if facts:
        return Extraction(list(dict.fromkeys(facts))[:limit], "lines")
    return Extraction([], "failed")


@dataclass(frozen=True)
class Decision:
    """One decided operation: the event, the (prompt) id it concerns, its new text."""

    event: str
    id: str
    text: str


def parse_decisions(reply: str) -> list[Decision] | None:
    """Operations from `{"memory": [{"id", "text", "event"}, ...]}` (or a bare list); None
    when the reply holds no such JSON. Events are upper-cased; NONE becomes NOOP; an unknown
    event is kept as given (and refused when applied)."""
    value = find_json(reply)
    if isinstance(value, dict):
        value = value.get("memory")
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if not isinstance(item, dict):
            continue
        event = str(item.get("event", "")).strip().upper()
        event = "NOOP" if event in ("NONE", "NO_CHANGE", "") else event
        out.append(Decision(event, str(item.get("id", "")).strip(),
                            " ".join(str(item.get("text", "")).split())))
    return out
