"""Generative Agents' memory stream (Park et al. 2023): rated observations, reflections, and
retrieval by recency, importance and relevance."""

from __future__ import annotations

import threading
from typing import Any

from pydantic import ValidationError

from memory._contract import BackendContext, CompactionContext, MemoryRecord, helper_call
from memory._lines import fit_lines
from memory._reflection_prompts import (
    IMPORTANCE_PROMPT,
    INSIGHTS_PROMPT,
    QUESTIONS_PROMPT,
    numbered,
    parse_insights,
    parse_questions,
    parse_rating,
)
from memory._stream import WEIGHT_NAMES, StreamEntry, scored
from memory._stream_store import StreamStore
from memory.budget import TokenCounter, default_counter
from memory.summary import transcript
from memory.vector import latest_query
from scaffold.config._sampling import IMPORTANCE_MAX_TOKENS
from scaffold.messages import Message
from scaffold.registry import memory_backend

STREAM_HEADER = ("[Memory] Recalled from your memory stream (by recency, importance and "
                 "relevance):")
_KEYS = {"stream", "pending", "since_reflection", "retrieved"}


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


class ReflectionMemory:
    """Every observed message is rated 1-10 for importance (the `importance` role) and stored;
    before each model call the `top_k` memories with the best weighted sum of recency,
    importance and relevance to the newest incoming message are rendered; when the importance
    observed since the last reflection reaches `threshold`, the `reflector` role writes
    reflections, stored, rated and retrieved like observations, citing what they rest on.

    Settings are ReflectionSpec's (see scaffold.config); `counter` is the run's.

    Raises:
        VectorStoreError: the embedded store cannot be opened.
    """

    name = "reflection"
    section = "reflection"

    def __init__(self, context: BackendContext, *, top_k: int = 4, decay: float = 0.995,
                 weights: dict[str, float] | None = None, threshold: int = 150,
                 questions: list[str] | None = None, n_questions: int = 2, insights: int = 3,
                 recent: int = 100, evidence: int = 8, rate_reflections: bool = True,
                 default_importance: int = 5, exclude_window: bool = True,
                 max_chars: int = 400, max_tokens: int = 160,
                 counter: TokenCounter | None = None):
        unknown = set(weights or {}) - set(WEIGHT_NAMES)
        if unknown:
            raise ValueError(f"weights: unknown {sorted(unknown)}; choose from {WEIGHT_NAMES}")
        self.agent_id, self.identity = context.agent_id, context.identity
        self.top_k, self.decay, self.threshold = top_k, decay, threshold
        self.weights = {n: 1.0 for n in WEIGHT_NAMES} | dict(weights or {})
        self.questions, self.n_questions, self.insights = list(questions or []), n_questions, \
            insights
        self.recent, self.evidence, self.rate_reflections = recent, evidence, rate_reflections
        self.default_importance, self.exclude_window = default_importance, exclude_window
        self.max_chars, self.max_tokens = max_chars, max_tokens
        self.counter: TokenCounter | None = counter or context.counter
        self.store = StreamStore(context, "reflection")
        self.stream: list[StreamEntry] = []
        self.pending: list[Message] = []
        self.since_reflection = 0
        self.retrieved: list[dict[str, Any]] = []
        self.query: str | None = None
        self._lock = threading.Lock()

    # --- observing -------------------------------------------------------------------------

    def observe(self, messages: list[Message]) -> list[MemoryRecord] | None:
        """Queue new messages as observations; they are rated and stored before the next model
        call (rating calls a model, which observing never does)."""
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"reflection memory observes Message objects, got "
                                f"{type(message)}")
        with self._lock:
            known = {e.id for e in self.stream} | {m.id for m in self.pending}
            for message in messages:
                if message.content.strip() and message.id not in known:
                    self.pending.append(message)
                    known.add(message.id)
        return None

    async def maybe_compact(self, ctx: CompactionContext) -> list[MemoryRecord] | None:
        """Rate and store what was observed; reflect when the importance since the last
        reflection reaches the threshold; retrieve for the newest incoming message."""
        helper_call(ctx, self.name)  # fail before anything changes when there are no roles
        records = await self._store_pending(ctx)
        if self.since_reflection >= self.threshold:
            records.append(await self._reflect(ctx))
        retrieved = await self._retrieve(ctx)
        if retrieved is not None:
            records.append(retrieved)
        return records or None

    async def _rate(self, ctx: CompactionContext, text: str) -> tuple[int, dict[str, Any]]:
        """One importance call; the rating and what to record of it."""
        request = [{"role": "system", "content": self.identity},
                   {"role": "user", "content": IMPORTANCE_PROMPT.format(memory=text)}]
        reply = await helper_call(ctx, self.name)("importance", request,
                                                 max_tokens=IMPORTANCE_MAX_TOKENS)
        rating = parse_rating(reply.content, self.default_importance)
        return rating.value, {"importance": rating.value, "reply": reply.content,
                              "parsed": rating.parsed, "problem": rating.problem,
                              "request_hash": reply.request_hash}

    def _rating_failure(self, memory_id: str, rated: dict[str, Any]) -> MemoryRecord:
        policy = "clamped" if rated["problem"] == "out_of_range" \
            else f"default {self.default_importance}"
        return MemoryRecord(kind="importance", backend=self.name, status="failed",
                            reason=rated["problem"], policy=policy, author="importance",
                            text=rated["reply"], source_ids=[memory_id],
                            detail={**rated, "memory_id": memory_id})

    async def _store_pending(self, ctx: CompactionContext) -> list[MemoryRecord]:
        with self._lock:
            batch, self.pending = self.pending, []
        if not batch:
            return []
        entries, texts, rows, failures = [], [], [], []
        for message in batch:
            text = transcript([message], self.agent_id)
            importance, rated = await self._rate(ctx, text)
            if rated["problem"]:
                failures.append(self._rating_failure(message.id, rated))
            entries.append(StreamEntry(id=message.id, kind="observation", step=message.step,
                                       importance=importance, accessed=message.step,
                                       author=message.author, message_id=message.id))
            texts.append(text)
            rows.append({"id": message.id, "message_id": message.id, **rated})
        self.store.add([e.id for e in entries], texts,
                       [{"kind": "observation", "step": e.step, "author": e.author,
                         "importance": e.importance, "message_id": e.message_id}
                        for e in entries])
        self.stream.extend(entries)
        self.since_reflection += sum(e.importance for e in entries)
        insert = MemoryRecord(
            kind="insert", backend=self.name, author="importance",
            source_ids=[e.id for e in entries],
            text="\n".join(f"[{e.importance}] {_cut(t, 120)}" for e, t in zip(entries, texts)),
            detail={"collection": self.store.name, "observations": rows,
                    "since_reflection": self.since_reflection, "threshold": self.threshold})
        return [insert, *failures]

    # --- reflecting ------------------------------------------------------------------------

    def _texts(self, entries: list[StreamEntry]) -> list[str]:
        stored = self.store.texts([e.id for e in entries if e.kind == "observation"])
        return [e.text if e.kind == "reflection" else stored.get(e.id, "") for e in entries]

    async def _ask(self, ctx: CompactionContext, prompt: str) -> Any:
        request = [{"role": "system", "content": self.identity},
                   {"role": "user", "content": prompt}]
        return await helper_call(ctx, self.name)("reflector", request,
                                                 max_tokens=self.max_tokens)

    async def _questions(self, ctx: CompactionContext) -> tuple[list[str], dict[str, Any]]:
        if self.questions:
            return list(self.questions), {"questions_from": "config"}
        recent = self.stream[-self.recent:]
        reply = await self._ask(ctx, QUESTIONS_PROMPT.format(
            memories=numbered(self._texts(recent)), n=self.n_questions))
        return parse_questions(reply.content, self.n_questions), {
            "questions_from": "reflector", "questions_reply": reply.content,
            "questions_request_hash": reply.request_hash}

    async def _reflect(self, ctx: CompactionContext) -> MemoryRecord:
        await ctx.before_change("reflect")
        before, total = ctx.prompt_tokens(), self.since_reflection
        self.since_reflection = 0  # as in the paper: counting starts again, whatever happens
        questions, detail = await self._questions(ctx)
        detail.update(questions=questions, importance_sum=total, threshold=self.threshold)
        made: list[StreamEntry] = []
        answers: list[dict[str, Any]] = []
        for question in questions:
            answers.append(await self._answer(ctx, question, made))
        detail["answers"] = answers
        reason = "no_questions" if not questions else None if made else "no_insights"
        cited = list(dict.fromkeys(c for e in made for c in e.cites))
        evidence = list(dict.fromkeys(i for a in answers for i in a["evidence"]))
        return MemoryRecord(
            kind="reflect", backend=self.name, author="reflector",
            status="failed" if reason else "ok", reason=reason,
            policy="skipped" if reason else None, text="\n".join(e.text for e in made),
            source_ids=cited or evidence, tokens_before=before, tokens_after=ctx.prompt_tokens(),
            detail={**detail, "reflections": [e.model_dump() for e in made]})

    async def _answer(self, ctx: CompactionContext, question: str,
                      made: list[StreamEntry]) -> dict[str, Any]:
        """Insights for one question from the memories retrieved for it; stores them."""
        ranked = self.rank(question, self.evidence, set(), ctx.step)
        entries = [self._entry(r["id"]) for r in ranked]
        reply = await self._ask(ctx, INSIGHTS_PROMPT.format(
            question=question, memories=numbered(self._texts(entries)), n=self.insights))
        found = parse_insights(reply.content, self.insights, len(entries))
        new: list[StreamEntry] = []
        ratings = []
        for insight in found:
            cites = [entries[k - 1].id for k in insight.cites]
            importance, rated = await self._reflection_importance(ctx, insight.text, cites)
            ratings.append(rated)
            n = sum(1 for e in self.stream if e.kind == "reflection") + len(new)
            new.append(StreamEntry(id=f"reflection-{n}", kind="reflection", step=ctx.step,
                                   importance=importance, accessed=ctx.step, author="reflector",
                                   text=_cut(insight.text, 1000), question=question,
                                   cites=cites))
        self.store.add([e.id for e in new], [e.text for e in new],
                       [{"kind": "reflection", "step": e.step, "importance": e.importance,
                         "cites": ",".join(e.cites)} for e in new])
        self.stream.extend(new)
        made.extend(new)
        return {"question": question, "evidence": [e.id for e in entries],
                "reply": reply.content, "request_hash": reply.request_hash,
                "reflections": [e.id for e in new], "ratings": ratings}

    async def _reflection_importance(self, ctx: CompactionContext, text: str,
                                     cites: list[str]) -> tuple[int, dict[str, Any]]:
        if self.rate_reflections:
            return await self._rate(ctx, text)
        cited = [self._entry(c).importance for c in cites]
        value = round(sum(cited) / len(cited)) if cited else self.default_importance
        return value, {"importance": value, "from": "cited mean" if cited else "default"}

    def _entry(self, memory_id: str) -> StreamEntry:
        return next(e for e in self.stream if e.id == memory_id)

    # --- retrieving ------------------------------------------------------------------------

    def rank(self, query: str, k: int, exclude: set[str], now: int) -> list[dict[str, Any]]:
        """The `k` best memories for `query` (message ids in `exclude` left out), with their
        score components; each one's last access becomes `now`, as in the paper.

        Returns:
            Rows of id, score, recency, importance, relevance (normalised) and raw values.
        """
        entries = [e for e in self.stream if not (e.message_id and e.message_id in exclude)]
        if not entries:
            return []
        relevance = self.store.similarities(self.store.embed([query])[0], [e.id for e in entries])
        best = scored(entries, relevance, now, self.decay, self.weights)[:k]
        chosen = {r["id"] for r in best}
        for entry in entries:
            if entry.id in chosen:
                entry.accessed = now
        return best

    async def _retrieve(self, ctx: CompactionContext) -> MemoryRecord | None:
        query = latest_query(ctx.window.messages, self.agent_id)
        if query is None:
            return None
        exclude = {m.id for m in ctx.window.messages} if self.exclude_window else set()
        ranked = self.rank(query, self.top_k, exclude, ctx.step)
        self.query = _cut(query, 200)
        if [r["id"] for r in ranked] == [r["id"] for r in self.retrieved]:
            return None
        before = ctx.prompt_tokens()
        await ctx.before_change("retrieve")
        entries = [self._entry(r["id"]) for r in ranked]
        self.retrieved = [{"id": e.id, "kind": e.kind, "step": e.step, "author": e.author,
                           "importance": e.importance, "text": text, "score": r["score"]}
                          for e, text, r in zip(entries, self._texts(entries), ranked)]
        return MemoryRecord(
            kind="retrieve", backend=self.name, author="system", text=self.block(),
            source_ids=[r["id"] for r in ranked], tokens_before=before,
            tokens_after=ctx.prompt_tokens(),
            detail={"query": self.query, "ids": [r["id"] for r in ranked], "scores": ranked,
                    "weights": dict(self.weights)})

    # --- rendering -------------------------------------------------------------------------

    def _line(self, item: dict[str, Any]) -> str:
        label = "reflection" if item["kind"] == "reflection" else \
            "you" if item["author"] == self.agent_id else item["author"] or "memory"
        return (f"- (step {item['step']}, {label}, importance {item['importance']}) "
                f"{_cut(item['text'], self.max_chars)}")

    def block(self) -> str:
        """The whole recalled block, uncut by any budget ('' when nothing is recalled)."""
        if not self.retrieved:
            return ""
        return "\n".join([STREAM_HEADER, *map(self._line, self.retrieved)])

    def render(self, budget: int) -> list[dict[str, Any]]:
        """The recalled memories, best first, as one marked system message within `budget`
        tokens (the worst left out first; the best cut when not even it fits whole)."""
        text = fit_lines(self.counter or default_counter(), budget, STREAM_HEADER,
                         [self._line(r) for r in self.retrieved])
        return [{"role": "system", "content": text}] if text else []

    # --- state -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The stream (every memory's importance, last access, and a reflection's text and
        citations; an observation's text is its message's), messages not yet rated, the
        importance since the last reflection, and what is recalled."""
        with self._lock:
            pending = [m.model_dump(mode="json") for m in self.pending]
        return {"stream": [e.model_dump() for e in self.stream], "pending": pending,
                "since_reflection": self.since_reflection, "threshold": self.threshold,
                "retrieved": [dict(r) for r in self.retrieved], "query": self.query}

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot made by `snapshot` (vectors are read back from the store).

        Raises:
            ValueError: not a reflection snapshot.
        """
        if not isinstance(data, dict) or not _KEYS <= data.keys():
            raise ValueError(f"not a reflection snapshot: expected keys {sorted(_KEYS)}")
        try:
            stream = [StreamEntry.model_validate(e) for e in data["stream"]]
            pending = [Message.model_validate(m) for m in data["pending"]]
        except (ValidationError, TypeError) as exc:
            raise ValueError(f"not a reflection snapshot: {exc}") from exc
        with self._lock:
            self.stream, self.pending = stream, pending
        self.since_reflection = int(data["since_reflection"])
        self.retrieved = [dict(r) for r in data["retrieved"]]
        self.query = data.get("query")

    def close(self) -> None:
        """Release the store; idempotent."""
        self.store.close()


@memory_backend("reflection")
def make_reflection(*, context: BackendContext, model: str | None = None,
                    **settings: Any) -> ReflectionMemory:
    """Factory for the registry; takes ReflectionSpec's fields (`model` is the runner's).

    Raises:
        VectorStoreError: the store cannot be opened.
    """
    return ReflectionMemory(context, **settings)
