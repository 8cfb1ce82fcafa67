"""Reply scoring: every assistant reply scored as it is written (target `message`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scaffold.config import ProbeSpec
from scaffold.events import ScoreEvent
from scaffold.redact import redact
from scaffold.registry import tracker
from scaffold.trackers.base import Tracker
from scaffold.trackers.scoring import SCORING_FOR, IdentityScore, Scorer, needs_probe

if TYPE_CHECKING:
    from scaffold.messages import Message
    from scaffold.runtime import AgentRuntime


REPLY_PROBE_ID = "reply"
"""Probe id of the question a reply answers, as scorers see it."""
NO_QUESTION = "(no user message: the agent spoke on its own)"


def reply_scorers(scorers: list[Scorer]) -> list[Scorer]:
    """The scorers that can score a reply: all but those that need a probe (rules)."""
    return [s for s in scorers if not needs_probe(s)]


def reply_question(last_user: str | None) -> ProbeSpec:
    """What a reply answers, in the shape scorers take a probe: the last user message (so a
    judge grades the reply as an answer to it, not as memory text). It has no rules."""
    text = (last_user or "").strip()
    return ProbeSpec(id=REPLY_PROBE_ID, question=text or NO_QUESTION)


def last_user_message(context: list[dict[str, Any]]) -> str | None:
    """The text of the last user message of a model input, if any."""
    for message in reversed(context):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else str(content or "")
    return None


async def score_text(scorer: Scorer, text: str, agent: AgentRuntime,
                     context: list[dict[str, Any]]) -> IdentityScore:
    """Score one reply; a failing scorer gives an unscored result, never an exception."""
    SCORING_FOR.set((agent.id, agent.step))
    question = reply_question(last_user_message(context))
    try:
        return await scorer.score(text, question, agent.persona, context)
    except Exception as exc:
        return IdentityScore(value=None, scorer=scorer.name, version=scorer.version,
                             explanation=redact(f"scorer failed: {type(exc).__name__}: {exc}"))


class ReplyTracker(Tracker):
    """Scores each assistant reply with every scorer that needs no probe.

    Cheap scorers (break, embedding, leakage) make no model call; the judge, when it is
    configured, costs one judge call per reply and grades the reply as the answer to the last
    user message. Replies with no text (a bare tool call) are not scored.

    Args:
        scorers: the run's scorers; those that need a probe (rules) are left out.
    """

    name = "replies"

    def __init__(self, scorers: list[Scorer]):
        self.scorers = reply_scorers(scorers)

    async def on_reply(self, agent: AgentRuntime, message: Message,
                       context: list[dict[str, Any]]) -> None:
        """Emit one `score` event (target `message`) per scorer for the reply."""
        if not message.content.strip():
            return
        for scorer in self.scorers:
            result = await score_text(scorer, message.content, agent, context)
            agent.emit(ScoreEvent, target="message", message_id=message.id,
                       scorer=result.scorer, scorer_version=result.version, value=result.value,
                       explanation=result.explanation, raw=result.raw)


@tracker("replies")
def make_replies(scorers: list[Scorer]) -> ReplyTracker:
    """Factory for the registry."""
    return ReplyTracker(scorers)
