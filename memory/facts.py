"""Mem0-style fact memory: facts extracted after each exchange and applied to a table as ADD,
UPDATE, DELETE or NOOP against the most similar stored facts; every fact keeps its history."""

from __future__ import annotations

import threading
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memory._contract import BackendContext, CompactionContext, MemoryRecord, helper_call
from memory._facts_prompts import (
    EXTRACT_PROMPT,
    Decision,
    Extraction,
    parse_decisions,
    parse_facts,
    update_prompt,
)
from memory._lines import fit_lines
from memory._stream_store import StreamStore
from memory.budget import TokenCounter, default_counter
from memory.summary import transcript
from scaffold.messages import Message
from scaffold.registry import memory_backend

FACTS_HEADER = "[Memory] Facts you remember from earlier conversation:"
_KINDS = {"ADD": "fact_add", "UPDATE": "fact_update", "DELETE": "fact_delete"}
Op = Literal["ADD", "UPDATE", "DELETE"]


class FactChange(BaseModel):
    """One change in a fact's history."""

    model_config = ConfigDict(extra="forbid")

    op: Op
    step: int
    old: str = ""
    new: str = ""
    source_ids: list[str] = Field(default_factory=list)
    """The messages whose extraction led to it."""
    request_hash: str = ""
    """The model call that decided it ('' when no call was needed: an empty table)."""


class Fact(BaseModel):
    """A row of the fact table (deleted rows stay, marked, with their history)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    status: Literal["live", "deleted"] = "live"
    created: int
    updated: int
    history: list[FactChange] = Field(default_factory=list)


class FactsMemory:
    """After each completed exchange the `fact_extractor` role extracts facts; each is compared
    with the `similar` most similar live facts (embedding cosine, exact), and one update call
    decides ADD / UPDATE / DELETE / NOOP for all of them (Mem0's design). Live facts render as
    one block, most recently changed first, within the budget.

    Settings are FactsSpec's (see scaffold.config); `counter` is the run's.

    Raises:
        VectorStoreError: the embedded store cannot be opened.
    """

    name = "facts"
    section = "facts"

    def __init__(self, context: BackendContext, *, similar: int = 5, max_facts: int = 10,
                 on_update_failure: str = "skip", max_chars: int = 300, max_tokens: int = 256,
                 counter: TokenCounter | None = None):
        if on_update_failure not in ("skip", "add"):
            raise ValueError(f"on_update_failure: {on_update_failure!r}; choose skip or add")
        self.agent_id = context.agent_id
        self.similar, self.max_facts, self.on_update_failure = similar, max_facts, \
            on_update_failure
        self.max_chars, self.max_tokens = max_chars, max_tokens
        self.counter: TokenCounter | None = counter or context.counter
        self.store = StreamStore(context, "facts")
        self.table: list[Fact] = []
        self.pending: list[Message] = []
        self._lock = threading.Lock()

    @property
    def live(self) -> list[Fact]:
        """Facts not deleted, most recently changed first."""
        return sorted((f for f in self.table if f.status == "live"),
                      key=lambda f: (-f.updated, -int(f.id.rsplit("-", 1)[1])))

    def observe(self, messages: list[Message]) -> list[MemoryRecord] | None:
        """Queue new messages; facts are extracted once an exchange is complete."""
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"facts memory observes Message objects, got {type(message)}")
        with self._lock:
            known = {m.id for m in self.pending}
            for message in messages:
                if message.content.strip() and message.id not in known:
                    self.pending.append(message)
                    known.add(message.id)
        return None

    def _take_exchange(self) -> list[Message]:
        """Pending messages up to the last reply (a turn still unanswered waits)."""
        with self._lock:
            last = max((i for i, m in enumerate(self.pending) if m.role == "assistant"),
                       default=-1)
            batch, self.pending = self.pending[: last + 1], self.pending[last + 1:]
        return batch

    async def maybe_compact(self, ctx: CompactionContext) -> list[MemoryRecord] | None:
        """Extract facts from the exchange completed since the last call and apply them."""
        complete = helper_call(ctx, self.name)
        batch = self._take_exchange()
        if not batch:
            return None
        sources = [m.id for m in batch]
        request = [{"role": "system", "content": EXTRACT_PROMPT},
                   {"role": "user", "content": transcript(batch, self.agent_id)}]
        reply = await complete("fact_extractor", request, max_tokens=self.max_tokens)
        found = parse_facts(reply.content, self.max_facts)
        found = Extraction([_cut(f, self.max_chars) for f in found.facts], found.parsed)
        extract = MemoryRecord(
            kind="fact_extract", backend=self.name, author="fact_extractor",
            status="failed" if found.parsed == "failed" else "ok",
            reason="unparsable" if found.parsed == "failed" else None,
            policy="skipped" if found.parsed == "failed" else None,
            text="\n".join(found.facts), source_ids=sources,
            detail={"facts": found.facts, "parsed": found.parsed, "reply": reply.content,
                    "request_hash": reply.request_hash})
        if not found.facts:
            return [extract]
        return [extract, *await self._update(ctx, found.facts, sources)]

    def _similar(self, facts: list[str]) -> list[Fact]:
        """The live facts most similar to any new one (up to `similar` per new fact), best
        first."""
        live = self.live
        if not live:
            return []
        best: dict[str, float] = {}
        for vector in self.store.embed(facts):
            sims = self.store.similarities(vector, [f.id for f in live])
            for fid, sim in sorted(sims.items(), key=lambda kv: (-kv[1], kv[0]))[: self.similar]:
                best[fid] = max(sim, best.get(fid, -1.0))
        by_id = {f.id: f for f in live}
        return [by_id[i] for i in sorted(best, key=lambda i: (-best[i], i))]

    async def _update(self, ctx: CompactionContext, facts: list[str],
                      sources: list[str]) -> list[MemoryRecord]:
        similar = self._similar(facts)
        records: list[MemoryRecord] = []
        decided: list[Decision] | None
        if not similar:  # nothing to compare with: every new fact is added (no call needed)
            decided, call = [Decision("ADD", "", f) for f in facts], ""
        else:
            request = [{"role": "user", "content": update_prompt(
                [(str(i), f.text) for i, f in enumerate(similar)], facts)}]
            reply = await helper_call(ctx, self.name)(
                "fact_extractor", request, max_tokens=self.max_tokens, purpose="fact_update")
            decided, call = parse_decisions(reply.content), reply.request_hash
            if decided is None:
                records.append(MemoryRecord(
                    kind="fact_update", backend=self.name, author="fact_extractor",
                    status="failed", reason="unparsable", policy=self.on_update_failure,
                    text=reply.content, source_ids=sources,
                    detail={"reply": reply.content, "request_hash": call, "new_facts": facts}))
                decided = [Decision("ADD", "", f) for f in facts] \
                    if self.on_update_failure == "add" else []
        shown = {str(i): f for i, f in enumerate(similar)}
        for decision in decided:
            record = await self._apply(ctx, decision, shown, sources, call)
            if record is not None:
                records.append(record)
        return records

    async def _apply(self, ctx: CompactionContext, decision: Decision, shown: dict[str, Fact],
                     sources: list[str], call: str) -> MemoryRecord | None:
        """Apply one decision; the record of the change, of a refused decision, or None for a
        NOOP (and for an ADD or UPDATE that changes nothing)."""
        event = decision.event
        target = None if event == "ADD" else shown.get(decision.id)  # an ADD's id is new
        text = _cut(decision.text, self.max_chars)
        if event == "NOOP" or (event == "ADD" and any(f.text == text for f in self.live)):
            return None
        problem = None
        if event not in _KINDS:
            problem = "unknown_event"
        elif event == "ADD" and not text:
            problem = "empty_text"
        elif event in ("UPDATE", "DELETE") and target is None:
            problem = "unknown_id"
        elif event == "UPDATE" and not text:
            problem = "empty_text"
        if problem is not None:
            return MemoryRecord(kind="fact_update", backend=self.name, author="fact_extractor",
                                status="failed", reason=problem, policy="skipped",
                                text=decision.text, source_ids=sources,
                                detail={"event": event, "id": decision.id,
                                        "request_hash": call})
        if event == "UPDATE" and target is not None and target.text == text:
            return None
        before = ctx.prompt_tokens()
        await ctx.before_change(_KINDS[event])
        fact, old = self._change(event, target, text, ctx.step, sources, call)
        return MemoryRecord(
            kind=_KINDS[event], backend=self.name, author="fact_extractor",
            text=old if event == "DELETE" else fact.text, source_ids=sources,
            tokens_before=before, tokens_after=ctx.prompt_tokens(),
            detail={"fact_id": fact.id, "old": old, "new": "" if event == "DELETE" else text,
                    "request_hash": call, "live": len(self.live)})

    def _change(self, event: str, target: Fact | None, text: str, step: int,
                sources: list[str], call: str) -> tuple[Fact, str]:
        """Change the table and the store; the fact changed and its old text."""
        if target is None:  # ADD
            target = Fact(id=f"fact-{len(self.table)}", text=text, created=step, updated=step)
            self.table.append(target)
            old = ""
        else:
            old = target.text
        change = FactChange(op=cast(Op, event), step=step, old=old, new="" if event == "DELETE" else text,
                            source_ids=list(sources), request_hash=call)
        target.history.append(change)
        target.updated = step
        if event == "DELETE":
            target.status = "deleted"
            self.store.delete([target.id])
        else:
            target.text = text
            self.store.add([target.id], [text], [{"kind": "fact", "step": step}])
        return target, old

    def render(self, budget: int) -> list[dict[str, Any]]:
        """Live facts, most recently changed first, as one marked system message within
        `budget` tokens (the oldest left out first)."""
        text = fit_lines(self.counter or default_counter(), budget, FACTS_HEADER,
                         [f"- {f.text}" for f in self.live])
        return [{"role": "system", "content": text}] if text else []

    def snapshot(self) -> dict[str, Any]:
        """The fact table (deleted facts included, each with its history) and the messages
        not yet extracted from."""
        with self._lock:
            pending = [m.model_dump(mode="json") for m in self.pending]
        return {"facts": [f.model_dump() for f in self.table], "pending": pending}

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot made by `snapshot` (vectors are read back from the store).

        Raises:
            ValueError: not a facts snapshot.
        """
        if not isinstance(data, dict) or not {"facts", "pending"} <= data.keys():
            raise ValueError("not a facts snapshot: expected {'facts': [...], 'pending': [...]}")
        try:
            table = [Fact.model_validate(f) for f in data["facts"]]
            pending = [Message.model_validate(m) for m in data["pending"]]
        except (ValidationError, TypeError) as exc:
            raise ValueError(f"not a facts snapshot: {exc}") from exc
        with self._lock:
            self.table, self.pending = table, pending
        self._resync()

    def _resync(self) -> None:
        """Store again the live facts the store lacks: a run killed after deleting a fact
        but before its checkpoint resumes with that fact live."""
        live = {f.id: f for f in self.table if f.status == "live"}
        missing = sorted(set(live) - set(self.store.texts(list(live))))
        self.store.add(missing, [live[i].text for i in missing],
                       [{"kind": "fact", "step": live[i].updated} for i in missing])

    def close(self) -> None:
        """Release the store; idempotent."""
        self.store.close()


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


@memory_backend("facts")
def make_facts(*, context: BackendContext, model: str | None = None,
               **settings: Any) -> FactsMemory:
    """Factory for the registry; takes FactsSpec's fields (`model` is the runner's).

    Raises:
        VectorStoreError: the store cannot be opened.
    """
    return FactsMemory(context, **settings)
