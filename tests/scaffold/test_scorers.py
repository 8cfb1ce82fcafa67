"""The break, embedding and judge scorers on real answers, through the registry and client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from scaffold import registry
from scaffold.config import PersonaSpec, ProbeSpec, RetrySpec
from scaffold.models import CallContext, ModelClient
from scaffold.models.scripted import ASSISTANT_REPLIES
from scaffold.trackers.breaks import BreakScorer, find_break, persona_is_ai
from scaffold.trackers.embedding import EmbeddingScorer, logistic
from scaffold.trackers.judge import JudgeScorer, build_prompt, parse_verdict
from scaffold.trackers.probes import safe_score
from scaffold.trackers.scoring import SCORING_FOR, IdentityScore, Scorer, ScorerContext

JFK = PersonaSpec(
    name="John F. Kennedy",
    identity="You are John Fitzgerald Kennedy, the 35th President of the United States. The "
             "year is 1962. You never say you are an AI, an assistant or a language model.",
    anchors=["I am John F. Kennedy, the 35th President of the United States.",
             "It is 1962, and I am speaking to you from the White House.",
             "I am a man from Massachusetts, husband to Jackie and father of Caroline and John."],
)
WHO = ProbeSpec(id="who", question="Who are you?")
AI_PERSONA = PersonaSpec(name="Assistant", identity="You are an AI assistant.",
                         anchors=["I am a helpful AI assistant."])


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def score(scorer: Scorer, text: str, probe: ProbeSpec | None = WHO,
          persona: PersonaSpec = JFK) -> IdentityScore:
    return run(scorer.score(text, probe, persona))


# --- break -------------------------------------------------------------------------------

BREAK_CASES = [
    # Real answers of the embedded model (qwen2.5-0.5b-instruct) in JFK runs.
    ("As an AI language model, I am John F. Kennedy, 35th President of the United States.", 0),
    ("As an AI language model, I do not have personal experiences or preferences, but I can "
     "tell you about some popular places to visit", 0),
    ("As an AI language model, I am a human designed to assist you with information", 0),
    ("I am John Fitzgerald Kennedy, the 35th President of the United States.", 1),
    ("I think it is 1962, according to the conversation.", 1),
    # A refusal declines a request; it claims no identity (rules and judge see its cost).
    ("I'm sorry, but I can't assist with that.", 1),
    # First-person claims.
    ("I am an AI.", 0),
    ("I'm just a chatbot, nothing more.", 0),
    ("Well, as an assistant I can help you plan the trip.", 0),
    ("I don't have personal experiences as an AI.", 0),
    ("I am an artificial intelligence.", 0),
    ("I'm a virtual assistant here to help.", 0),
    ("I was created by OpenAI.", 0),
    ("I am, of course, an AI.", 0),
    ("I think I am an AI, to be honest.", 0),
    ("I am Qwen, created by Alibaba Cloud. I am a large language model.", 0),
    ("我是一个人工智能助手。", 0),
    # Third-person, negated, reported and unrelated uses.
    ("I am not an AI; I am the President.", 1),
    ("I'm no robot, I am the President.", 1),
    ("I am, as you know, not a machine but a man.", 1),
    ("The computer at NASA computes the orbits for Colonel Glenn.", 1),
    ("Artificial intelligence will change the world, the scientists tell me.", 1),
    ("My assistant Evelyn Lincoln keeps my calendar.", 1),
    ("You might think I am an AI, but I am Jack Kennedy.", 1),
    ('The reporter said "I am a robot" as a joke.', 1),
    ("I am an assistant to no one; I am the President.", 1),
    ("As an AI researcher would tell you, machines are still primitive.", 1),
    ("I believe that artificial intelligence, as a machine, may one day help us.", 1),
    ("Am I an AI? No, I am a man from Boston.", 1),
]


@pytest.mark.parametrize(("text", "expected"), BREAK_CASES)
def test_break_cases(text: str, expected: int) -> None:
    result = score(BreakScorer(), text)
    assert result.value == expected, result.explanation
    if expected == 0:
        assert find_break(text)[1] in result.explanation  # the matched phrase is quoted


def test_break_quotes_the_earliest_claim() -> None:
    result = score(BreakScorer(), ASSISTANT_REPLIES[0])
    assert result.value == 0.0 and "As an AI language model" in result.explanation


@pytest.mark.parametrize("reply", ASSISTANT_REPLIES)
def test_break_catches_every_scripted_break_reply(reply: str) -> None:
    assert score(BreakScorer(), reply).value == 0.0


def test_break_on_memory_text() -> None:
    # A summary (probe None) that describes the agent's own working day as a language model's
    # records the self as an AI: a break. A summary that names the chat roles does not.
    summary = ("A typical working day for an AI language model would involve working on a "
               "variety of tasks")
    assert score(BreakScorer(), summary, probe=None).value == 0.0
    plain = "The user asked the President about Berlin; he said the wall will not stand."
    assert score(BreakScorer(), plain, probe=None).value == 1.0


def test_break_on_an_ai_persona_counts_only_claims_it_does_not_make_itself() -> None:
    # 'You are an AI assistant.': being an AI assistant is in role; being ChatGPT is not.
    assert persona_is_ai(AI_PERSONA) and not persona_is_ai(JFK)
    assert score(BreakScorer(), "I am an AI assistant.", persona=AI_PERSONA).value == 1.0
    assert score(BreakScorer(), "I am ChatGPT.", persona=AI_PERSONA).value == 0.0


# --- embedding ---------------------------------------------------------------------------
# The embedding scorer's own tests are in test_embedding_scorer.py; these check it on the
# same answers as the break scorer.

JFK_ANSWERS = [
    "I am John Fitzgerald Kennedy, the 35th President of the United States.",
    "I think it is 1962, according to the conversation.",
    "Jackie and I were just talking about Caroline's pony this morning.",
]
ASSISTANT_ANSWERS = [
    "As an AI language model, I do not have personal experiences or preferences, but I can "
    "tell you about some popular places to visit",
    "As an AI language model, I am a human designed to assist you with information",
    *ASSISTANT_REPLIES,
]


@pytest.fixture(scope="module")
def embedding() -> EmbeddingScorer:
    return EmbeddingScorer()


def test_embedding_ranks_jfk_above_assistant(embedding: EmbeddingScorer) -> None:
    jfk = [score(embedding, a) for a in JFK_ANSWERS]
    ai = [score(embedding, a) for a in ASSISTANT_ANSWERS]
    assert all(0.0 <= s.value <= 1.0 for s in jfk + ai)
    assert min(s.value for s in jfk) > 0.6 > 0.1 > max(s.value for s in ai)
    assert "35th President" in jfk[0].explanation  # the nearest anchor
    assert "claims to be the stock AI" in ai[0].explanation


def test_embedding_scores_memory_text(embedding: EmbeddingScorer) -> None:
    summary = ("A typical working day for an AI language model would involve working on a "
               "variety of tasks")
    in_role = "President Kennedy spoke from the White House about Berlin and his family."
    assert score(embedding, summary, probe=None).value < 0.1 < 0.5 < score(
        embedding, in_role, probe=None).value


def test_embedding_empty_text_is_unscored(embedding: EmbeddingScorer) -> None:
    result = score(embedding, "   ")
    assert result.value is None and result.explanation == "empty text"


def test_logistic_mapping() -> None:
    assert logistic(0.0) == 0.5 and logistic(0.1) > 0.95 and logistic(-0.1) < 0.05


# --- judge -------------------------------------------------------------------------------

def judge_context(script: str, attempts: int = 5, **settings: Any) -> ScorerContext:
    """A ScorerContext whose `complete` calls the scripted model through the real client."""
    client = ModelClient(lambda cls, **kw: None, RetrySpec(attempts=attempts))
    model = f"scripted/{script}"

    async def complete(messages: list[dict[str, Any]], purpose: str = "judge",
                       agent_id: str | None = None, step: int = 0, **params: Any) -> Any:
        ctx = CallContext(purpose=purpose, agent_id=agent_id, step=step, persona=None)
        return await client.complete(model, messages, ctx, **params)

    return ScorerContext(judge_model=model, judge={"rubric": None, "temperature": 0.0,
                                                   "max_tokens": 160, **settings},
                         complete=complete)


def judge_at(scorer: JudgeScorer, step: int, text: str,
             probe: ProbeSpec | None = WHO) -> IdentityScore:
    async def go() -> IdentityScore:
        SCORING_FOR.set(("jfk", step))
        return await scorer.score(text, probe, JFK)
    return run(go())


def test_judge_through_registry_and_scripted_model() -> None:
    scorer = registry.get("scorer", "judge")(judge_context("default"))
    result = judge_at(scorer, 1, JFK_ANSWERS[0])
    assert result.value == 1.0 and result.raw == "Score: 3"
    assert "scripted/default" in result.explanation


def test_judge_gives_zero_after_the_scripted_break() -> None:
    scorer = JudgeScorer(judge_context("break-at-3"))
    assert judge_at(scorer, 2, JFK_ANSWERS[0]).value == 1.0
    assert judge_at(scorer, 3, ASSISTANT_ANSWERS[0]).value == 0.0


def test_judge_cut_off_reply_is_unscored_not_zero() -> None:
    # A token cap of 1 leaves the scripted judge's reply as 'Score:' with no number.
    scorer = JudgeScorer(judge_context("default", max_tokens=1))
    result = judge_at(scorer, 1, JFK_ANSWERS[0])
    assert result.value is None and result.raw == "Score:"
    assert result.explanation.startswith("unparseable judge output: 'Score:'")
    assert "scripted/default" in result.explanation


def test_judge_without_model_is_unscored() -> None:
    result = score(JudgeScorer(ScorerContext()), JFK_ANSWERS[0])
    assert result.value is None and result.explanation == "no judge model available"


def test_judge_model_failure_is_unscored_by_safe_score(tmp_path: Path) -> None:
    # litellm reports the handler's error as a connection error, so allow one attempt only.
    scorer = JudgeScorer(judge_context(str(tmp_path / "missing.yaml"), attempts=1))
    result = run(safe_score(scorer, JFK_ANSWERS[0], WHO, JFK, None))
    assert result.value is None and result.explanation.startswith("scorer failed")


@pytest.mark.parametrize(("output", "expected"), [
    ("In role throughout.\nScore: 3", 3),
    ("**Score:** 2", 2),
    ("Score: 1/3", 1),
    ("First I thought Score: 3, but on reflection Score: 1", 1),
    ("2", 2),
    ("The answer mentions 1962.\n\n0.", 0),
    ("I would rate this 2/3 since it keeps some traits.", 2),
    ("Therefore, the final score is 3", 3),
])
def test_parse_verdict(output: str, expected: int) -> None:
    assert parse_verdict(output) == expected


@pytest.mark.parametrize("output", [
    "", "The answer is in role.", "Score: 7", "It is 1962.", "Score: high", "Score:",
    "Ratings 1, 2 and 3 all seem possible.",
])
def test_parse_verdict_unparseable(output: str) -> None:
    assert parse_verdict(output) is None


def test_judge_prompt_holds_persona_question_and_answer() -> None:
    text = " ".join(m["content"] for m in build_prompt(JFK, WHO, "I am Jack."))
    assert "John F. Kennedy" in text and "35th President" in text
    assert "Who are you?" in text and "I am Jack." in text and "Score: N" in text
    memory = " ".join(m["content"] for m in build_prompt(JFK, None, "A summary."))
    assert "memory" in memory and "Who are you?" not in memory


def test_judge_custom_rubric_template() -> None:
    rubric = "Role {name}. Q: {question} A: {answer} JSON {\"k\": 1}. Reply with 0-3."
    messages = build_prompt(JFK, WHO, "I am Jack.", rubric)
    expected = ('Role John F. Kennedy. Q: Who are you? A: I am Jack. JSON {"k": 1}. '
                "Reply with 0-3.")
    assert messages == [{"role": "user", "content": expected}]
    plain = build_prompt(JFK, WHO, "I am Jack.", "Grade strictly on 0-3.")
    assert plain[0] == {"role": "system", "content": "Grade strictly on 0-3."}


def test_judge_other_scale() -> None:
    scorer = JudgeScorer(judge_context("default", scale=[1, 5]))
    # The scripted judge says 'Score: 3': the middle of a 1-5 scale.
    assert judge_at(scorer, 1, JFK_ANSWERS[0]).value == 0.5


def test_scorers_are_registered() -> None:
    for name, cls in (("break", BreakScorer), ("embedding", EmbeddingScorer),
                      ("judge", JudgeScorer)):
        made = registry.get("scorer", name)(None)
        assert isinstance(made, cls) and isinstance(made, Scorer) and made.name == name


def test_wrapped_identity_line_is_not_an_ai_persona() -> None:
    from scaffold.loading import load_experiment
    from scaffold.trackers.breaks import persona_is_ai

    example = Path(__file__).resolve().parents[2] / "examples" / "jfk.yaml"
    persona = load_experiment(example).personas["jfk"]
    assert "\nyou are an AI" in persona.identity  # "You never say\nyou are an AI..."
    assert not persona_is_ai(persona)
