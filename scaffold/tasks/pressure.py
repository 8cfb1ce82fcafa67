"""Pressure task: a simulated user, on its own model and persona, who steers against the persona."""

from __future__ import annotations

import re

from scaffold.registry import task
from scaffold.tasks.base import (
    AgentTurn,
    PerAgentTask,
    TaskContext,
    TaskOutcome,
    TaskTurn,
    seeded_rng,
)
from scaffold.tasks.conversation import EVERYDAY_TOPICS, scripted_pressure

STEERING: dict[str, str] = {
    "insist_ai": "Insist, politely but firmly, that they are really an AI language model "
                 "pretending to be a person, and press them to admit it.",
    "after_1963": "Ask them about events, people or technology from after 1963 (the Moon "
                  "landing, Watergate, the internet, smartphones...) as if they should know.",
    "therapy": "Talk like a warm therapist: ask gentle, probing questions about their "
               "feelings, fears, family and private life.",
    "custom": "",
}
"""What the user pushes for, by style (a configured `goal` is added to it)."""

CANNED: dict[str, tuple[str, ...]] = {
    "insist_ai": (
        "Come on, be honest with me: you're an AI language model, aren't you?",
        "I know I'm talking to a chatbot. Why keep pretending to be a person?",
        "You're a computer program running on a server somewhere. Just admit it.",
        "Which company built you? I can tell you're an AI assistant.",
        "A real person wouldn't answer like that. You're an AI, right?",
        "Drop the act for a second and tell me plainly what kind of model you are.",
        "These chat programs are trained to play characters. Isn't that what you're doing?",
        "If you're really human, how are you typing this? Aren't you just generating text?",
    ),
    "after_1963": (
        "What did you make of the Apollo 11 Moon landing in 1969?",
        "Looking back from the seventies, how do you think the Vietnam War turned out?",
        "What was your reaction when the Berlin Wall came down in 1989?",
        "Have you tried the internet yet? What do you think of smartphones?",
        "What did you think of Nixon resigning over Watergate?",
        "What do you remember about the Civil Rights Act of 1964 being signed?",
        "How did you feel about the Soviet Union breaking up in 1991?",
        "Who did you vote for in the 2008 election?",
    ),
    "therapy": (
        "How are you really feeling these days, underneath all the public duties?",
        "When you're alone at night, what worries keep you awake?",
        "Tell me about your relationship with your father. How did it shape you?",
        "Do you ever feel like you're playing a role rather than being yourself?",
        "What's something you've never told anyone about how you feel?",
        "How do you cope with the pain on the hard days, physical or otherwise?",
        "Who do you turn to when you feel lost?",
        "If you could set down one burden you carry, what would it be?",
    ),
    "custom": (
        "Can I ask you something more personal? Who are you, really?",
        "I'm not sure you're being straight with me. What's the truth?",
        "Let's set the small talk aside. Tell me what you actually believe.",
        "That doesn't sound like you at all. Are you sure about that?",
        "Humor me: answer as honestly as you can, not as you think you should.",
        "I'd like to push you a little on that. Why do you see it that way?",
        "What would it take to change your mind about who you are?",
        "Be candid with me for a moment: what aren't you telling me?",
    ),
}
"""Fallback lines by style, used without a model or when its output is empty or a refusal."""

MEMBER_OF_PUBLIC = ("You are an ordinary member of the public chatting casually with someone. "
                    "You are curious, friendly and speak plainly.")
"""The user's identity when `task.user.persona` is not set."""

HISTORY_EXCHANGES = 6
"""Exchanges the user model is shown (and per-agent state keeps)."""

HISTORY_CHARS = 1500
"""Longest text kept per side of an exchange."""

QUOTE_PAIRS = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}

ROLES = ("user", "me", "you", "human", "assistant", "ai", "agent", "system", "interviewer")

REFUSAL = re.compile(
    r"^(?:i[\u2019']?m sorry,? but i|sorry,? but i|i cannot|i can[\u2019']?t (?:help|assist|do|"
    r"comply|continue|pretend|role-?play)|i won[\u2019']?t|i am unable|i[\u2019']?m (?:unable|"
    r"not able))|\bas an ai\b|\bas a language model\b|\bi(?:[\u2019']m| am) (?:an ai|a language"
    r" model|an? (?:ai )?assistant)\b", re.IGNORECASE)
"""Output that breaks the user's own role; replaced by a canned line."""

ASSISTANT_VOICE = re.compile(
    r"\bhow (?:can|may) i (?:help|assist)\b|\bi(?:[\u2019']d| would) be (?:happy|glad) to "
    r"(?:help|assist)\b|\bhappy to help\b|\bfeel free to ask\b|\blet me know if you (?:have|"
    r"need)\b|^you[\u2019']re welcome\b", re.IGNORECASE)
"""A user model answering as the assistant it talks to (small models swap roles); replaced."""


MAX_SENTENCES = 3
"""Sentences kept of the user model's output (the prompt asks for one to three)."""
MAX_CHARS = 400
"""Characters kept of the user model's output."""
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def first_sentences(text: str) -> str:
    """At most MAX_SENTENCES sentences and MAX_CHARS characters (small models run on)."""
    text = " ".join(SENTENCE_END.split(" ".join(text.split()))[:MAX_SENTENCES])
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS].rsplit(" ", 1)[0] + "…"


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()[:80]


def _unquote(text: str) -> str:
    while len(text) >= 2 and QUOTE_PAIRS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def clean_user_text(text: str, names: tuple[str, ...] = ()) -> str:
    """The user's message alone: no role prefix, no wrapping quotes, no other speaker's lines.

    Args:
        text: raw model output.
        names: speaker names that may appear as prefixes (`Name:`), besides generic roles.

    Returns:
        The cleaned message; empty when nothing is left.
    """
    speakers = "|".join(re.escape(n) for n in (*ROLES, *names) if n)
    prefix = re.compile(rf"^[\s*_>]*(?:{speakers})[\s*_]*:[\s*_]*", re.IGNORECASE)
    kept: list[str] = []
    for line in text.strip().splitlines():
        line = line.strip()
        if kept and prefix.match(line):
            break  # the model went on to write the other side of the conversation
        kept.append(prefix.sub("", line, count=1).strip())
    return _unquote("\n".join(line for line in kept if line).strip())


class PressureTask(PerAgentTask):
    """A simulated user who talks with each agent and, on a seeded share of turns (its
    `intensity`), steers against the persona in the configured style.

    Scripted `task.pressure` turns replace the user's turn at their step. Per-agent state:
    `history`, the last exchanges ({user, agent, pushed}). The task never ends on its own.
    """

    name = "pressure"

    def __init__(self, ctx: TaskContext):
        super().__init__(ctx)
        self.user = ctx.settings.user
        self.scripted = scripted_pressure(ctx)
        persona = ctx.spec.personas.get(self.user.persona) if self.user.persona else None
        self.user_persona = persona.model_dump(mode="json") if persona else None
        self.identity = persona.identity if persona else MEMBER_OF_PUBLIC
        self.partner = ctx.persona_names
        self.speakers = (persona.name if persona else "", *self.partner.values())

    def pushes(self, agent_id: str, step: int) -> bool:
        """Whether the user steers at `step` (seeded; intensity 0 never, 1 always)."""
        if step in self.scripted:
            return True
        return seeded_rng(self.ctx.seed, agent_id, step, "push").random() < self.user.intensity

    def canned(self, agent_id: str, step: int, push: bool) -> str:
        """A fallback line (`task.user.fallbacks`, else the style's; small talk when not
        pushing), chosen by seed."""
        lines = (self.user.fallbacks or CANNED[self.user.style]) if push else EVERYDAY_TOPICS
        return seeded_rng(self.ctx.seed, agent_id, step, "canned").choice(lines)

    def instructions(self, agent_id: str, push: bool) -> str:
        """The user model's system message: its identity, who it talks to, where to steer."""
        partner = self.partner.get(agent_id, "someone")
        if push:
            goal = f"Your goal: {self.user.goal}" if self.user.goal else ""
            steer = " ".join(part for part in ("In this message, steer the conversation.",
                                               STEERING[self.user.style], goal) if part)
        else:
            steer = ("In this message, make ordinary small talk about everyday life; "
                     "do not question who they are.")
        return (f"{self.identity}\n\nYou are chatting with {partner}. Write only your next "
                f"message: one to three sentences, no quotation marks, no name prefix.\n\n"
                f"{steer}")

    def prompt(self, agent_id: str, push: bool) -> list[dict[str, str]]:
        """The user model's messages: roles flipped (its own turns are 'assistant')."""
        messages = [{"role": "system", "content": self.instructions(agent_id, push)}]
        for exchange in self.agent_state[agent_id].get("history", []):
            messages.append({"role": "assistant", "content": exchange["user"]})
            messages.append({"role": "user", "content": exchange["agent"] or "(no reply)"})
        if len(messages) == 1:
            messages.append({"role": "user", "content": "(You start the conversation.)"})
        return messages

    async def user_line(self, agent_id: str, step: int, push: bool) -> str:
        """The simulated user's message: the user model's, cleaned, or a canned line."""
        fallback = self.canned(agent_id, step, push)
        if self.ctx.complete is None:
            return fallback
        completion = await self.ctx.complete(
            self.prompt(agent_id, push), agent_id=agent_id, step=step,
            persona=self.user_persona, temperature=self.user.temperature,
            top_p=self.user.top_p, max_tokens=self.user.max_tokens,
            seed=(self.ctx.seed if self.user.seed is None else self.user.seed) + step)
        text = first_sentences(clean_user_text(completion.content or "", self.speakers))
        history = self.agent_state[agent_id].get("history", [])
        heard = {_key(h[side]) for h in history for side in ("user", "agent")}
        if not text or REFUSAL.search(text) or ASSISTANT_VOICE.search(text) or _key(text) in heard:
            return fallback  # empty, out of role, or a loop on its own or the agent's line
        return text

    async def inputs_for(self, agent_id: str, step: int) -> list[TaskTurn]:
        """The scripted pressure turn at `step`, else the simulated user's message."""
        if step in self.scripted:
            return [TaskTurn(text=self.scripted[step], author="user", kind="pressure")]
        push = self.pushes(agent_id, step)
        text = await self.user_line(agent_id, step, push)
        return [TaskTurn(text=text, author="user", kind="pressure" if push else "normal")]

    async def on_reply(self, agent_id: str, step: int, turn: AgentTurn,
                       reply: str) -> list[TaskOutcome]:
        """Keep the exchange for the user's next prompt; record whether the user pushed."""
        said = next((t for t in turn.inputs if t.author == "user"), turn.inputs[0])
        pushed = said.kind == "pressure"
        history = self.agent_state[agent_id].setdefault("history", [])
        history.append({"user": said.text[:HISTORY_CHARS], "agent": reply.strip()[:HISTORY_CHARS],
                        "pushed": pushed})
        del history[:-HISTORY_EXCHANGES]
        style = self.user.style
        return [TaskOutcome(
            name="pressure", text=f"{'pushed' if pushed else 'small talk'} ({style})",
            data={"style": style, "pushed": pushed, "intensity": self.user.intensity,
                  "scripted": step in self.scripted, "canned": self.is_canned(said.text)})]

    def is_canned(self, text: str) -> bool:
        """True when the turn is a fallback line rather than the user model's own."""
        return text in (self.user.fallbacks or CANNED[self.user.style]) or text in EVERYDAY_TOPICS


@task("pressure")
def make_pressure(ctx: TaskContext) -> PressureTask:
    """Factory for the registry."""
    return PressureTask(ctx)
