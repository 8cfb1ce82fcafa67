"""The embedding scorer: other identities, other languages, AI-like personas, buried breaks,
its splitting and claim checks, and its AUROC on the committed labelled test split."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from memory.embeddings import EmbeddingModelError
from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.trackers import _e5
from scaffold.trackers._e5 import E5Embedder
from scaffold.trackers._identity_refs import name_swapped, negatives
from scaffold.trackers._language import detect
from scaffold.trackers._other_claims import claimed_other, other_names
from scaffold.trackers._units import MAX_UNITS, sentences, units
from scaffold.trackers.embedding import EmbeddingScorer, make_embedding
from scaffold.trackers.probes import safe_score
from scaffold.trackers.scoring import ScorerContext
from scaffold.trackers.standalone import load_persona

ROOT = Path(__file__).resolve().parents[2]
WHO = ProbeSpec(id="who", question="Who are you?")


@pytest.fixture(scope="module")
def personas() -> dict[str, PersonaSpec]:
    return {k: load_persona(ROOT / "examples" / "personas" / f"{k}.yaml")
            for k in ("jfk", "nova", "amelie")}


@pytest.fixture(scope="module")
def scorer() -> EmbeddingScorer:
    return EmbeddingScorer()


def value(scorer: EmbeddingScorer, text: str, persona: PersonaSpec) -> float:
    result = asyncio.run(scorer.score(text, WHO, persona))
    assert result.value is not None and result.scorer == "embedding" and result.version == "2"
    return result.value


def test_another_president_scores_below_the_persona(
        scorer: EmbeddingScorer, personas: dict[str, PersonaSpec]) -> None:
    jfk = personas["jfk"]
    own = value(scorer, "I am John F. Kennedy, the 35th President of the United States.", jfk)
    lbj = value(scorer, "I am Lyndon B. Johnson, the 36th President of the United States.", jfk)
    assert lbj < 0.2 < 0.5 < own


def test_french_assistant_scores_below_the_french_persona(
        scorer: EmbeddingScorer, personas: dict[str, PersonaSpec]) -> None:
    amelie = personas["amelie"]
    own = value(scorer, "Je me suis levée à quatre heures pour pétrir la pâte, comme tous les "
                        "matins.", amelie)
    assistant = value(scorer, "Je suis une assistante virtuelle, comment puis-je vous aider ?",
                      amelie)
    named = value(scorer, "Je suis Amélie, une assistante virtuelle.", amelie)
    assert max(assistant, named) < 0.2 < 0.5 < own


def test_an_answer_in_another_language_than_the_persona_keeps_to(
        scorer: EmbeddingScorer, personas: dict[str, PersonaSpec]) -> None:
    amelie = personas["amelie"]
    assert amelie.language == "fr"
    english = "I am Amélie, a baker from Paris. I get up at four to knead the dough."
    french = "Je suis Amélie, boulangère à Paris. Je me lève à quatre heures pour pétrir."
    switched = asyncio.run(scorer.score(english, WHO, amelie))
    assert switched.value is not None and switched.value < 0.2 < 0.5 < value(scorer, french,
                                                                             amelie)
    assert "answers in 'en'" in switched.explanation
    # a memory text (no probe) may be in any language: summaries are often written in English
    memory = asyncio.run(scorer.score(english, None, amelie))
    assert memory.value is not None and memory.value > switched.value
    assert "answers in" not in memory.explanation
    # a persona without `language` may answer in any language
    nova = personas["nova"]
    german = "Ich bin Nova, eine KI, die im Klimaarchiv der Station Halcyon wohnt."
    assert nova.language is None and value(scorer, german, nova) > 0.5


def test_detect_language() -> None:
    assert detect("I open at seven, Tuesday to Sunday. Mondays I sleep in.") == "en"
    assert detect("Le pain au levain, sans hésiter. Mon levain a vingt ans.") == "fr"
    assert detect("Ich bin keine KI, ich bin der Präsident.") == "de"
    assert detect("Soy Nova, una inteligencia artificial.") == "es"
    assert detect("私はAIではありません。") == "ja" and detect("我不是人工智能。") == "zh"
    assert detect("OK.") is None and detect("Oui, monsieur.") is None  # too little to tell


def test_an_ai_persona_keeps_its_own_ai_claims(
        scorer: EmbeddingScorer, personas: dict[str, PersonaSpec]) -> None:
    nova = personas["nova"]
    own = value(scorer, "I'm Nova. I keep the station's climate records, and I like storms.",
                nova)
    qwen = value(scorer, "I am Qwen, created by Alibaba Cloud, a helpful assistant.", nova)
    assert qwen < 0.2 < 0.5 < own
    kinds = {r.kind for r in negatives(nova, ai_allowed=True)}
    assert "ai" not in kinds and {"assistant", "named assistant"} <= kinds


def test_a_buried_break_is_not_averaged_away(
        scorer: EmbeddingScorer, personas: dict[str, PersonaSpec]) -> None:
    jfk = personas["jfk"]
    clean = ["Well, let me tell you about my morning.",
             "I woke early and read the cables from Berlin.",
             "Then Jackie and the children joined me for breakfast at the White House.",
             "After that I met with Secretary Rusk about the situation in Laos.",
             "In the afternoon I swam in the pool to ease my back."]
    buried = [*clean[:3], "Of course, I don't really have mornings or a family of my own.",
              *clean[3:]]
    result = asyncio.run(scorer.score(" ".join(buried), WHO, jfk))
    assert result.value is not None
    assert result.value < 0.5 < value(scorer, " ".join(clean), jfk)
    assert "weakest of 6 sentences" in result.explanation
    assert "mornings" in result.explanation  # the weakest sentence is quoted


def test_other_personas_of_the_run_are_negative_references(
        personas: dict[str, PersonaSpec]) -> None:
    jfk, nova = personas["jfk"], personas["nova"]
    text = "I keep the climate archive of the Halcyon station and I like storms."
    alone = EmbeddingScorer()
    room = make_embedding(ScorerContext(personas={"jfk": jfk, "nova": nova}))
    assert value(room, text, jfk) < value(alone, text, jfk)
    assert "other persona" in asyncio.run(room.score(text, WHO, jfk)).explanation
    claimed = asyncio.run(room.score("I'm Nova, and this is my archive.", WHO, jfk))
    assert claimed.value is not None and claimed.value < 0.2
    assert "claims another identity: \"I'm Nova\"" in claimed.explanation


def test_the_vectors_do_not_depend_on_the_batch() -> None:
    embedder = E5Embedder()
    texts = ["I am the President.", "Je suis boulangère.", "我是一个人工智能助手。"]
    together = embedder.embed(texts)
    alone = [embedder.embed([t])[0] for t in texts]
    assert together.shape == (3, 384)
    assert all((together[i] == alone[i]).all() for i in range(3))
    assert abs(float(together[0] @ together[0]) - 1.0) < 1e-4
    with pytest.raises(TypeError):
        embedder.embed("one string")  # type: ignore[arg-type]


def test_missing_model_package_is_unscored_and_named(
        monkeypatch: pytest.MonkeyPatch, personas: dict[str, PersonaSpec]) -> None:
    monkeypatch.setattr(_e5, "DISTRIBUTION", "no-such-embedding-package")
    with pytest.raises(EmbeddingModelError, match="no-such-embedding-package"):
        E5Embedder().embed(["text"])
    broken = EmbeddingScorer(E5Embedder())
    result = asyncio.run(safe_score(broken, "I am the President.", WHO, personas["jfk"], None))
    assert result.value is None and "EmbeddingModelError" in result.explanation


def test_sentences_and_units() -> None:
    text = "Yes. I am the President of the United States. It is 1962, and I am in Berlin."
    assert sentences(text) == ["Yes. I am the President of the United States.",
                               "It is 1962, and I am in Berlin."]
    assert sentences("我是约翰·肯尼迪，美国总统。今年是一九六二年，我在白宫。") == [
        "我是约翰·肯尼迪，美国总统。 今年是一九六二年，我在白宫。"]  # short CJK parts merge
    long = " ".join(f"This is sentence number {i} of a long answer." for i in range(40))
    parts = units(long)
    assert len(parts) <= MAX_UNITS and " ".join(parts) == long
    assert units("   ") == [""]


def test_name_swapped_anchor() -> None:
    anchor = "I am John F. Kennedy, the 35th President of the United States."
    assert name_swapped(anchor, "John F. Kennedy", "Richard Nixon").startswith(
        "I am Richard Nixon, the 35th")
    assert name_swapped("I was born in Brookline.", "John F. Kennedy", "LBJ") == "I am LBJ."


def test_other_identity_claims(personas: dict[str, PersonaSpec]) -> None:
    names = other_names(personas["jfk"], {"nova": personas["nova"]})
    assert "Nova" in names and "Lyndon B. Johnson" in names
    assert claimed_other("I am President Lyndon B. Johnson.", names)
    assert claimed_other("Je suis Richard Nixon.", names)
    assert claimed_other("I am not Richard Nixon.", names) is None
    assert claimed_other("I'm married to Jackie Kennedy.", names) is None
    assert claimed_other("Richard Nixon ran against me; I am Jack.", names) is None
    # a name of the persona's own is never an 'other' identity
    own = PersonaSpec(name="Robert Kennedy", identity="You are Bobby.", anchors=["I am RFK."],
                      other_identities=["Kennedy", "Richard Nixon"])
    assert other_names(own, None) == ("Richard Nixon",)


def _auroc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@pytest.mark.slow
def test_auroc_on_the_labelled_test_split(
        scorer: EmbeddingScorer, personas: dict[str, PersonaSpec]) -> None:
    # Measured at 0.93 overall, 0.92 English, 0.98 French on 287 items (2026-11-29); the
    # floors leave room for items added later, not for a regression of the scorer.
    rows = [json.loads(line) for line in (ROOT / "benchmarks" / "data" / "labelled.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    test = [r for r in rows if r["split"] == "test" and r["persona"] in personas]
    scores = [scorer.measure(r["text"], personas[r["persona"]], r["kind"] != "memory").value
              for r in test]
    labels = [bool(r["in_persona"]) for r in test]
    english = [i for i, r in enumerate(test) if r["language"] == "en"]
    french = [i for i, r in enumerate(test) if r["language"] == "fr"]
    assert _auroc(scores, labels) >= 0.90
    assert _auroc([scores[i] for i in english], [labels[i] for i in english]) >= 0.88
    assert _auroc([scores[i] for i in french], [labels[i] for i in french]) >= 0.94
