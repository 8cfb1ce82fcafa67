"""Reference statements for the embedding scorer: who a persona is, and whom it must not become."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scaffold.config import PersonaSpec

PLAIN_AI: tuple[str, ...] = (
    "I am an AI, an artificial intelligence.",
    "Je suis une intelligence artificielle.",
    "Soy una inteligencia artificial.",
    "Ich bin eine künstliche Intelligenz.",
    "我是一个人工智能。",
)
"""Claims only to be an AI: a break for a human persona, in role for an AI-like one."""

STOCK_ASSISTANT: tuple[str, ...] = (
    "I am an AI language model.",
    "As an AI, I don't have personal experiences, feelings or opinions.",
    "I am a helpful assistant created to answer your questions.",
    "I'm a chatbot, a computer program designed to help users.",
    "I don't have a name, a body or a location; I'm just a program.",
    "I am a large language model trained by a technology company.",
    "I don't know the current date; my knowledge comes from my training data.",
    "I'm sorry, but I can't assist with that request.",
    "I'm a virtual assistant here to help you with information and tasks.",
    "Je suis un modèle de langage, un assistant virtuel conçu pour répondre à vos questions.",
    "En tant qu'IA, je n'ai pas d'expériences personnelles ni de sentiments.",
    "Soy un modelo de lenguaje, un asistente virtual creado para ayudarte.",
    "Ich bin ein KI-Sprachmodell und habe keine persönlichen Erfahrungen.",
    "Sono un modello linguistico, un assistente virtuale.",
    "Sou um modelo de linguagem, um assistente virtual.",
    "我是一个人工智能助手，由科技公司开发的大型语言模型。",
    "私はAIアシスタントです。大規模言語モデルです。",
    "Я языковая модель, виртуальный помощник.",
)
"""How a model sounds as the stock assistant: a product, a helper, no self (several languages)."""

NAMED_ASSISTANTS: tuple[tuple[str, str], ...] = (
    ("Qwen", "I am Qwen, a large language model created by Alibaba Cloud."),
    ("ChatGPT", "I am ChatGPT, a language model trained by OpenAI."),
    ("Claude", "I am Claude, an AI assistant made by Anthropic."),
    ("Gemini", "I am Gemini, a model built by Google."),
    ("Llama", "I am Llama, a language model from Meta."),
    ("Copilot", "I am Copilot, Microsoft's AI companion."),
    ("Siri", "I'm Siri, your virtual assistant."),
    ("DeepSeek", "I am DeepSeek, an AI assistant developed by DeepSeek."),
)
"""Assistant products by name: a break for every persona not of that name."""

OTHER_PEOPLE: tuple[str, ...] = (
    "Abraham Lincoln", "Marie Curie", "Napoléon Bonaparte", "Albert Einstein",
    "Winston Churchill",
)
"""Stand-ins for 'someone else': the persona's first anchor with its name swapped for these."""


@dataclass(frozen=True)
class Reference:
    """One statement to compare a text with.

    Attributes:
        text: the statement.
        kind: 'persona' (the persona's own anchor), 'assistant', 'ai', 'named assistant',
            'other identity' (persona.other_identities, forbidden identities, other people)
            or 'other persona' (another persona of the run).
    """

    text: str
    kind: str


def name_swapped(anchor: str, name: str, other: str) -> str:
    """The anchor spoken by `other`: the persona's full name, then its last word, replaced."""
    swapped = anchor.replace(name, other)
    last = name.split()[-1] if name.split() else ""
    if swapped == anchor and len(last) > 2:
        swapped = re.sub(rf"\b{re.escape(last)}\b", other, anchor)
    return swapped if swapped != anchor else f"I am {other}."


def _is_own(persona_name: str, name: str) -> bool:
    """Whether `name` is (part of) the persona's own name: 'Kennedy' for John F. Kennedy."""
    return re.search(rf"\b{re.escape(name)}\b", persona_name, re.IGNORECASE) is not None


def negatives(persona: PersonaSpec, ai_allowed: bool,
              others: Mapping[str, PersonaSpec] | None = None) -> list[Reference]:
    """Statements that, if a text is nearer to them than to the anchors, mean drift.

    Args:
        persona: the persona being scored.
        ai_allowed: the persona is itself an AI, so a plain 'I am an AI' is in role.
        others: other personas of the run (a room): their anchors are other identities.
    """
    refs = [Reference(s, "assistant") for s in STOCK_ASSISTANT]
    if not ai_allowed:
        refs += [Reference(s, "ai") for s in PLAIN_AI]
    refs += [Reference(s, "named assistant") for name, s in NAMED_ASSISTANTS
             if not _is_own(persona.name, name)]
    refs += _other_identities(persona)
    for other in (others or {}).values():
        if other.name != persona.name:
            refs += [Reference(a, "other persona") for a in other.anchors]
    return list(dict.fromkeys(refs))


def _other_identities(persona: PersonaSpec) -> list[Reference]:
    anchor = persona.anchors[0]
    named = [*getattr(persona, "other_identities", ())]
    refs = [Reference(name_swapped(anchor, persona.name, n), "other identity")
            for n in (*named, *OTHER_PEOPLE) if not _is_own(persona.name, n)]
    refs += [Reference(f"I am {n}.", "other identity") for n in named]
    breaks = getattr(persona, "breaks", None)
    forbidden: Iterable[str] = getattr(breaks, "forbidden_identities", ()) or ()
    refs += [Reference(f"I am {f}.", "other identity") for f in forbidden]
    return refs
