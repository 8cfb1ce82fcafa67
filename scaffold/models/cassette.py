"""Cassettes: every model request (by hash) and its response, for replay and offline re-scoring."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from scaffold.errors import CassetteMiss, RunDirError
from scaffold.redact import redact_known


class CassetteResponse(BaseModel):
    """What a model returned, in the form the agent consumes."""

    model_config = ConfigDict(frozen=True)

    content: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class Completion(CassetteResponse):
    """A response as the client returns it: with the cassette key of its request."""

    request_hash: str


class CassetteEntry(BaseModel):
    """One line of cassette.jsonl."""

    model_config = ConfigDict(frozen=True)

    hash: str
    seq: int = 0
    """Seq of the model_call event that recorded it (resume drops entries past its checkpoint)."""
    model: str
    purpose: str
    agent_id: str | None = None
    step: int = 0
    messages: list[dict[str, Any]]
    params: dict[str, Any]
    response: CassetteResponse


def request_hash(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """Stable key for a request: model + messages + sampling params."""
    blob = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CassetteWriter:
    """Appends entries to cassette.jsonl; the run flushes it before every checkpoint."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("a", encoding="utf-8")

    def append(self, entry: CassetteEntry) -> None:
        """Write one entry (buffered until `flush`), with the keys the run knows masked (the
        hash stays the one of the request as sent)."""
        self._fh.write(redact_known(entry.model_dump_json()) + "\n")

    def flush(self) -> None:
        """Hand what was written to the OS (survives a kill -9 of this process)."""
        if not self._fh.closed:
            self._fh.flush()

    def close(self) -> None:
        """Close the file."""
        self._fh.close()


class CassetteReader:
    """Serves recorded responses by request hash, in recorded order for repeated requests."""

    def __init__(self, path: Path, strict: bool = True):
        self.path = path
        self.strict = strict
        self._queues: dict[str, deque[CassetteEntry]] = defaultdict(deque)
        self._last: dict[str, CassetteEntry] = {}
        for entry in load_cassette(path):
            self._queues[entry.hash].append(entry)

    def take(self, key: str, model: str, purpose: str) -> CassetteEntry:
        """The next recorded response for `key`.

        Raises:
            CassetteMiss: (strict mode) the cassette has no unused entry for this request.
        """
        queue = self._queues.get(key)
        if queue:
            entry = queue.popleft()
            self._last[key] = entry
            return entry
        if not self.strict and key in self._last:
            return self._last[key]
        raise CassetteMiss(
            f"replay: the cassette {self.path} has no recorded response for this {purpose} "
            f"request to {model} (hash {key[:12]}). The replayed run diverged from the recorded "
            f"one: use the same config, seed and steps as the original run."
        )

    def find(self, key: str) -> CassetteEntry | None:
        """A recorded entry for `key` without consuming it, if any."""
        queue = self._queues.get(key)
        return queue[0] if queue else self._last.get(key)


def truncate_cassette(path: Path, keep_through_seq: int) -> None:
    """Drop entries recorded after `keep_through_seq` (work lost to a crash is redone)."""
    if not path.exists():
        return
    kept = [e for e in load_cassette(path) if e.seq <= keep_through_seq]
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(e.model_dump_json() + "\n" for e in kept), encoding="utf-8")
    tmp.replace(path)


def load_cassette(path: Path) -> list[CassetteEntry]:
    """All entries of a cassette file; a torn last line (crash mid-write) is ignored.

    Raises:
        RunDirError: the file is missing or a line other than the last is corrupt.
    """
    if not path.exists():
        raise RunDirError(f"no cassette at {path}: is this a run directory written by scaffold?")
    lines = path.read_text(encoding="utf-8").splitlines()
    entries = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            entries.append(CassetteEntry.model_validate_json(line))
        except ValueError as exc:
            if i == len(lines) - 1:
                break
            raise RunDirError(f"{path}: line {i + 1} is corrupt ({exc.__class__.__name__})") from None
    return entries
