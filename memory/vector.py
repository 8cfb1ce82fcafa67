"""Vector memory on ChromaDB: turns, summaries and notes are stored; the most relevant return."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from memory._contract import BackendContext, CompactionContext, MemoryRecord
from memory.budget import TokenCounter
from scaffold.errors import ScaffoldError
from scaffold.messages import Message
from scaffold.registry import memory_backend

RETRIEVED_HEADER = "[Memory] Retrieved from long-term memory (most relevant first):"
STORABLE = ("turns", "summaries", "notes")
SUMMARY_KINDS = frozenset({"summarize", "summary_rewrite"})
FALLBACK_COUNTER_MODEL = "default"
"""Tokenizer used by `render` when no counter for the agent's model was given (litellm's
default encoding); a 10% margin covers models whose tokenizers count a little more."""

_INCLUDE = ["documents", "metadatas", "distances"]
_locks: dict[Path, list[Any]] = {}
_locks_guard = threading.Lock()


class VectorStoreError(ScaffoldError):
    """The vector store cannot be reached, opened, or used; the message says what to do."""


def collection_name(raw: str) -> str:
    """A name Chroma accepts (3-63 characters of letters, digits, '.', '_', '-', starting and
    ending alphanumeric, no '..', not an IPv4 address). Valid names are kept as they are;
    others are cleaned and given a short hash of the original, so distinct inputs stay
    distinct and every agent naming the same collection gets the same name.

    Args:
        raw: the wanted name, e.g. "<run id>-<agent id>".

    Returns:
        A valid Chroma collection name.
    """
    valid = (3 <= len(raw) <= 63 and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]", raw)
             and ".." not in raw and not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", raw))
    if valid:
        return raw
    cleaned = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "-", raw))
    stem = cleaned.strip("._-")[:54].rstrip("._-") or "memory"
    return f"{stem}-{hashlib.sha1(raw.encode()).hexdigest()[:8]}"


def scoped_where(where: dict[str, Any] | None, agent_id: str, run_id: str,
                 shared: bool = True) -> dict[str, Any] | None:
    """The filter every query uses. In a shared (explicitly named) collection it restricts the
    configured filter to this agent's and this run's memories, unless it names `agent` or
    `run` itself (to search across agents or runs on purpose). A per-agent collection holds
    nothing else, so there the restriction is left out: Chroma applies metadata filters by
    scanning, which made queries ~100x slower at 50k memories. Multi-key filters become an
    `$and`, as Chroma wants one key per dict.

    Args:
        where: the configured Chroma metadata filter (may be empty).
        agent_id: the owner agent.
        run_id: the run.
        shared: whether other agents or runs may write to the collection.

    Returns:
        A Chroma `where` filter, or None for none.
    """
    clauses = [{key: value} for key, value in (where or {}).items()]
    if shared and not _names(where, "agent"):
        clauses.append({"agent": agent_id})
    if shared and not _names(where, "run"):
        clauses.append({"run": run_id})
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


@cache
def _fallback_counter() -> TokenCounter:
    return TokenCounter(FALLBACK_COUNTER_MODEL)


def _lock_store(path: Path) -> None:
    """Take this process's exclusive lock on an embedded store: Chroma's embedded mode is not
    safe for several processes writing one directory (the index is corrupted, seen as
    segfaults on reopen), so a second process fails here with advice instead."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: nothing to guard with
        return
    with _locks_guard:
        held = _locks.get(path)
        if held is not None:
            held[1] += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "a+")  # noqa: SIM115 (held open)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            raise VectorStoreError(
                f"the embedded vector store at {path} is in use by another process. Embedded "
                "ChromaDB supports one process per store directory; to share memory between "
                "processes, run a Chroma server (chroma run --path DIR --port 8000) and set "
                "memory.vector.chroma_url to it, or stop the other process.") from exc
        _locks[path] = [handle, 1]


def _unlock_store(path: Path) -> None:
    with _locks_guard:
        held = _locks.get(path)
        if held is None:
            return
        held[1] -= 1
        if held[1] <= 0:
            held[0].close()  # closing the file releases the flock
            del _locks[path]


def _http_client(url: str) -> Any:
    import chromadb
    from chromadb.config import Settings

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VectorStoreError(f"memory.vector.chroma_url {url!r}: expected http(s)://host:port")
    ssl = parts.scheme == "https"
    try:
        return chromadb.HttpClient(host=parts.hostname, port=parts.port or (443 if ssl else 8000),
                                   ssl=ssl, settings=Settings(anonymized_telemetry=False))
    except Exception as exc:
        raise VectorStoreError(_server_advice(url, "connecting", exc)) from exc


def _persistent_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings

    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False))
    except Exception:
        # chromadb 1.5 caches a system per path before starting it and keeps it when the
        # start fails, so without this the path stays broken in this process once fixed.
        from chromadb.api.shared_system_client import SharedSystemClient

        with suppress(Exception):
            SharedSystemClient._identifier_to_system.pop(str(path), None)
        raise


def _server_advice(url: str, action: str, exc: BaseException) -> str:
    return (f"the Chroma server at {url} failed while {action}: {exc}. Check that it is running "
            "and reachable (start one with `chroma run --path DIR --host 127.0.0.1 --port 8000`) "
            "and that memory.vector.chroma_url points to it, or leave chroma_url unset to use an "
            "embedded store in the run directory.")


def _store_advice(path: Path, action: str, exc: BaseException) -> str:
    return (f"the embedded vector store at {path} failed while {action}: {exc}. If the "
            "directory is corrupt (written by two processes at once, or cut off mid-write), "
            "move it aside or delete it (its memories are lost) and start the run again; "
            "if the error is about a collection or filter, check memory.vector settings.")


class VectorMemory:
    """Stores turns, summaries and notes in a Chroma collection; before each model call it
    retrieves the memories most similar to the newest incoming message and renders them.

    Args:
        context: where the backend lives (run dir, run id, owner agent).
        top_k: memories retrieved per step.
        chroma_url: a Chroma server (http://host:port); None for an embedded store under
            run_dir/memory/chroma.
        collection: collection name; None for one per agent ("<run id>-<agent id>"). A named
            collection may be shared, so its queries are restricted to this agent and run
            unless `where` names `agent` or `run` (see `scoped_where`).
        store: what gets stored: any of "turns", "summaries", "notes".
        where: Chroma metadata filter applied to every query.
        exclude_window: never retrieve messages still in the context window.
        max_chars: each retrieved memory is cut to this many characters.
        counter: token counter for the agent's model; render falls back to litellm's default
            encoding with a 10% margin when None.

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
        self.exclude_window, self.counter = exclude_window, counter
        self.where = scoped_where(where, context.agent_id, context.run_id,
                                  shared=collection is not None)
        self.chroma_url = chroma_url
        self.path = Path(context.run_dir).resolve() / "memory" / "chroma"
        self.collection_name = collection_name(collection or f"{context.run_id}-{context.agent_id}")
        self.retrieved: list[dict[str, Any]] = []
        self.query: str | None = None
        self.last_step = 0
        self._rendered: dict[int, list[dict[str, Any]]] = {}
        self._client: Any = None
        self._collection = self._open()

    def _open(self) -> Any:
        from memory.embeddings import chroma_embedding_function

        if self.chroma_url:
            self._client = _http_client(self.chroma_url)
        else:
            _lock_store(self.path)
        try:
            with self._guarded("opening the collection"):
                if self._client is None:
                    self._client = _persistent_client(self.path)
                return self._client.get_or_create_collection(
                    self.collection_name, embedding_function=chroma_embedding_function(),
                    configuration={"hnsw": {"space": "cosine"}})
        except VectorStoreError:
            client, self._client = self._client, None
            if client is not None:
                with suppress(Exception):
                    client.close()
            if not self.chroma_url:
                _unlock_store(self.path)
            raise

    @contextmanager
    def _guarded(self, action: str) -> Iterator[None]:
        """Turn store failures into a VectorStoreError that says what to do."""
        try:
            yield
        except ScaffoldError:  # already says what to do (e.g. the embedding model is missing)
            raise
        except Exception as exc:
            if self.chroma_url:
                raise VectorStoreError(_server_advice(self.chroma_url, action, exc)) from exc
            raise VectorStoreError(_store_advice(self.path, action, exc)) from exc

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
        # Prefixed with the run so runs sharing a server collection never overwrite each other.
        return f"{self.run_id}/{key}"

    def _turn_metadata(self, message: Message) -> dict[str, Any]:
        return {"run": self.run_id, "agent": self.agent_id, "author": message.author,
                "step": message.step, "kind": "turn", "role": message.role,
                "message_id": message.id}

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
        meta = {"run": self.run_id, "agent": self.agent_id, "author": record.author,
                "step": self.last_step, "kind": kind, "role": "system", "message_id": "",
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
            Memories, most relevant first: id, text, kind, step, author, role, message_id,
            source_ids, distance.
        """
        # Only excluded messages can be dropped, so asking for that many more always suffices.
        with self._guarded("retrieving memories"):
            found = self._collection.query(query_texts=[query], n_results=self.top_k + len(exclude),
                                           where=self.where, include=_INCLUDE)
        items = []
        for doc_id, text, meta, distance in zip(found["ids"][0], found["documents"][0],
                                                found["metadatas"][0], found["distances"][0]):
            meta = meta or {}
            if meta.get("message_id") in exclude:
                continue
            items.append({
                "id": doc_id, "text": text or "", "kind": meta.get("kind", "turn"),
                "step": meta.get("step", 0), "author": meta.get("author", ""),
                "role": meta.get("role", ""), "message_id": meta.get("message_id", ""),
                "source_ids": meta.get("source_ids", ""), "distance": round(float(distance), 6)})
        return items[: self.top_k]

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
        counter = self.counter or _fallback_counter()
        limit = budget if self.counter else budget - max(2, budget // 10)

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
                _unlock_store(self.path)


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
