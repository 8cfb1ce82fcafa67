"""Vector memory on ChromaDB: turns, summaries and notes are stored; the most relevant return."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from memory._chroma import (
    OWNER_NAMESPACE,
    OWNER_RUN_DIR,
    VectorStoreError,
    collection_name,
    http_client,
    lock_store,
    persistent_client,
    run_namespace,
    server_advice,
    store_advice,
    unlock_store,
)
from memory._contract import BackendContext, CompactionContext, MemoryRecord
from memory._ranking import Candidate, exact_distances, rank_complete, ranked
from memory.budget import TokenCounter
from scaffold.errors import ScaffoldError
from scaffold.messages import Message
from scaffold.registry import memory_backend

RETRIEVED_HEADER = "[Memory] Retrieved from long-term memory (most relevant first):"
STORABLE = ("turns", "summaries", "notes")
SUMMARY_KINDS = frozenset({"summarize", "summary_rewrite"})
TIE_MARGIN = 8
"""Candidates fetched beyond top_k (and the excluded window) so that ties can be seen."""

__all__ = ["RETRIEVED_HEADER", "STORABLE", "VectorMemory", "VectorStoreError", "collection_name",
           "latest_query", "make_vector", "scoped_where"]

_INCLUDE = ["documents", "metadatas", "embeddings"]


def scoped_where(where: dict[str, Any] | None, agent_id: str, run_id: str, namespace: str,
                 shared: bool = True) -> dict[str, Any] | None:
    """The filter every query uses. In a shared (explicitly named) collection it restricts the
    configured filter to this agent's memories of this run in this run directory (its
    namespace, so a run deleted and started again under the same run id sees nothing of the
    old one), unless it names `agent`, or `run` / `ns`, itself (to search across agents or
    runs on purpose). A per-agent collection holds nothing else, so there the restriction is
    left out: Chroma applies metadata filters by scanning, which made queries ~100x slower at
    50k memories. Multi-key filters become an `$and`, as Chroma wants one key per dict.

    Args:
        where: the configured Chroma metadata filter (may be empty).
        agent_id: the owner agent.
        run_id: the run.
        namespace: the run directory's store namespace (see `memory._chroma.run_namespace`).
        shared: whether other agents or runs may write to the collection.

    Returns:
        A Chroma `where` filter, or None for none.
    """
    clauses = [{key: value} for key, value in (where or {}).items()]
    if shared and not _names(where, "agent"):
        clauses.append({"agent": agent_id})
    if shared and not (_names(where, "run") or _names(where, "ns")):
        clauses += [{"run": run_id}, {"ns": namespace}]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _names(node: Any, key: str) -> bool:
    if isinstance(node, dict):
        return any(k == key or _names(v, key) for k, v in node.items())
    if isinstance(node, list):
        return any(_names(v, key) for v in node)
    return False


def latest_query(messages: list[Message], agent_id: str) -> str | None:
    """The text to search with: the newest message not written by the agent itself (a user's,
    the task's, or another agent's), skipping tool results and empty messages."""
    for message in reversed(messages):
        if message.role in ("user", "assistant") and message.author != agent_id \
                and message.content.strip():
            return message.content
    return None


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


class VectorMemory:
    """Stores turns, summaries and notes in a Chroma collection; before each model call it
    retrieves the memories most similar to the newest incoming message and renders them.

    Args:
        context: where the backend lives (run dir, run id, owner agent).
        top_k: memories retrieved per step.
        chroma_url: a Chroma server (http://host:port); None for an embedded store under
            run_dir/memory/chroma.
        collection: collection name; None for one per agent and run directory
            ("<run id>-<agent id>-<namespace>", where the namespace is made when the run
            directory's vector memory is first opened, kept on resume, and new when the
            directory is deleted and made again; see `memory._chroma.run_namespace`). A named
            collection may be shared, so its queries are restricted to this agent and run
            directory unless `where` names `agent`, `run` or `ns` (see `scoped_where`).
        store: what gets stored: any of "turns", "summaries", "notes".
        where: Chroma metadata filter applied to every query.
        exclude_window: never retrieve messages still in the context window.
        max_chars: each retrieved memory is cut to this many characters.
        counter: token counter for the agent's model; defaults to the context's.

    Raises:
        VectorStoreError: the store cannot be opened or the server cannot be reached.
    """

    name = "vector"
    section = "retrieved"

    def __init__(self, context: BackendContext, *, top_k: int = 4, chroma_url: str | None = None,
                 collection: str | None = None, store: tuple[str, ...] | list[str] = STORABLE,
                 where: dict[str, Any] | None = None, exclude_window: bool = True,
                 max_chars: int = 600, counter: TokenCounter | None = None):
        unknown = set(store) - set(STORABLE)
        if unknown:
            raise ValueError(f"store: unknown kinds {sorted(unknown)}; choose from {STORABLE}")
        self.agent_id, self.run_id = context.agent_id, context.run_id
        self.top_k, self.store, self.max_chars = top_k, tuple(store), max_chars
        self.exclude_window, self.counter = exclude_window, counter or context.counter
        self.run_dir = Path(context.run_dir).resolve()
        self.path = self.run_dir / "memory" / "chroma"
        self.namespace = run_namespace(self.run_dir, None if chroma_url else self.path)
        self.shared = collection is not None
        self.where = scoped_where(where, context.agent_id, context.run_id, self.namespace,
                                  shared=self.shared)
        self.chroma_url = chroma_url
        self.collection_name = collection_name(
            collection or f"{context.run_id}-{context.agent_id}-{self.namespace}")
        self.retrieved: list[dict[str, Any]] = []
        self.query: str | None = None
        self.last_step = 0
        self._rendered: dict[int, list[dict[str, Any]]] = {}
        self._client: Any = None
        self._embed: Any = None
        self._collection = self._open()

    def _open(self) -> Any:
        from memory.embeddings import chroma_embedding_function

        if self.chroma_url:
            self._client = http_client(self.chroma_url)
        else:
            lock_store(self.path)
        try:
            with self._guarded("opening the collection"):
                if self._client is None:
                    self._client = persistent_client(self.path)
                self._embed = chroma_embedding_function()
                return self._client.get_or_create_collection(
                    self.collection_name, embedding_function=self._embed,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata=None if self.shared else self._owner())
        except VectorStoreError:
            client, self._client = self._client, None
            if client is not None:
                with suppress(Exception):
                    client.close()
            if not self.chroma_url:
                unlock_store(self.path)
            raise

    def _owner(self) -> dict[str, str]:
        """A per-agent collection's owner, read by `scaffold memory collections`."""
        return {OWNER_RUN_DIR: str(self.run_dir), OWNER_NAMESPACE: self.namespace,
                "scaffold_run": self.run_id, "scaffold_agent": self.agent_id}

    @contextmanager
    def _guarded(self, action: str) -> Iterator[None]:
        """Turn store failures into a VectorStoreError that says what to do."""
        try:
            yield
        except ScaffoldError:  # already says what to do (e.g. the embedding model is missing)
            raise
        except Exception as exc:
            if self.chroma_url:
                raise VectorStoreError(server_advice(self.chroma_url, action, exc)) from exc
            raise VectorStoreError(store_advice(self.path, action, exc)) from exc

    @property
    def collection(self) -> Any:
        """The Chroma collection memories are stored in."""
        return self._collection

    def observe(self, messages: list[Message]) -> list[MemoryRecord] | None:
        """Store new turns (upserted by id, so a message seen again is never duplicated).

        Raises:
            TypeError: an item is not a Message.
            VectorStoreError: the store failed.
        """
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"vector memory observes Message objects, got {type(message)}")
            self.last_step = max(self.last_step, message.step)
        if "turns" not in self.store:
            return None
        kept = list({m.id: m for m in messages if m.content.strip()}.values())
        if not kept:
            return None
        self._upsert([self.doc_id(m.id) for m in kept], [m.content for m in kept],
                     [self._turn_metadata(m) for m in kept])
        authors = sorted({m.author for m in kept})
        return [MemoryRecord(
            kind="insert", backend=self.name, author=authors[0] if len(authors) == 1 else "system",
            source_ids=[m.id for m in kept], text=_cut(kept[0].content, 120),
            detail={"collection": self.collection_name, "authors": authors})]

    def doc_id(self, key: str) -> str:
        """The stored id of a memory: prefixed with the run directory's namespace and the run,
        so runs sharing a server collection never overwrite each other (see `public_id`)."""
        return f"{self.namespace}/{self.run_id}/{key}"

    def _provenance(self) -> dict[str, Any]:
        return {"run": self.run_id, "ns": self.namespace, "run_dir": str(self.run_dir),
                "agent": self.agent_id}

    def _turn_metadata(self, message: Message) -> dict[str, Any]:
        return {**self._provenance(), "author": message.author, "step": message.step,
                "kind": "turn", "role": message.role, "message_id": message.id}

    def _upsert(self, ids: list[str], documents: list[str], metadatas: list[dict[str, Any]]
                ) -> None:
        with self._guarded("storing memories"):
            self._collection.upsert(ids=ids, documents=documents, metadatas=metadatas)

    def on_memory(self, record: MemoryRecord) -> list[MemoryRecord] | None:
        """Store another backend's summary or notes, with their provenance.

        Args:
            record: a change made by another backend.

        Returns:
            One insert record when something was stored, else None.
        """
        if record.status != "ok" or not record.text.strip():
            return None
        if record.kind in SUMMARY_KINDS and "summaries" in self.store:
            kind, texts = "summary", [record.text.strip()]
        elif record.kind == "note" and "notes" in self.store:
            kind, texts = "note", [t.strip() for t in record.text.splitlines() if t.strip()]
        else:
            return None
        keys = [f"{self.agent_id}-{kind}-{hashlib.sha1(t.encode()).hexdigest()[:12]}"
                for t in texts]
        meta = {**self._provenance(), "author": record.author, "step": self.last_step,
                "kind": kind, "role": "system", "message_id": "",
                "source_ids": ",".join(record.source_ids), "derived_from": record.kind}
        self._upsert([self.doc_id(k) for k in keys], texts, [dict(meta) for _ in texts])
        return [MemoryRecord(kind="insert", backend=self.name, author=record.author,
                             source_ids=list(record.source_ids), text=_cut(texts[0], 120),
                             detail={"stored": kind, "ids": keys,
                                     "collection": self.collection_name})]

    def search(self, query: str, exclude: set[str] | frozenset[str] = frozenset()
               ) -> list[dict[str, Any]]:
        """The retrieval path: the `top_k` stored memories nearest to `query` that pass the
        filter, skipping those whose message id is in `exclude`.

        Args:
            query: the text to search with.
            exclude: message ids not to return (the context window).

        Returns:
            Memories, most relevant first by exact cosine distance, ties (same distance at 6
            decimals, e.g. the same text stored twice) broken by the more recent step, then
            id, so that the order never depends on how the index was built or reloaded: id,
            text, kind, step, author, role, message_id, source_ids, distance.

        Raises:
            VectorStoreError: the store failed.
        """
        with self._guarded("embedding the query"):
            vector = self._embed([query])[0]
        asked = self.top_k + len(exclude) + TIE_MARGIN  # only excluded ones can be dropped
        while True:
            with self._guarded("retrieving memories"):
                found = self._collection.query(query_embeddings=[vector], n_results=asked,
                                               where=self.where, include=_INCLUDE)
            candidates = self._candidates(found, vector)
            best = ranked(candidates, exclude, self.top_k)
            if rank_complete(best, candidates, asked, self.top_k):
                return [c.item for c in best]
            asked *= 2  # ties reach past what was fetched: look further

    def _candidates(self, found: dict[str, Any], vector: Any) -> list[Candidate]:
        """Query results with exact distances; ids as events show them (no namespace)."""
        ids, metas = found["ids"][0], found["metadatas"][0]
        if not ids:
            return []
        distances = exact_distances(vector, found["embeddings"][0])
        out = []
        for doc_id, text, meta, distance in zip(ids, found["documents"][0], metas, distances):
            meta = meta or {}
            public = doc_id.split("/", 1)[1] if "/" in doc_id else doc_id
            step = int(meta.get("step", 0) or 0)
            out.append(Candidate(public, distance, step, {
                "id": public, "text": text or "", "kind": meta.get("kind", "turn"),
                "step": step, "author": meta.get("author", ""), "role": meta.get("role", ""),
                "message_id": meta.get("message_id", ""),
                "source_ids": meta.get("source_ids", ""), "distance": distance}))
        return out

    async def maybe_compact(self, ctx: CompactionContext) -> MemoryRecord | None:
        """Retrieve memories relevant to the newest incoming message; report a changed set.

        Returns:
            A `retrieve` record when what is rendered changes, else None.
        """
        query = latest_query(ctx.window.messages, self.agent_id)
        if query is None:
            return None
        exclude = {m.id for m in ctx.window.messages} if self.exclude_window else set()
        found = self.search(query, exclude)
        self.query = query
        if [f["id"] for f in found] == [r["id"] for r in self.retrieved]:
            return None
        before = ctx.prompt_tokens()
        await ctx.before_change("retrieve")
        self._set(found)
        return MemoryRecord(
            kind="retrieve", backend=self.name, author="system", text=self.block(),
            source_ids=[r["message_id"] or r["id"] for r in found], tokens_before=before,
            tokens_after=ctx.prompt_tokens(),
            detail={"query": _cut(query, 200), "ids": [r["id"] for r in found],
                    "distances": [r["distance"] for r in found]})

    def _set(self, retrieved: list[dict[str, Any]]) -> None:
        self.retrieved = retrieved
        self._rendered = {}

    def _line(self, item: dict[str, Any]) -> str:
        if item["kind"] != "turn":
            label = item["kind"]
        elif item["role"] == "tool":
            label = "tool result"
        else:
            label = "you" if item["author"] == self.agent_id else item["author"]
        return f"- (step {item['step']}, {label}) {_cut(item['text'], self.max_chars)}"

    def block(self) -> str:
        """The whole retrieved block, uncut by any budget ('' when nothing is retrieved)."""
        if not self.retrieved:
            return ""
        return "\n".join([RETRIEVED_HEADER, *map(self._line, self.retrieved)])

    def render(self, budget: int) -> list[dict[str, Any]]:
        """The retrieved memories as one marked system message, with provenance, dropping the
        least relevant (and, if need be, cutting the most relevant) to stay within `budget`."""
        if not self.retrieved:
            return []
        if budget not in self._rendered:
            self._rendered[budget] = self._fit(budget)
        return [dict(m) for m in self._rendered[budget]]

    def _fit(self, budget: int) -> list[dict[str, Any]]:
        counter, limit = self.counter, budget

        def cost(lines: list[str]) -> int:
            return counter.message({"role": "system", "content": "\n".join(lines)})

        lines = [RETRIEVED_HEADER]
        for item in self.retrieved:
            if cost([*lines, self._line(item)]) > limit:
                break
            lines.append(self._line(item))
        if len(lines) == 1:  # not even the best one fits whole: keep as much of it as fits
            line = self._line(self.retrieved[0])
            while len(line) > 40 and cost([*lines, line]) > limit:
                line = _cut(line, int(len(line) * 0.8))
            if len(line) > 40:
                lines.append(line)
        if len(lines) == 1 or cost(lines) > limit:
            return []
        return [{"role": "system", "content": "\n".join(lines)}]

    def snapshot(self) -> dict[str, Any]:
        """The retrieved set and the last query; the store itself persists on disk/server."""
        return {"retrieved": [dict(r) for r in self.retrieved], "query": self.query,
                "last_step": self.last_step}

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot made by `snapshot`.

        Raises:
            ValueError: not a vector snapshot.
        """
        retrieved = data.get("retrieved") if isinstance(data, dict) else None
        if not isinstance(retrieved, list) or not all(
                isinstance(r, dict) and {"id", "text", "kind", "step"} <= r.keys()
                for r in retrieved):
            raise ValueError("not a vector snapshot: expected {'retrieved': [{id, text, kind, "
                             "step, ...}], 'query': str | None}")
        defaults = {"author": "", "role": "", "message_id": "", "source_ids": "", "distance": 0.0}
        self._set([{**defaults, **r} for r in retrieved])
        self.query = data.get("query")
        self.last_step = int(data.get("last_step", 0))

    def close(self) -> None:
        """Release the client (and this process's lock on an embedded store); idempotent."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.close()
        finally:
            if not self.chroma_url:
                unlock_store(self.path)


@memory_backend("vector")
def make_vector(*, context: BackendContext, top_k: int = 4, chroma_url: str | None = None,
                collection: str | None = None,
                store: tuple[str, ...] | list[str] = STORABLE,
                where: dict[str, Any] | None = None, exclude_window: bool = True,
                max_chars: int = 600) -> VectorMemory:
    """Factory for the registry; takes VectorSpec's fields.

    Raises:
        VectorStoreError: the store cannot be opened or the server cannot be reached.
    """
    return VectorMemory(context, top_k=top_k, chroma_url=chroma_url, collection=collection,
                        store=store, where=where, exclude_window=exclude_window,
                        max_chars=max_chars)
