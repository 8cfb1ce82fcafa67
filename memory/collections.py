"""Finding and removing vector memories on a Chroma server whose run directory is gone."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from memory._chroma import (
    OWNER_NAMESPACE,
    OWNER_RUN_DIR,
    VectorStoreError,
    http_client,
    read_namespace,
    server_advice,
)

PAGE = 1000
"""Memories read per request when scanning a shared collection."""

Owner = Literal["run", "shared", "other"]
State = Literal["live", "stale", "unknown"]


class RunMemories(BaseModel):
    """The memories one run directory wrote to a collection."""

    model_config = ConfigDict(frozen=True)

    run_dir: str
    """The run directory that wrote them (as the writing machine saw it)."""
    namespace: str
    """That directory's store namespace when it wrote them."""
    memories: int
    """How many."""
    state: State
    """live: the directory exists and still has this namespace; stale: it was deleted or
    made again (a new run must never see these); unknown: its namespace file is unreadable."""


class CollectionReport(BaseModel):
    """One collection on the server and whose memories it holds."""

    model_config = ConfigDict(frozen=True)

    name: str
    owner: Owner
    """run: one agent's collection in one run directory; shared: named in a config
    (`memory.vector.collection`), holding several runs'; other: not written by Scaffold."""
    memories: int
    runs: list[RunMemories] = Field(default_factory=list)
    """The run directories whose memories it holds (none for `other`)."""

    @property
    def state(self) -> State:
        """stale when every run in it is stale, live when any is live, else unknown."""
        states = {r.state for r in self.runs}
        if not states:
            return "unknown"
        return "live" if "live" in states else "stale" if states == {"stale"} else "unknown"


def run_state(run_dir: str, namespace: str) -> State:
    """Whether memories written by `run_dir` under `namespace` still belong to a run there."""
    try:
        current = read_namespace(Path(run_dir))
    except VectorStoreError:
        return "unknown"
    return "live" if current == namespace else "stale"


def _under(run_dir: str, root: Path | None) -> bool:
    return root is None or Path(run_dir).resolve().is_relative_to(root.resolve())


def _shared_runs(collection: Any) -> tuple[list[RunMemories], int]:
    """The runs whose memories a collection holds, from every memory's metadata; and how
    many memories carry no run (not written by Scaffold)."""
    counts: Counter[tuple[str, str]] = Counter()
    unowned, offset = 0, 0
    while True:
        page = collection.get(include=["metadatas"], limit=PAGE, offset=offset)
        metas = page["metadatas"] or []
        for meta in metas:
            meta = meta or {}
            if isinstance(meta.get("run_dir"), str) and isinstance(meta.get("ns"), str):
                counts[(meta["run_dir"], meta["ns"])] += 1
            else:
                unowned += 1
        if len(metas) < PAGE:
            break
        offset += PAGE
    runs = [RunMemories(run_dir=d, namespace=ns, memories=n, state=run_state(d, ns))
            for (d, ns), n in sorted(counts.items())]
    return runs, unowned


def _report(collection: Any, under: Path | None) -> CollectionReport | None:
    meta = collection.metadata or {}
    count = collection.count()
    if isinstance(meta.get(OWNER_RUN_DIR), str) and isinstance(meta.get(OWNER_NAMESPACE), str):
        run_dir, ns = meta[OWNER_RUN_DIR], meta[OWNER_NAMESPACE]
        if not _under(run_dir, under):
            return None
        return CollectionReport(name=collection.name, owner="run", memories=count, runs=[
            RunMemories(run_dir=run_dir, namespace=ns, memories=count,
                        state=run_state(run_dir, ns))])
    runs, _ = _shared_runs(collection)
    runs = [r for r in runs if _under(r.run_dir, under)]
    if runs:
        return CollectionReport(name=collection.name, owner="shared", memories=count, runs=runs)
    return CollectionReport(name=collection.name, owner="other", memories=count) \
        if under is None else None


def _collections(url: str) -> tuple[Any, list[Any]]:
    from memory.embeddings import chroma_embedding_function

    chroma_embedding_function()  # registers the embedding function collections were made with
    client = http_client(url)
    try:
        return client, [client.get_collection(c.name) for c in client.list_collections()]
    except Exception as exc:
        raise VectorStoreError(server_advice(url, "listing collections", exc)) from exc


def list_collections(url: str, under: Path | None = None) -> list[CollectionReport]:
    """Every collection on a Chroma server, with the run directories whose memories it holds
    and whether those still exist. Run it where the run directories are visible (the machine,
    or the shared file system, that wrote them): a directory that cannot be found counts as
    deleted.

    Args:
        url: the server (http://host:port), as in memory.vector.chroma_url.
        under: only collections and memories of run directories under this directory.

    Returns:
        One report per collection, by name.

    Raises:
        VectorStoreError: the server cannot be reached or read.
    """
    _, collections = _collections(url)
    try:
        reports = [_report(c, under) for c in collections]
    except VectorStoreError:
        raise
    except Exception as exc:
        raise VectorStoreError(server_advice(url, "reading collections", exc)) from exc
    return sorted((r for r in reports if r is not None), key=lambda r: r.name)


def prune_collections(url: str, under: Path | None = None) -> list[CollectionReport]:
    """Remove stale memories: per-run collections whose run directory is gone or was made
    again, and, from shared collections, the memories of such runs. Live runs, runs whose
    state is unknown, and collections Scaffold did not write are never touched.

    Args:
        url: the server (http://host:port).
        under: only run directories under this directory.

    Returns:
        What was removed: whole collections (owner `run`) and, for shared ones, the stale runs.

    Raises:
        VectorStoreError: the server cannot be reached, read or written.
    """
    client, _ = _collections(url)
    removed: list[CollectionReport] = []
    try:
        for report in list_collections(url, under):
            stale = [r for r in report.runs if r.state == "stale"]
            if report.owner == "run" and stale:
                client.delete_collection(report.name)
                removed.append(report)
            elif report.owner == "shared" and stale:
                collection = client.get_collection(report.name)
                for run in stale:
                    collection.delete(where={"ns": run.namespace})
                removed.append(report.model_copy(update={
                    "runs": stale, "memories": sum(r.memories for r in stale)}))
    except VectorStoreError:
        raise
    except Exception as exc:
        raise VectorStoreError(server_advice(url, "removing stale memories", exc)) from exc
    return removed
