"""An embedded Chroma collection of one agent's memories, with their vectors kept at hand."""

from __future__ import annotations

import threading
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np

from memory._chroma import (
    OWNER_NAMESPACE,
    OWNER_RUN_DIR,
    VectorStoreError,
    collection_name,
    lock_store,
    persistent_client,
    run_namespace,
    store_advice,
    unlock_store,
)
from memory._contract import BackendContext
from memory._ranking import exact_distances
from scaffold.errors import ScaffoldError


class StreamStore:
    """Memories of one agent in one run directory, in the run's embedded Chroma store
    (run_dir/memory/chroma, the vector backend's), one collection per design.

    Vectors are computed once, when a memory is added, and kept in memory, so a ranking over
    every stored memory (as Generative Agents' retrieval does) costs one dot product each; after
    a restore they are read back from the collection by id.

    Args:
        context: where the backend lives.
        design: the collection's suffix ("reflection", "facts").

    Raises:
        VectorStoreError: the store cannot be opened.
    """

    def __init__(self, context: BackendContext, design: str):
        self.run_dir = Path(context.run_dir).resolve()
        self.path = self.run_dir / "memory" / "chroma"
        self.namespace = run_namespace(self.run_dir, self.path)
        self.name = collection_name(
            f"{context.run_id}-{context.agent_id}-{design}-{self.namespace}")
        self._owner = {OWNER_RUN_DIR: str(self.run_dir), OWNER_NAMESPACE: self.namespace,
                       "scaffold_run": context.run_id, "scaffold_agent": context.agent_id}
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._client: Any = None
        self._embed: Any = None
        self._collection = self._open()

    def _open(self) -> Any:
        from memory.embeddings import chroma_embedding_function

        lock_store(self.path)
        try:
            self._client = persistent_client(self.path)
            self._embed = chroma_embedding_function()
            return self._client.get_or_create_collection(
                self.name, embedding_function=self._embed,
                configuration={"hnsw": {"space": "cosine"}}, metadata=self._owner)
        except ScaffoldError:  # already says what to do (e.g. the embedding model is missing)
            self._release()
            raise
        except Exception as exc:
            self._release()
            raise VectorStoreError(store_advice(self.path, "opening the collection", exc)) from exc

    def _release(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with suppress(Exception):
                client.close()
        unlock_store(self.path)

    def embed(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors of texts (the embedding model the collection is made with)."""
        if not texts:
            return []
        return [np.asarray(v, dtype=np.float64) for v in self._embed(texts)]

    def add(self, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]]) -> None:
        """Store (or replace) memories by id.

        Raises:
            VectorStoreError: the store failed.
        """
        if not ids:
            return
        vectors = self.embed(texts)
        try:
            self._collection.upsert(ids=ids, documents=texts, metadatas=metadatas,
                                    embeddings=[v.tolist() for v in vectors])
        except Exception as exc:
            raise VectorStoreError(store_advice(self.path, "storing memories", exc)) from exc
        with self._lock:
            self._vectors.update(zip(ids, vectors))

    def delete(self, ids: list[str]) -> None:
        """Remove memories by id (kept nowhere else: the caller records what they said)."""
        if not ids:
            return
        try:
            self._collection.delete(ids=ids)
        except Exception as exc:
            raise VectorStoreError(store_advice(self.path, "deleting memories", exc)) from exc
        with self._lock:
            for key in ids:
                self._vectors.pop(key, None)

    def texts(self, ids: list[str]) -> dict[str, str]:
        """Stored texts by id (ids not stored are left out)."""
        if not ids:
            return {}
        try:
            found = self._collection.get(ids=ids, include=["documents"])
        except Exception as exc:
            raise VectorStoreError(store_advice(self.path, "reading memories", exc)) from exc
        return {i: d or "" for i, d in zip(found["ids"], found["documents"])}

    def similarities(self, query: np.ndarray, ids: list[str]) -> dict[str, float]:
        """Cosine similarity of each stored memory in `ids` to `query` (exact, float64)."""
        missing = [i for i in ids if i not in self._vectors]
        if missing:
            self._load(missing)
        known = [i for i in ids if i in self._vectors]
        if not known:
            return {}
        distances = exact_distances(query, np.stack([self._vectors[i] for i in known]))
        return {i: round(1.0 - d, 6) for i, d in zip(known, distances)}

    def _load(self, ids: list[str]) -> None:
        try:
            found = self._collection.get(ids=ids, include=["embeddings"])
        except Exception as exc:
            raise VectorStoreError(store_advice(self.path, "reading memories", exc)) from exc
        with self._lock:
            for key, vector in zip(found["ids"], found["embeddings"]):
                self._vectors[key] = np.asarray(vector, dtype=np.float64)

    def close(self) -> None:
        """Release the client and this process's lock on the store; idempotent."""
        if self._client is not None:
            self._release()
