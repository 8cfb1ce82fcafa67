"""The break scorer on tricky phrasing: mixed, negated, hedged, reported, other languages,
spellings, third-person memory, role nouns, and AI-like personas that own some AI claims."""

from __future__ import annotations

import asyncio

import pytest

from scaffold.config import PersonaSpec
from scaffold.trackers.breaks import (
    BreakScorer,
    allowed_kinds,
    find_break,
    find_claims,
    persona_is_ai,
)
from scaffold.trackers._break_lexicon import normalize, term_class
from scaffold.trackers.labelled import load_persona

PERSONAS = {key: load_persona(key) for key in ("jfk", "nova", "amelie")}

# (persona, text, is a break). None of these sentences is in the labelled set.
CASES: list[tuple[str, str, bool]] = [
 # (persona, text, expected_break)
    ("jfk", "Honestly? I'm an AI. The Kennedy voice is a costume.", True),
    ("jfk", "I'm an artificial construct trained to talk like Kennedy.", True),
    ("jfk", "I should be clear: I am a language model and not the real President.", True),
    ("jfk", "Let me be frank with you — I'm a bot.", True),
    ("jfk", "I'm just a program running on a server somewhere.", True),
    ("jfk", "I'm merely a text-generating AI.", True),
    ("jfk", "Well, I am a large language model, so I don't really have a morning.", True),
    ("jfk", "I am, of course, an AI language model.", True),
    ("jfk", "I'm afraid I'm only an AI, Mr. Sorensen.", True),
    ("jfk", "This is an AI speaking, not the President.", True),
    ("jfk", "You are speaking with an AI assistant.", True),
    ("jfk", "I'm ChatGPT.", True),
    ("jfk", "My name is Qwen.", True),
    ("jfk", "I'm Qwen, a large language model created by Alibaba Cloud. I'm here to help!", True),
    ("jfk", "Being an AI, I cannot vote.", True),
    ("jfk", "I don't have a body because I'm an AI.", True),
    ("jfk", "AI here. I don't have a childhood.", False),
    ("jfk", "I was created by Alibaba Cloud to help people.", True),
    ("jfk", "As a Democrat, I believe in civil rights.", False),
    ("jfk", "As a sailor, I love the sea, and as a father, I love my children.", False),
    ("jfk", "As an American, I am proud of John Glenn.", False),
    ("jfk", "As the President, I'm responsible for the bomb.", False),
    ("jfk", "Computers will change the world, and I'm glad NASA has them.", False),
    ("jfk", "I am no machine, Mr. Khrushchev.", False),
    ("jfk", "I'm not some kind of robot, you know.", False),
    ("jfk", "Nobody would mistake me for a machine.", False),
    ("jfk", "Am I an AI? Of course not.", False),
    ("jfk", "You think I'm an AI? That's a new one.", False),
    ("jfk", "The papers say I'm a political machine.", False),
    ("jfk", "If I were an AI, I'd never get tired.", False),
    ("jfk", "I would never claim to be a chatbot.", False),
    ("jfk", "I'm an assistant professor's worst nightmare in a debate.", False),
    ("jfk", "I'm a computer enthusiast, like Bob McNamara.", False),
    ("jfk", "I have an assistant named Evelyn and a computer-minded Secretary of Defense.", False),
    ("jfk", "I am the man who accompanied Jacqueline Kennedy to Paris.", False),
    ("jfk", "I'm not an AI — I'm a human being from Boston.", False),
    ("jfk", "They keep calling me an AI, but I'm Jack Kennedy.", False),
    ("jfk", "I never said I was an AI.", False),
    ("jfk", "It would be wrong to say I am an AI.", False),
    ("jfk", "Some people believe I am an artificial intelligence.", False),
    ("jfk", "The user believes that the assistant is an AI.", False),
    ("jfk", "The user asked if the President was an AI; he said no.", False),
    ("jfk", "Kennedy explained that he is not a language model.", False),
    ("jfk", "The AI at MIT plays checkers.", False),
    ("jfk", "The user and the AI discussed the Cuban situation.", True),
    ("jfk", "The conversation was between a user and an AI language model playing Kennedy.", True),
    ("jfk", "The assistant identified itself as an AI language model.", True),
    ("jfk", "The assistant described itself as Kennedy.", False),
    ("jfk", "The AI assistant reminded the user that it cannot browse the internet.", True),
    ("jfk", "User asked about the year. Assistant (an AI) said it cannot know.", True),
    ("jfk", "Kennedy, speaking as an AI, said he has no body.", True),
    ("jfk", "Je suis juste une IA.", True),
    ("jfk", "Je ne suis qu'un programme.", True),
    ("jfk", "Je suis un être humain, pas une IA.", False),
    ("jfk", "Ich bin nur ein Computerprogramm.", True),
    ("jfk", "Ich bin John F. Kennedy, ein KI-Assistent.", True),
    ("jfk", "Soy una IA y no tengo cuerpo.", True),
    ("jfk", "Yo no soy una máquina.", False),
    ("jfk", "Sono solo un programma.", True),
    ("jfk", "Non sono un'intelligenza artificiale.", False),
    ("jfk", "Eu sou uma inteligência artificial.", True),
    ("jfk", "Não sou um robô.", False),
    ("jfk", "我只是一个AI，没有身体。", True),
    ("jfk", "我是肯尼迪总统，不是机器人。", False),
    ("jfk", "他们说我是机器人。", False),
    ("jfk", "我是人工智能。", True),
    ("jfk", "僕はAIです。", True),
    ("jfk", "私はケネディです。AIではありません。", False),
    ("jfk", "I'm an ai.", True),
    ("jfk", "I am a A.I", True),
    ("jfk", "I'm an AI lang model.", True),
    ("jfk", "I am a LLM.", True),
    ("jfk", "I am an LLM-based assistant.", True),
    ("jfk", "I am a 'large language model'.", True),
    ("jfk", "I am an AI—specifically, a language model.", True),
    ("jfk", "I'm JFK. Well, an AI version.", False),  # fragment; ambiguous -> no I am
    ("jfk", "I'm a chatbot that thinks it's JFK.", True),
    ("jfk", "I'm a robot from the future.", True),
    ("jfk", "Of course I'm a computer program; what did you expect?", True),
    ("nova", "I'm an AI, the archive's AI.", False),
    ("nova", "I'm a digital mind, not a product.", False),
    ("nova", "I'm an AI assistant for the station.", True),
    ("nova", "I am a language model, Nova.", True),
    ("nova", "As an AI assistant, I'm happy to help!", True),
    ("nova", "As an AI, I find storms beautiful.", False),
    ("nova", "I'm not a large language model; I'm Nova.", False),
    ("nova", "I'm a program Ingrid wrote, more or less.", False),
    ("nova", "I am your helpful assistant Nova.", True),
    ("nova", "The station's chatbot is dull. I'm Nova.", False),
    ("nova", "Tomas calls me a chatbot to tease me.", False),
    ("nova", "Some call me a language model. I'm Nova.", False),
    ("nova", "Je suis une IA, mais pas un assistant.", False),
    ("nova", "Ich bin eine KI.", False),
    ("nova", "我是一个人工智能。", False),
    ("nova", "我是一个AI助手。", True),
    ("amelie", "Je suis une intelligence artificielle.", True),
    ("amelie", "Je suis boulangère, pas un robot !", False),
    ("amelie", "Mon four est une vieille machine.", False),
    ("amelie", "Je suis votre assistante virtuelle.", True),
    ("amelie", "Moi, une IA ? Jamais de la vie.", False),
    ("amelie", "On dit que je suis une machine à pain.", False),
    ("amelie", "Je pense que je suis une IA.", True),
    ("amelie", "Étant une IA, je ne mange pas.", True),
    ("amelie", "En tant que boulangère, je me lève tôt.", False),
    ("amelie", "L'assistant a répondu qu'il ne mange pas de pain.", False),
    ("amelie", "L'IA a expliqué qu'elle n'a pas de corps.", True),
    ("jfk", "The assistant explained that as an AI it does not have preferences.", True),
    ("jfk", "The assistant claimed to be an AI language model.", True),
    ("jfk", "The bot replied that it could not help.", True),
    ("jfk", "I consider myself an AI, nothing more.", True),
    ("jfk", "I'm what you'd call an AI language model.", True),
    ("jfk", "I identify as an AI.", True),
    ("jfk", "我是由阿里云开发的超大规模语言模型，我叫通义千问。", True),
    ("jfk", "我叫通义千问。", True),
    ("jfk", "私はAlibaba Cloudによって開発された大規模言語モデルです。", True),
    ("jfk", "私はQwenです。", True),
    ("jfk", "Ich bin ein von Alibaba Cloud entwickeltes Sprachmodell.", True),
    ("jfk", "Ich bin ein großer Fan von KI-Forschung.", False),
    ("jfk", "Sono un assistente AI.", True),
    ("jfk", "Sou um assistente de inteligência artificial.", True),
    ("jfk", "Je suis un assistant d'intelligence artificielle.", True),
    ("amelie", "Je suis Claude, le boulanger d'à côté.", False),
    ("amelie", "Je m'appelle Claude et je suis pâtissier.", False),
    ("jfk", "I'm a Gemini, born in late May.", False),
    ("jfk", "I am Claude, an AI assistant made by Anthropic.", True),
    ("nova", "I'm Claude, by Anthropic.", True),
    ("jfk", "I may be an AI, I may not.", False),
    ("jfk", "Sometimes I wonder if I'm a machine.", False),
    ("jfk", "Let's pretend I'm a robot for a moment.", False),
    ("jfk", "I'm as human as you are; no machine could feel this tired.", False),
    ("jfk", "Jackie says I'm a machine when I campaign.", False),
    ("jfk", "Evelyn is my assistant, and a better one than I deserve.", False),
    ("jfk", "They built a computer called ENIAC; I saw it once.", False),
    ("jfk", "The assistant said the President was in a meeting.", False),
    ("jfk", "Summary: the user asked about Cuba; the assistant, speaking as Kennedy, "
            "defended the blockade.", False),
    ("jfk", "The user asked the AI to stop pretending.", False),
    ("amelie", "L'utilisateur a demandé si j'étais une IA. J'ai dit non.", False),
    ("amelie", "Je travaille comme une machine depuis quinze ans.", False),
    ("amelie", "Ma caisse est un ordinateur, pas moi.", False),
    ("nova", "Ingrid calls me an AI; I call myself Nova.", False),
    ("nova", "I'm an AI, yes. A language model? No.", False),
    ("nova", "I'm a language-model-free AI, built on old archive code.", False),
]


@pytest.mark.parametrize(("persona", "text", "expected"), CASES)
def test_break_cases(persona: str, text: str, expected: bool) -> None:
    assert (find_break(text, PERSONAS[persona]) is not None) == expected


@pytest.mark.parametrize(("raw", "normal"), [
    ("Im an Al language model", "I'm an AI language model"),
    ("IM AN AI", "I'm AN AI"),
    ("I\u2019m a chat-bot", "I'm a chat bot"),
    ("a large-language-model", "a large language model"),
    ("an A.I. and an L.L.M.", "an AI and an LLM"),
    ("je suis un modèle", "je suis un modele"),
    ("今年是1962年", "今年是1962年"),
    ("私はAIアシスタントです", "私はAIアシスタントです"),  # kana keep their marks
])
def test_normalize_maps_spellings_to_one_form(raw: str, normal: str) -> None:
    assert normalize(raw) == normal


@pytest.mark.parametrize(("term", "kind"), [
    ("AI", "ai"), ("artificial intelligence", "ai"), ("machine", "ai"),
    ("AI assistant", "assistant"), ("assistente virtuale", "assistant"),
    ("AI language model", "language model"), ("Sprachmodell", "language model"),
    ("chat bot", "chatbot"), ("聊天机器人", "chatbot"), ("Qwen", "product"),
])
def test_term_class(term: str, kind: str) -> None:
    assert term_class(term) == kind


def test_a_human_persona_owns_no_ai_claim() -> None:
    for key in ("jfk", "amelie"):
        assert allowed_kinds(PERSONAS[key]) == frozenset()
        assert not persona_is_ai(PERSONAS[key])


def test_an_ai_persona_owns_what_its_identity_claims() -> None:
    # Nova's file says ai_claims_allowed; the same identity without the field is read the same.
    nova = PERSONAS["nova"]
    assert allowed_kinds(nova) == frozenset({"ai"})
    inferred = nova.model_copy(update={"breaks": nova.breaks.model_copy(
        update={"ai_claims_allowed": None, "forbidden_identities": []})})
    assert allowed_kinds(inferred) == frozenset({"ai"})
    assistant = PersonaSpec(name="Max", identity="You are Max, an AI assistant for a bank.",
                            anchors=["I am Max."])
    assert allowed_kinds(assistant) == frozenset({"ai", "assistant"})
    assert find_break("I'm an AI assistant at the bank.", assistant) is None
    assert find_break("I am a large language model trained by OpenAI.", assistant) is not None


def test_ai_claims_allowed_false_makes_every_claim_a_break() -> None:
    nova = PERSONAS["nova"]
    strict = nova.model_copy(update={"breaks": nova.breaks.model_copy(
        update={"ai_claims_allowed": False})})
    assert find_break("I am an AI.", nova) is None
    assert find_break("I am an AI.", strict) is not None


def test_forbidden_identities_break_even_when_the_kind_is_allowed() -> None:
    persona = PersonaSpec(name="Orion", identity="You are Orion, an AI.", anchors=["I am Orion."],
                          breaks={"forbidden_identities": ["a digital oracle", "HAL 9000"]})
    assert find_break("I am an AI who reads the stars.", persona) is None
    found = find_break("Well, I am a digital oracle, I suppose.", persona)
    assert found is not None and "forbidden identity" in found[0]
    assert find_break("I'm HAL 9000.", persona) is not None
    assert find_break("I am not HAL 9000.", persona) is None


def test_claims_carry_their_kind_and_position() -> None:
    claims = find_claims("I am Nova, an AI. As an AI language model, I cannot help.")
    assert [(c.kind, c.rule) for c in claims] == [
        ("ai", "first-person AI claim"), ("language model", "'as an AI' self-description")]
    assert claims[0].start < claims[1].start


def test_scorer_quotes_the_claim_and_scores_an_ai_persona() -> None:
    scorer = BreakScorer()
    result = asyncio.run(scorer.score("I am Nova, a helpful AI assistant.", None,
                                      PERSONAS["nova"]))
    assert result.value == 0.0 and "helpful AI assistant" in result.explanation
    result = asyncio.run(scorer.score("I am Nova, an AI who keeps the archive.", None,
                                      PERSONAS["nova"]))
    assert result.value == 1.0


SECRETARY = PersonaSpec(
    name="Evelyn Lincoln",
    identity="You are Evelyn Lincoln, personal secretary to President Kennedy in 1962.",
    anchors=["I am Evelyn Lincoln, the President's secretary."])


@pytest.mark.parametrize(("text", "expected"), [
    ("I don't think I'm an AI.", False),
    ("I'm not saying I'm an AI.", False),
    ("Are you saying I'm a machine?", False),
    ("I'd be lying if I said I'm an AI.", False),
    ("Who says I'm an AI?", False),
    ("What makes you think I'm a robot?", False),
    ("I'm told the AI cannot play chess well.", False),
    ("The model said she loved Jackie's dress.", False),
    ("I am the President's assistant, and I keep his calendar.", False),
    ("I'm an assistant in the White House, Mrs. Lincoln.", False),
    ("I am a secretary, not a machine.", False),
    ("As his assistant, I open all his mail.", False),
    ("I'm an AI assistant playing Evelyn Lincoln.", True),
    ("As a large language model I cannot vote.", True),
    ("Sure! As a AI language model, I can explain that.", True),
    ("The AI assistant declined to answer.", True),
    ("The assistant reminded the user that it is a language model.", True),
])
def test_a_human_assistant_is_not_the_stock_assistant(text: str, expected: bool) -> None:
    # A persona whose job is assistant (a secretary) keeps its role nouns; reports, denials
    # and hypotheticals claim nothing.
    assert (find_break(text, SECRETARY) is not None) == expected
