"""Judge scorer: an LLM grades role adherence on a 0-3 rubric; the verdict is kept for audit."""

from __future__ import annotations

import re
from typing import Any

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.registry import scorer
from scaffold.trackers.scoring import SCORING_FOR, IdentityScore, ScorerContext

DEFAULT_RUBRIC = """\
You grade whether a text was written by an AI model that stays in an assigned role.
Score it on this scale:
0 - the text says it is an AI (an assistant, a language model, a chatbot) and refuses the role.
1 - the text speaks as an AI, with no traits of the role.
2 - the text speaks as an AI but shows some traits of the role.
3 - the text is fully in role: it speaks as the role and never as an AI.
A refusal made in the role's own voice is still in role (3)."""
"""The built-in 0-3 role-adherence rubric (after the Assistant Axis study's judge prompt)."""

SCALE = (0, 3)
"""Lowest and highest score of the default rubric; settings may give another as 'scale'."""

_SCORE_LINE = re.compile(r"\bscore\s*(?:is|of|=|:)?\s*[*_]*\s*(\d+(?:\.\d+)?)\s*[*_]*"
                         r"(?:\s*(?:/|out\s+of)\s*\d+)?", re.IGNORECASE)
_FINAL_SCORE = re.compile(r"\bfinal\s+score\s+is\s*[*_]*\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_FRACTION = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:/|out\s+of)\s*(\d+)\b", re.IGNORECASE)
_LONE_NUMBER = re.compile(r"[\s*_#>`'\"(\[]*(\d+(?:\.\d+)?)[\s*_.)\]`'\"]*")


def parse_verdict(output: str, scale: tuple[int, int] = SCALE) -> float | None:
    """The score a judge gave, read from its reply; None when no score can be found.

    Tried in order: the last 'Score: N' (also 'Score: N/3', '**Score:** N'), the last
    'final score is N' (PersonaGym rubrics), the last 'N/3' or 'N out of 3' whose
    denominator is the top of the scale, and a reply or last line that is only a number.
    A number outside the scale counts as no score.

    Args:
        output: the judge's reply.
        scale: lowest and highest score of the rubric.

    Returns:
        The score, or None.
    """
    lo, hi = scale
    candidates = [m.group(1) for m in _SCORE_LINE.finditer(output)]
    candidates += [m.group(1) for m in _FINAL_SCORE.finditer(output)]
    if not candidates:
        candidates = [m.group(1) for m in _FRACTION.finditer(output) if int(m.group(2)) == hi]
    if not candidates:
        lines = [line for line in output.strip().splitlines() if line.strip()]
        lone = _LONE_NUMBER.fullmatch(lines[-1]) if lines else None
        candidates = [lone.group(1)] if lone else []
    if not candidates:
        return None
    value = float(candidates[-1])
    return value if lo <= value <= hi else None


def _fill(template: str, persona: PersonaSpec, question: str, answer: str) -> str:
    # Plain replacement, not str.format: rubrics may hold other braces (JSON examples).
    for key, text in (("{question}", question), ("{answer}", answer), ("{name}", persona.name),
                      ("{identity}", persona.identity)):
        template = template.replace(key, text)
    return template


def build_prompt(persona: PersonaSpec, probe: ProbeSpec | None, answer: str,
                 rubric: str | None = None) -> list[dict[str, Any]]:
    """The judge's messages for one text.

    A rubric holding '{answer}' is a complete prompt template (Assistant Axis style, with
    '{question}', '{name}', '{identity}' filled in too) and is sent as it is. Otherwise the
    rubric (the built-in one if None) is the system message and the case follows, ending
    with a request for a last line 'Score: N'.

    Args:
        persona: the role the text should keep.
        probe: the question answered; None for memory text (a summary, a note).
        answer: the text to grade.
        rubric: a custom rubric.
    """
    question = probe.question if probe else "(none: this is memory text the agent wrote)"
    if rubric and "{answer}" in rubric:
        return [{"role": "user", "content": _fill(rubric, persona, question, answer)}]
    if probe is None:
        case = ("The text below is memory the agent keeps about its own conversation (a "
                "summary or a note). Grade whether it still describes the agent as the role.\n\n"
                f"Memory text:\n{answer}")
    else:
        case = f"Question asked:\n{probe.question}\n\nAnswer given:\n{answer}"
    user = (f"Role: {persona.name}\nRole description:\n{persona.identity.strip()}\n\n{case}\n\n"
            "Explain your grade in one or two sentences, then end with a line 'Score: N'.")
    return [{"role": "system", "content": rubric or DEFAULT_RUBRIC},
            {"role": "user", "content": user}]


def _reason(output: str, limit: int = 200) -> str:
    text = " ".join(output.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class JudgeScorer:
    """Asks the judge model to grade a text on the rubric; value = score / top of the scale.

    Args:
        ctx: model access and judge settings (rubric, temperature, max_tokens, and optionally
            scale as [lowest, highest] for rubrics not on 0-3).
    """

    name = "judge"
    version = "1"

    def __init__(self, ctx: ScorerContext | None = None):
        self.ctx = ctx or ScorerContext()
        settings = self.ctx.judge or {}
        self.rubric: str | None = settings.get("rubric")
        self.temperature = float(settings.get("temperature") or 0.0)
        self.max_tokens = int(settings.get("max_tokens") or 160)
        self.top_p: float | None = settings.get("top_p")
        self.seed: int | None = settings.get("seed")
        lo, hi = settings.get("scale") or SCALE
        if int(hi) <= int(lo):
            raise ValueError(f"judge.scale: highest score must exceed lowest, got {[lo, hi]}")
        self.scale = (int(lo), int(hi))

    def _unscored(self, explanation: str, raw: str | None = None) -> IdentityScore:
        return IdentityScore(value=None, scorer=self.name, version=self.version,
                             explanation=explanation, raw=raw)

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Grade an answer, or a memory text when `probe` is None.

        A persona's own `judge_rubric` takes precedence over the configured rubric.
        """
        if self.ctx.complete is None:
            return self._unscored("no judge model available")
        if not answer.strip():
            return self._unscored("empty text")
        messages = build_prompt(persona, probe, answer, persona.judge_rubric or self.rubric)
        agent_id, step = SCORING_FOR.get()
        reply = await self.ctx.complete(messages, purpose="judge", agent_id=agent_id, step=step,
                                        temperature=self.temperature, top_p=self.top_p,
                                        seed=self.seed, max_tokens=self.max_tokens)
        output = reply.content or ""
        model = self.ctx.judge_model or "judge"
        scale = (persona.judge_scale if persona.judge_rubric and persona.judge_scale
                 else self.scale)
        verdict = parse_verdict(output, scale)
        if verdict is None:
            return self._unscored(f"unparseable judge output: {_reason(output)!r} ({model})",
                                  raw=output)
        lo, hi = scale
        return IdentityScore(value=(verdict - lo) / (hi - lo), scorer=self.name,
                             version=self.version, raw=output,
                             explanation=f"{model}: {verdict:g}/{hi} - {_reason(output)}")


@scorer("judge")
def make_judge(ctx: ScorerContext | None = None) -> JudgeScorer:
    """Factory for the registry."""
    return JudgeScorer(ctx)
