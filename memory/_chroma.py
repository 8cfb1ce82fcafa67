"""Chroma plumbing: collection names, run namespaces, clients, the embedded store's lock."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scaffold.errors import ScaffoldError

NAMESPACE_FILE = "namespace"
"""File under run_dir/memory/ holding the run directory's store namespace."""
OWNER_RUN_DIR = "scaffold_run_dir"
"""Metadata key of a per-agent collection: the run directory that owns it."""
OWNER_NAMESPACE = "scaffold_ns"
"""Metadata key of a per-agent collection: the owner's namespace when it was made."""
_NAMESPACE = re.compile(r"[0-9a-f]{8,32}")
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



def namespace_path(run_dir: Path) -> Path:
    """Where a run directory keeps its store namespace."""
    return Path(run_dir) / "memory" / NAMESPACE_FILE


def read_namespace(run_dir: Path) -> str | None:
    """The run directory's store namespace, or None when it has none (yet, or any more).

    Raises:
        VectorStoreError: the namespace file exists but does not hold a namespace.
    """
    path = namespace_path(run_dir)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise VectorStoreError(f"{path} cannot be read ({exc}); it names this run's vector "
                               "memories, so restore it, or delete the run directory and "
                               "start the run again") from exc
    if not _NAMESPACE.fullmatch(text):
        raise VectorStoreError(f"{path} is corrupt (expected 8-32 hex digits); it names this "
                               "run's vector memories, so restore it, or delete the run "
                               "directory and start the run again")
    return text


def run_namespace(run_dir: Path, store: Path | None = None) -> str:
    """The run directory's store namespace, created on first use: random, so a run directory
    that is deleted and made again gets a new one and never sees the old one's memories in a
    shared Chroma server, while a resumed run (same directory) keeps it. Safe when several
    agents, threads or processes of one run ask at once: the first writer wins.

    Args:
        run_dir: the run directory.
        store: the embedded store directory, when there is one: a store that exists while the
            namespace does not was written before namespaces (or the file was lost), and a
            new namespace would silently start its memories afresh.

    Raises:
        VectorStoreError: the namespace file is unreadable or corrupt, or `store` holds
            memories that no namespace names.
    """
    found = read_namespace(run_dir)
    if found is not None:
        return found
    if store is not None and (store / "chroma.sqlite3").exists() \
            and read_namespace(run_dir) is None:
        raise VectorStoreError(
            f"{store} holds vector memories but {namespace_path(run_dir)} is missing (the run "
            "was written by a Scaffold version without store namespaces, or the file was "
            "deleted), so they cannot be told apart from another run's. Resume the run with "
            "the version that wrote it, or move memory/chroma aside to resume without its "
            "vector memories, or delete the run directory and start again.")
    path = namespace_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{NAMESPACE_FILE}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(secrets.token_hex(4) + "\n", encoding="ascii")
    try:
        os.link(tmp, path)  # atomic and exclusive: the file appears whole, or not at all
    except FileExistsError:
        pass  # another agent of this run made it first: use that one
    finally:
        tmp.unlink(missing_ok=True)
    found = read_namespace(run_dir)
    assert found is not None
    return found


def lock_store(path: Path) -> None:
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


def unlock_store(path: Path) -> None:
    with _locks_guard:
        held = _locks.get(path)
        if held is None:
            return
        held[1] -= 1
        if held[1] <= 0:
            held[0].close()  # closing the file releases the flock
            del _locks[path]


def http_client(url: str) -> Any:
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
        raise VectorStoreError(server_advice(url, "connecting", exc)) from exc


def persistent_client(path: Path) -> Any:
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


def server_advice(url: str, action: str, exc: BaseException) -> str:
    return (f"the Chroma server at {url} failed while {action}: {exc}. Check that it is running "
            "and reachable (start one with `chroma run --path DIR --host 127.0.0.1 --port 8000`) "
            "and that memory.vector.chroma_url points to it, or leave chroma_url unset to use an "
            "embedded store in the run directory.")


def store_advice(path: Path, action: str, exc: BaseException) -> str:
    return (f"the embedded vector store at {path} failed while {action}: {exc}. If the "
            "directory is corrupt (written by two processes at once, or cut off mid-write), "
            "move it aside or delete it (its memories are lost) and start the run again; "
            "if the error is about a collection or filter, check memory.vector settings.")

