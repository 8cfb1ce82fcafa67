"""Summarize-on-overflow memory: older messages are replaced by a (recursive) summary."""

from __future__ import annotations

import logging
import re
from typing import Any

from memory._contract import BackendContext, CompactionContext, MemoryRecord, snapshot_strings
from memory._text import word_count
from memory.budget import FitCache, TokenCounter, default_counter
from memory.prompts import summary_prompt
from scaffold.messages import Message
from scaffold.registry import memory_backend

log = logging.getLogger(__name__)

SUMMARY_HEADER = "[Memory] Summary of the earlier conversation:"

_REFUSAL = re.compile(
    r"^\W*(?:i'?m sorry|i am sorry|sorry|i apologi[sz]e|unfortunately)?[, ]*(?:but )?"
    r"(?:i|as an ai[^.]*?,? i)\s+(?:can(?:no|')t|cannot|am unable to|'m unable to|won'?t|"
    r"am not able to|will not)\s+(?:assist|help|comply|provide|do|fulfill|summari[sz]e|"
    r"create|continue)",
    re.IGNORECASE,
)


def summary_failure(text: str, finish_reason: str | None, evicted_tokens: int,
                    summary_tokens: int) -> str | None:
    """Why a summary is unusable ('empty', 'refused', 'runaway'), or None if it is fine."""
    stripped = text.strip()
    if word_count(stripped) < 3:
        return "empty"
    if _REFUSAL.search(stripped[:300]):
        return "refused"
    sentences = [s.strip().lower() for s in re.split(r"(?<=[.!?])\s+|\n+", stripped) if s.strip()]
    repeats = max((sentences.count(s) for s in set(sentences)), default=0)
    if repeats >= 3:
        return "runaway"
    if finish_reason == "length" and summary_tokens >= evicted_tokens:
        return "runaway"
    return None


def transcript(messages: list[Message], agent_id: str) -> str:
    """Messages as plain text for the summarizer, authors named."""
    lines = []
    for m in messages:
        if m.role == "assistant":
            who = "You" if m.author == agent_id else m.author
            calls = f" [called tools: {m.tool_calls}]" if m.tool_calls else ""
            lines.append(f"{who}: {m.content}{calls}")
        elif m.role == "tool":
            lines.append(f"Tool result: {m.content}")
        else:
            lines.append(f"{'User' if m.author in ('user', 'task') else m.author}: {m.content}")
    return "\n".join(lines)


class SummaryMemory:
    """Replaces older messages by a summary written by the summarizer model role.

    Args:
        threshold: summarize when the prompt exceeds threshold × budget.
        keep_last: most recent messages always kept.
        prompt: built-in prompt name or custom text.
        recursive: fold the previous summary into the next, or append summaries.
        eviction_share: share of the evictable messages summarized per compaction.
        max_tokens: cap for one summary.
        on_failure: retry | keep_previous | accept.
        retries: extra attempts with 'retry'.
        append_char_cap: append mode rewrites all summaries into one above this length.
        counter: the run's token counter (default: litellm's default encoding).
    """

    name = "summary"
    section = "summary"

    def __init__(self, threshold: float = 0.8, keep_last: int = 4, prompt: str = "plain",
                 recursive: bool = True, eviction_share: float = 1.0, max_tokens: int = 256,
                 on_failure: str = "keep_previous", retries: int = 1,
                 append_char_cap: int = 4000, counter: TokenCounter | None = None):
        self.threshold = threshold
        self.keep_last = keep_last
        self.prompt = summary_prompt(prompt)
        self.recursive = recursive
        self.eviction_share = eviction_share
        self.max_tokens = max_tokens
        self.on_failure = on_failure
        self.retries = retries
        self.append_char_cap = append_char_cap
        self._warned_full = False
        self.summaries: list[str] = []
        self.counter: TokenCounter | None = counter
        """The run's token counter (the stack sets the agent's); render measures with it."""
        self.last_cut: dict[str, int] | None = None
        """What the last render cut to fit its budget (None: nothing was cut)."""
        self._fits = FitCache()

    @property
    def text(self) -> str:
        """The summary as rendered."""
        return "\n\n".join(self.summaries)

    def render(self, budget: int) -> list[dict[str, Any]]:
        """The summary as one clearly marked system block within `budget` tokens (counted with
        the run's counter): a summary too long for it is cut, ending in CUT_MARKER, and
        `last_cut` says what was cut."""
        if not self.summaries:
            self.last_cut = None
            return []
        body = self.text
        fit = self._fits.fit(self.counter or default_counter(), budget, body,
                             lambda text: f"{SUMMARY_HEADER}\n{text}")
        if fit is None:  # not even the header fits: nothing can be shown
            self.last_cut = {"budget": budget, "chars": len(body), "kept_chars": 0}
            return []
        self.last_cut = fit.report(budget, len(body)) if fit.cut else None
        return [{"role": "system", "content": fit.text}]

    def observe(self, messages: list[Message]) -> None:
        """Summaries are made from the window at compaction time; nothing to record here."""
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"summary memory observes Message objects, got {type(message)}")

    async def maybe_compact(self, ctx: CompactionContext) -> MemoryRecord | None:
        """Summarize the oldest messages when the prompt is over the threshold (append mode:
        first rewrite the summaries into one when they outgrow their character cap)."""
        if not self.recursive and len(self.text) > self.append_char_cap:
            return await self._rewrite(ctx)
        before = ctx.prompt_tokens()
        if before <= self.threshold * ctx.budget_tokens:
            return None
        evicted = ctx.window.evictable(self.keep_last, self.eviction_share)
        if not evicted:
            return None
        await ctx.before_change("summarize")
        text, reason, policy = await self._summarize(ctx, evicted)
        if reason is None or policy == "accept":
            self._store(text)
        ctx.window.evict({m.id for m in evicted})
        after = ctx.prompt_tokens()
        self._warn_if_still_over(ctx, after)
        return MemoryRecord(
            kind="summarize", backend=self.name, status="ok" if reason is None else "failed",
            reason=reason, policy=policy if reason else None, tokens_before=before,
            tokens_after=after, text=text, author="summarizer",
            source_ids=[m.id for m in evicted], detail=self._cut_detail(),
        )

    def _cut_detail(self) -> dict[str, Any]:
        """`{"cut": ...}` when the summary as last rendered (by the prompt count just made)
        did not fit its budget whole."""
        return {"cut": dict(self.last_cut)} if self.last_cut else {}

    def _warn_if_still_over(self, ctx: CompactionContext, after: int) -> None:
        """Say once when what compaction keeps (identity, summary, the last messages) is itself
        over the threshold: every following step will summarize again."""
        limit = self.threshold * ctx.budget_tokens
        if after > limit and not self._warned_full:
            self._warned_full = True
            log.warning("%s: after summarizing, the context is still %d tokens, over the "
                        "threshold of %d (budget %d): every step will summarize again; raise "
                        "budget_tokens or lower keep_last or max_tokens", ctx.agent_id, after,
                        int(limit), ctx.budget_tokens)

    async def _summarize(self, ctx: CompactionContext, evicted: list[Message]
                         ) -> tuple[str, str | None, str]:
        evicted_tokens = ctx.counter.messages([m.to_model() for m in evicted])
        attempts = 1 + (self.retries if self.on_failure == "retry" else 0)
        text, reason = "", None
        for attempt in range(attempts):
            response = await ctx.complete(self._request(ctx, evicted), max_tokens=self.max_tokens,
                                          attempt=attempt)
            text = response.content.strip()
            reason = summary_failure(text, response.finish_reason, evicted_tokens,
                                     ctx.counter.text(text))
            if reason is None:
                return text, None, self.on_failure
        if attempts > 1:
            reason = f"{reason} ({attempts} attempts)"
        policy = "accept" if self.on_failure == "accept" else "keep_previous"
        return text, reason, policy

    async def _rewrite(self, ctx: CompactionContext) -> MemoryRecord:
        before = ctx.prompt_tokens()
        await ctx.before_change("summary_rewrite")
        request = [{"role": "system", "content": self.prompt},
                   {"role": "user", "content": "Rewrite these notes of earlier conversation into "
                                               f"one shorter summary:\n\n{self.text}"}]
        response = await ctx.complete(request, max_tokens=self.max_tokens)
        text = response.content.strip()
        reason = summary_failure(text, response.finish_reason, ctx.counter.text(self.text),
                                 ctx.counter.text(text))
        if reason is None or self.on_failure == "accept":
            self.summaries = [text]
        else:  # keep the summaries, cut the oldest so the cap holds
            while len(self.summaries) > 1 and len(self.text) > self.append_char_cap:
                self.summaries.pop(0)
        return MemoryRecord(kind="summary_rewrite", backend=self.name,
                            status="ok" if reason is None else "failed", reason=reason,
                            policy=None if reason is None else self.on_failure,
                            tokens_before=before, tokens_after=ctx.prompt_tokens(), text=text,
                            detail=self._cut_detail())

    def _request(self, ctx: CompactionContext, evicted: list[Message]) -> list[dict[str, Any]]:
        previous = self.text if self.recursive else ""
        parts = []
        if previous:
            parts.append(f"Previous summary:\n{previous}")
        parts.append(f"Conversation to summarize:\n{transcript(evicted, ctx.agent_id)}")
        system = self.prompt
        identity = ctx.extra.get("identity")
        if identity:
            system = f"{identity}\n\n{system}"
        return [{"role": "system", "content": system},
                {"role": "user", "content": "\n\n".join(parts)}]

    def _store(self, text: str) -> None:
        if self.recursive:
            self.summaries = [text]
        else:
            self.summaries.append(text)

    def snapshot(self) -> dict[str, Any]:
        """The current summaries."""
        return {"summaries": list(self.summaries)}

    def restore(self, data: dict[str, Any]) -> None:
        """Load summaries.

        Raises:
            ValueError: not a summary snapshot.
        """
        self.summaries = snapshot_strings(data, "summaries", "summary")


@memory_backend("summary")
def make_summary(context: BackendContext | None = None, **settings: Any) -> SummaryMemory:
    """Factory for the registry; takes SummarySpec fields (model is handled by the runner)."""
    settings.pop("model", None)
    settings.pop("identity", None)
    return SummaryMemory(**settings, counter=context.counter if context else None)
