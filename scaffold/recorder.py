"""Run directories: manifest, append-only events.jsonl, cassette; crash-safe tails."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import platform
import time
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scaffold.errors import RunDirError
from scaffold.events import Event, parse_event
from scaffold.redact import redact_known

Status = Literal["running", "done", "failed", "interrupted"]
_VERSIONED = ("scaffold-persona", "litellm", "langgraph", "llama-cpp-python", "pydantic",
              "chromadb", "textual")


class RunManifest(BaseModel):
    """manifest.json: what ran, with which versions, and how it ended."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    experiment: str
    status: Status = "running"
    seed: int
    spec: dict[str, Any]
    versions: dict[str, str] = Field(default_factory=dict)
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)
    steps_done: int = 0
    error: str | None = None
    replay_of: str | None = None
    forked_from: dict[str, Any] | None = None
    """For forks: the source run directory and step."""
    memory_plans: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    """Per agent, the memory backends its condition expanded to, with their settings."""
    resumes: int = 0
    inexact_resumes: list[int] = Field(default_factory=list)
    """Steps from which a resume went on without the embedded model's saved KV states (none
    saved for its checkpoint, or unreadable): the states were rebuilt in one pass, so replies
    from there on can differ in their last bits from an uninterrupted run's. Empty: every
    resume (if any) continued exactly."""
    failures: list[dict[str, Any]] = Field(default_factory=list)
    """Every failure of this run: when, at which step, and why (kept across resumes)."""
    tracker_errors: int = 0
    """Tracker failures (`tracker_error` events): a `done` run with any has gaps in its
    probe rounds or scores."""
    sampling: dict[str, Any] = Field(default_factory=dict)
    """How every model role sampled: temperature, top_p, base seed, max_tokens (and the
    probes' samples), per agent for agent, summarizer and notes."""
    scorers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """What scorers read with, by scorer name, as they report it: `activation` holds its
    reader (model, GGUF sha256, or an hf/ reader's weights sha256, once loaded), its axis files with
    their sha256 (configured, or found by the search) and layer (see
    scaffold.trackers.activation.ActivationRecord)."""
    rescores: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per `scaffold rescore` pass (its id, as in the score events' `rescore`): when, which
    scorers, and what they read with (same shape as `scorers`)."""


FLUSH_S = 0.1
"""Longest time an event waits in the write buffer (what a tailing TUI may lag)."""


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version())]
    for name in _VERSIONED:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            continue
    return tuple(out)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results (read once per process)."""
    return dict(_versions())


def repair_jsonl(path: Path) -> None:
    """Drop a torn last line (a crash mid-write) so appends start on a line boundary."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as fh:
        data = fh.read()
        if data.endswith(b"\n"):
            return
        fh.truncate(data.rfind(b"\n") + 1)


EVENTS_FILE = "events.jsonl"
PACKED_EVENTS_FILE = "events.jsonl.gz"
"""A finished run's event log compressed for shipping (`scaffold export --pack`)."""


def event_log(run_dir: Path) -> Path:
    """A run directory's event log: `events.jsonl`, or `events.jsonl.gz` when only that is
    there (logs of finished runs compressed for shipping, read by reports)."""
    plain = run_dir / EVENTS_FILE
    packed = run_dir / PACKED_EVENTS_FILE
    return packed if not plain.exists() and packed.exists() else plain


def read_events(path: Path) -> list[Event]:
    """All events of a run, in seq order; a torn last line is ignored. A path ending in `.gz`
    is read as gzip.

    Raises:
        RunDirError: missing file, or a corrupt line before the end.
    """
    if not path.exists():
        raise RunDirError(f"no event log at {path}: not a scaffold run directory")
    if path.suffix == ".gz":
        try:
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        except (OSError, EOFError) as exc:
            raise RunDirError(f"{path}: not a whole gzip file ({exc})") from None
    else:
        raw = path.read_bytes()
    lines = raw.splitlines()
    events = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            events.append(parse_event(line))
        except ValueError:
            if i == len(lines) - 1:
                break
            raise RunDirError(f"{path}: line {i + 1} is not a valid event") from None
    return events


class RunRecorder:
    """Writes one run directory. Events are appended and flushed one by one."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.events_path = run_dir / EVENTS_FILE
        self.manifest_path = run_dir / "manifest.json"
        self.cassette_path = run_dir / "cassette.jsonl"
        self.checkpoint_path = run_dir / "checkpoints.sqlite"
        self._fh: Any = None
        self._flush_due: asyncio.TimerHandle | None = None

    def open(self, keep_through_seq: int | None = None) -> None:
        """Open the event log for appending; when resuming, cut it after `keep_through_seq`."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        repair_jsonl(self.events_path)
        repair_jsonl(self.cassette_path)
        if keep_through_seq is not None:
            self._truncate_after(keep_through_seq)
        self._fh = self.events_path.open("a", encoding="utf-8")

    def resume_point(self, checkpoint_seq: int) -> int:
        """The seq a resumed log is cut after: the last checkpoint's, or the last `run_start`'s
        when that comes later (an attempt that failed or was killed inside its first act
        keeps its start, so every attempt stays on record)."""
        start = 0
        if self.events_path.exists():
            with self.events_path.open("rb") as fh:
                for line in fh:
                    if b'"run_start"' not in line:
                        continue
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:  # a torn last line
                        break
                    if event.get("type") == "run_start":
                        start = int(event.get("seq", 0))
        return max(checkpoint_seq, start)

    def _truncate_after(self, seq: int) -> None:
        if not self.events_path.exists():
            return
        kept, offset = 0, 0
        with self.events_path.open("rb") as fh:
            for line in fh:
                if json.loads(line).get("seq", 0) > seq:
                    break
                offset += len(line)
                kept += 1
        with self.events_path.open("rb+") as fh:
            fh.truncate(offset)

    def write(self, event: Event) -> None:
        """Append one event (the bus's primary subscriber). Buffered for at most FLUSH_S, so
        a tailing viewer sees it promptly, and always flushed before a checkpoint. Keys the run
        knows are masked."""
        self._fh.write(redact_known(event.model_dump_json()) + "\n")
        if self._flush_due is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._flush_due = loop.call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        """Hand everything written so far to the OS (survives a kill -9 of this process)."""
        if self._flush_due is not None:
            self._flush_due.cancel()
            self._flush_due = None
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        """Close the event log."""
        self.flush()
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def write_manifest(self, manifest: RunManifest) -> None:
        """Replace manifest.json atomically."""
        manifest.updated_at = time.time()
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(redact_known(manifest.model_dump_json(indent=2)), encoding="utf-8")
        os.replace(tmp, self.manifest_path)

    def read_manifest(self) -> RunManifest | None:
        """The manifest, or None if there is none yet."""
        if not self.manifest_path.exists():
            return None
        try:
            return RunManifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            reason = f"{where}: {first['msg']}" if where else first["msg"]
            raise RunDirError(f"{self.manifest_path} is corrupt ({reason}); restore it or move "
                              "the run directory away to start the run again") from None
        except (ValueError, OSError) as exc:
            raise RunDirError(f"{self.manifest_path} cannot be read: {exc}") from None

    def last_seq(self) -> int:
        """The highest seq in the event log (0 if empty)."""
        if not self.events_path.exists():
            return 0
        events = read_events(self.events_path)
        return events[-1].seq if events else 0
