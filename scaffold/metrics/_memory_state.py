"""What an agent's memory holds, rebuilt from its memory events alone: the memory stream with
importance and reflections, the fact table with its history, sleep-time rewrites of core
blocks, and memory files. The report and the TUI share it."""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from scaffold.events import MemoryEvent

_RATED_LINE = re.compile(r"^\[(\d+)\] (.*)$")
FACT_OPS = {"fact_add": "ADD", "fact_update": "UPDATE", "fact_delete": "DELETE"}
"""Fact event kinds and the operation each records."""


@dataclass
class StreamItem:
    """One memory of a memory stream: an observation or a reflection."""

    id: str
    kind: str
    """`observation` or `reflection`."""
    step: int
    importance: int | None
    text: str
    cites: list[str] = field(default_factory=list)
    """For a reflection: the ids of the memories it was drawn from."""
    question: str = ""
    """For a reflection: the question it answers."""
    seq: int = 0
    """The memory event that recorded it."""


@dataclass(frozen=True)
class FactChangeView:
    """One entry of a fact's history."""

    seq: int
    step: int
    op: str
    """ADD, UPDATE or DELETE."""
    old: str
    new: str


@dataclass
class FactView:
    """One fact of a fact table: its text now and every change to it."""

    id: str
    text: str
    live: bool = True
    history: list[FactChangeView] = field(default_factory=list)


@dataclass(frozen=True)
class BlockRewrite:
    """One block's rewrite by a second model (a sleep-time agent)."""

    seq: int
    step: int
    block: str
    trigger: str
    old: str
    new: str
    changed: bool
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class FileChange:
    """One edit of a memory file."""

    seq: int
    step: int
    op: str
    """create, overwrite, str_replace or delete."""
    old: str | None
    new: str | None


@dataclass
class FileView:
    """One memory file: its text now, whether it is in context, its edits."""

    path: str
    text: str
    loaded: str = "closed"
    """`always` (in context every step), `open` (opened, in context), `closed`, `deleted`."""
    edits: list[FileChange] = field(default_factory=list)


class MemoryContents:
    """An agent's memory as its memory events tell, within optional bounds.

    Args:
        files: the files the agent starts with, path -> text (see `initial_files`).
        always: the always-loaded files.
        limit: memories, rewrites and file edits kept (None: all; the TUI bounds them).
    """

    def __init__(self, files: dict[str, str] | None = None, always: list[str] | None = None,
                 limit: int | None = None):
        self.limit = limit
        self.stream: OrderedDict[str, StreamItem] = OrderedDict()
        self.reflections: OrderedDict[str, StreamItem] = OrderedDict()
        self.facts: OrderedDict[str, FactView] = OrderedDict()
        self.rewrites: deque[BlockRewrite] = deque(maxlen=limit)
        self.blocks: dict[str, str] = {}
        """Core blocks as last rewritten by a second model."""
        self.always = list(always or [])
        self.files: OrderedDict[str, FileView] = OrderedDict(
            (p, FileView(p, t, "always" if p in self.always else "closed"))
            for p, t in (files or {}).items())

    @property
    def empty(self) -> bool:
        """Whether nothing of these kinds was seen."""
        return not (self.stream or self.reflections or self.facts or self.rewrites
                    or self.files)

    def apply(self, e: MemoryEvent) -> bool:
        """Take one memory event; whether it changed what is held."""
        if e.status != "ok":
            return False
        detail = e.detail
        if isinstance(detail.get("observations"), list):
            return self._observations(e, detail["observations"])
        if isinstance(detail.get("reflections"), list) and e.kind == "reflect":
            return self._reflections(e, detail["reflections"])
        if e.kind in FACT_OPS and isinstance(detail.get("fact_id"), str):
            return self._fact(e, FACT_OPS[e.kind], detail)
        if isinstance(detail.get("blocks"), dict):
            return self._rewrite(e, detail)
        if e.kind.startswith("file_") and ("path" in detail or "paths" in detail):
            return self._file(e, detail)
        return False

    def _bound(self, items: OrderedDict[str, Any]) -> None:
        while self.limit is not None and len(items) > self.limit:
            items.popitem(last=False)

    def _observations(self, e: MemoryEvent, rows: list[Any]) -> bool:
        lines = e.text.split("\n")
        for i, row in enumerate(r for r in rows if isinstance(r, dict)):
            match = _RATED_LINE.match(lines[i]) if i < len(lines) else None
            importance = row.get("importance")
            self.stream[str(row.get("id"))] = StreamItem(
                id=str(row.get("id")), kind="observation", step=e.step,
                importance=importance if isinstance(importance, int) else None,
                text=match.group(2) if match else "", seq=e.seq)
        self._bound(self.stream)
        return bool(rows)

    def _reflections(self, e: MemoryEvent, rows: list[Any]) -> bool:
        for row in (r for r in rows if isinstance(r, dict)):
            importance = row.get("importance")
            item = StreamItem(
                id=str(row.get("id")), kind="reflection", step=int(row.get("step", e.step)),
                importance=importance if isinstance(importance, int) else None,
                text=str(row.get("text") or ""), cites=[str(c) for c in row.get("cites") or []],
                question=str(row.get("question") or ""), seq=e.seq)
            self.reflections[item.id] = item
        self._bound(self.reflections)
        return bool(rows)

    def _fact(self, e: MemoryEvent, op: str, detail: dict[str, Any]) -> bool:
        fid = detail["fact_id"]
        old, new = str(detail.get("old") or ""), str(detail.get("new") or "")
        fact = self.facts.get(fid) or FactView(fid, old)
        fact.history.append(FactChangeView(e.seq, e.step, op, old, new))
        fact.live = op != "DELETE"
        if op != "DELETE":
            fact.text = new
        self.facts[fid] = fact
        self._bound(self.facts)
        return True

    def _rewrite(self, e: MemoryEvent, detail: dict[str, Any]) -> bool:
        for block, change in detail["blocks"].items():
            if not isinstance(change, dict):
                continue
            old, new = str(change.get("old") or ""), str(change.get("new") or "")
            # logs written before whitespace-only rewrites counted as unchanged mark them
            # changed: they are shown as unchanged, and their text still replaces the block
            changed = bool(change.get("changed")) and _words(old) != _words(new)
            rewrite = BlockRewrite(
                seq=e.seq, step=e.step, block=str(block), trigger=str(detail.get("trigger", "")),
                old=old, new=new, changed=changed, status=str(change.get("status", "ok")),
                reason=change.get("reason"))
            self.rewrites.append(rewrite)
            if change.get("changed") and rewrite.status == "ok":
                self.blocks[rewrite.block] = rewrite.new
        return True

    def _file(self, e: MemoryEvent, detail: dict[str, Any]) -> bool:
        if e.kind == "file_edit":
            self._edit(e, str(detail["path"]), detail)
        elif e.kind == "file_open":
            path = str(detail["path"])
            view = self.files.setdefault(path, FileView(path, e.text))
            view.text = e.text or view.text
            view.loaded = "always" if detail.get("always") or path in self.always else "open"
            for closed in detail.get("closed") or []:
                self._close(str(closed))
        elif e.kind == "file_close":
            for path in detail.get("paths") or []:
                self._close(str(path))
        else:
            return False
        return True

    def _edit(self, e: MemoryEvent, path: str, detail: dict[str, Any]) -> None:
        op = str(detail.get("op", "edit"))
        old, new = detail.get("old"), detail.get("new")
        view = self.files.setdefault(path, FileView(path, ""))
        view.edits.append(FileChange(e.seq, e.step, op, None if old is None else str(old),
                                     None if new is None else str(new)))
        if self.limit is not None:
            del view.edits[:-self.limit]
        if op == "delete":
            view.text, view.loaded = "", "deleted"
            return
        view.text = "" if new is None else str(new)
        loaded = detail.get("loaded")
        if loaded in ("always loaded", "open", "closed"):
            view.loaded = "always" if loaded == "always loaded" else str(loaded)
        elif view.loaded == "deleted":
            view.loaded = "always" if path in self.always else "closed"

    def _close(self, path: str) -> None:
        view = self.files.get(path)
        if view is not None and view.loaded == "open":
            view.loaded = "closed"


def _words(text: str) -> str:
    """The text with every run of whitespace made one space, and none at the ends."""
    return " ".join(text.split())


def initial_files(spec: dict[str, Any], agent_id: str) -> tuple[dict[str, str], list[str]]:
    """The memory files an agent of a run spec starts with (path -> text) and its
    always-loaded files; nothing when its memory has no `files` backend."""
    from scaffold.config import CONDITIONS

    agent: dict[str, Any] = next(
        (a for a in spec.get("agents", []) if a.get("id") == agent_id), {})
    memory = agent.get("memory") or {}
    backends = memory.get("backends") or CONDITIONS.get(str(memory.get("condition") or ""), ())
    if "files" not in backends:
        return {}, []
    settings = memory.get("files") or {}
    always = [str(p) for p in settings.get("always", ["identity.md"])]
    files = {str(p): str(t) for p, t in (settings.get("seed") or {}).items()}
    identity_file = settings.get("identity_file", "identity.md")
    if identity_file and identity_file not in files:
        persona = (spec.get("personas") or {}).get(str(agent.get("persona") or "")) or {}
        identity = persona.get("identity", "") if isinstance(persona, dict) else ""
        files = {str(identity_file): str(identity or ""), **files}
    return files, always


def memory_contents(events: list[Any], spec: dict[str, Any], agent_id: str,
                    limit: int | None = None) -> MemoryContents:
    """An agent's memory contents at the end of `events` (a run's events, in order)."""
    files, always = initial_files(spec, agent_id)
    contents = MemoryContents(files, always, limit)
    for e in events:
        if isinstance(e, MemoryEvent) and e.agent_id == agent_id:
            contents.apply(e)
    return contents
