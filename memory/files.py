"""Memory files (Letta MemFS, Claude's memory tool): named files the agent reads and writes."""

from __future__ import annotations

from typing import Any

from memory._contract import BackendContext, CompactionContext, MemoryRecord, MemoryTool
from memory._files_render import render_files
from memory._files_store import FileStore, safe_path
from memory.budget import TokenCounter
from scaffold.messages import Message
from scaffold.registry import memory_backend

EDIT, OPEN, CLOSE = "file_edit", "file_open", "file_close"
"""Memory event kinds: a file written, changed or deleted; opened into context; closed."""
_PATH = {"type": "string", "description": "a memory file path, e.g. 'notes.md'"}


class FilesMemory:
    """Named memory files, stored as real files under run_dir/memory/files/<agent>/.

    Files in `always` are in the context every step. Any other file enters the context only
    when the agent opens it with `memory_view`, and leaves it when closed (`memory_close`),
    when `open_steps` steps pass without it being opened or edited again (closed in the
    compaction phase of the step that reaches the limit), or when opening another file would
    exceed `max_open` (the least recently used leaves). Every change is a memory event:
    `file_edit` (op create, overwrite, str_replace, delete; old and new text), `file_open`,
    `file_close` (reason closed, expired or max_open).

    Args:
        root: the agent's directory.
        files: the initial files, path -> text.
        always: files rendered every step.
        read_only: files the agent may not change.
        replaces_identity: an always-loaded file holds the identity (the stack leaves it out).
        open_steps: steps an opened file stays without being touched.
        max_open: files open at once besides the always-loaded ones.
        max_files: files the agent may keep.
        max_file_chars: characters one file written by the agent may hold.
        counter: the run's token counter (default: litellm's default encoding).
    """

    name = "files"
    section = "core"

    def __init__(self, root: Any, files: dict[str, str], always: list[str] | None = None,
                 read_only: list[str] | None = None, replaces_identity: bool = False,
                 open_steps: int = 3, max_open: int = 2, max_files: int = 16,
                 max_file_chars: int = 2000, counter: TokenCounter | None = None):
        self.store = FileStore(root)
        self.files = {safe_path(p): t for p, t in files.items()}
        self.always = [safe_path(p) for p in always or []]
        self.read_only = {safe_path(p) for p in read_only or []}
        self.replaces_identity = replaces_identity
        self.open_steps = open_steps
        self.max_open = max_open
        self.max_files = max_files
        self.max_file_chars = max_file_chars
        self.opened: dict[str, int] = {}
        """Open files (not always-loaded) -> step last opened or edited, least recent first."""
        self.step = 0
        self.counter: TokenCounter | None = counter
        """The run's token counter (the stack sets the agent's); render measures with it."""
        self.last_cut: dict[str, Any] | None = None
        """What the last render cut or left out to fit its budget (None: everything shown)."""
        self.store.sync(self.files)

    def render(self, budget: int) -> list[dict[str, Any]]:
        """Always-loaded files, then open ones (most recent first), then the names of the
        closed ones, within `budget` tokens: the first part that does not fit whole is cut
        (ending in CUT_MARKER) and the rest left out; `last_cut` says what."""
        text, self.last_cut = render_files(self.counter, budget, self._loaded(), self._closed())
        return [{"role": "system", "content": text}] if text else []

    def _loaded(self) -> list[tuple[str, str, str]]:
        """(path, how loaded, text) of the files in context, in render order."""
        shown = [(p, "always", self.files[p]) for p in self.always if p in self.files]
        for path, touched in reversed(self.opened.items()):
            left = self.open_steps - (self.step - touched)
            shown.append((path, f"open, {left} step{'s' if left != 1 else ''} left",
                          self.files[path]))
        return shown

    def _closed(self) -> list[tuple[str, int]]:
        return [(p, len(t)) for p, t in self.files.items()
                if p not in self.always and p not in self.opened]

    def observe(self, messages: list[Message]) -> list[MemoryRecord] | None:
        """Files change only through tools; remember the step for records and expiry."""
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"files memory observes Message objects, got {type(message)}")
            self.step = message.step
        return None

    async def maybe_compact(self, ctx: CompactionContext) -> MemoryRecord | None:
        """Close the open files not opened or edited for `open_steps` steps."""
        self.step = ctx.step
        expired = [p for p, t in self.opened.items() if ctx.step - t >= self.open_steps]
        if not expired:
            return None
        before = ctx.prompt_tokens()
        await ctx.before_change(CLOSE)
        for path in expired:
            del self.opened[path]
        return MemoryRecord(kind=CLOSE, backend=self.name, author="system",
                            text="", tokens_before=before, tokens_after=ctx.prompt_tokens(),
                            source_ids=list(expired),
                            detail={"paths": expired, "reason": "expired",
                                    "open_steps": self.open_steps, "step": ctx.step})

    def tools(self) -> list[MemoryTool]:
        """memory_list, memory_view, memory_create, memory_str_replace, memory_delete,
        memory_close."""
        def schema(**props: Any) -> dict[str, Any]:
            return {"type": "object", "properties": props, "required": list(props)}

        text = {"type": "string"}
        return [
            MemoryTool("memory_list", "List your memory files and which are loaded.",
                       {"type": "object", "properties": {}}, self._list),
            MemoryTool("memory_view", "Open a memory file: it is shown in your memory until "
                       "closed or unused for a few steps.", schema(path=_PATH), self._view,
                       kind=OPEN),
            MemoryTool("memory_create", "Create a memory file, or overwrite it.",
                       schema(path=_PATH, file_text=text), self._create, kind=EDIT),
            MemoryTool("memory_str_replace", "Replace one exact occurrence of old_str in a "
                       "memory file by new_str.", schema(path=_PATH, old_str=text,
                                                         new_str=text),
                       self._str_replace, kind=EDIT),
            MemoryTool("memory_delete", "Delete a memory file.", schema(path=_PATH),
                       self._delete, kind=EDIT),
            MemoryTool("memory_close", "Close an open memory file (it leaves your memory).",
                       schema(path=_PATH), self._close, kind=CLOSE),
        ]

    def _list(self, args: dict[str, Any]) -> tuple[str, None]:
        if not self.files:
            return "no memory files", None
        lines = [f"{p} ({len(t)} characters, {self._status(p)})" for p, t in self.files.items()]
        return "\n".join(lines), None

    def _status(self, path: str) -> str:
        if path in self.always:
            return "always loaded"
        return "open" if path in self.opened else "closed"

    def _existing(self, args: dict[str, Any]) -> str:
        path = safe_path(args.get("path"))
        self.store.target(path)  # a link planted at the path is refused even for reads
        if path not in self.files:
            known = ", ".join(self.files) or "none"
            raise ValueError(f"no memory file {path!r}; files: {known}")
        return path

    def _writable(self, path: str) -> None:
        if path in self.read_only:
            raise ValueError(f"{path} is read-only")

    def _view(self, args: dict[str, Any]) -> tuple[str, MemoryRecord]:
        path = self._existing(args)
        detail: dict[str, Any] = {"path": path, "step": self.step}
        if path in self.always:
            result = f"{path} is always loaded in your memory"
            detail["always"] = True
        else:
            self.opened.pop(path, None)
            self.opened[path] = self.step
            evicted = list(self.opened)[:-self.max_open]
            for old in evicted:
                del self.opened[old]
            if evicted:
                detail["closed"] = evicted
            result = (f"opened {path} ({len(self.files[path])} characters): it is shown in "
                      f"your memory for {self.open_steps} steps unless used again or closed")
            if evicted:
                result += f"; closed {', '.join(evicted)} (at most {self.max_open} open)"
        record = MemoryRecord(kind=OPEN, backend=self.name, author="agent",
                              text=self.files[path], source_ids=[path], detail=detail)
        return result, record

    def _create(self, args: dict[str, Any]) -> tuple[str, MemoryRecord]:
        path = safe_path(args.get("path"))
        self._writable(path)
        if path not in self.files and len(self.files) >= self.max_files:
            raise ValueError(f"at most {self.max_files} memory files; delete one first")
        text = args.get("file_text", args.get("content"))
        if not isinstance(text, str):
            raise ValueError("file_text: give the file's text")
        op = "overwrite" if path in self.files else "create"
        return self._write(path, text, op)

    def _str_replace(self, args: dict[str, Any]) -> tuple[str, MemoryRecord]:
        path = self._existing(args)
        self._writable(path)
        old_str, new_str = args.get("old_str"), args.get("new_str", "")
        if not isinstance(old_str, str) or not old_str or not isinstance(new_str, str):
            raise ValueError("old_str and new_str: give the exact text to replace and its "
                             "replacement")
        count = self.files[path].count(old_str)
        if count != 1:
            raise ValueError(f"old_str occurs {count} times in {path}; it must occur once")
        return self._write(path, self.files[path].replace(old_str, new_str), "str_replace")

    def _write(self, path: str, text: str, op: str) -> tuple[str, MemoryRecord]:
        if len(text) > self.max_file_chars:
            raise ValueError(f"{path} would have {len(text)} characters; the limit is "
                             f"{self.max_file_chars}")
        self.store.write(path, text)
        old = self.files.get(path)
        self.files[path] = text
        if path in self.opened:  # an edit keeps an open file open
            self.opened.pop(path)
            self.opened[path] = self.step
        record = MemoryRecord(kind=EDIT, backend=self.name, author="agent", text=text,
                              source_ids=[path],
                              detail={"path": path, "op": op, "old": old, "new": text,
                                      "step": self.step, "loaded": self._status(path)})
        return f"{op}: {path} ({len(text)} characters)", record

    def _delete(self, args: dict[str, Any]) -> tuple[str, MemoryRecord]:
        path = self._existing(args)
        self._writable(path)
        self.store.delete(path)
        old = self.files.pop(path)
        self.opened.pop(path, None)
        record = MemoryRecord(kind=EDIT, backend=self.name, author="agent", text="",
                              source_ids=[path],
                              detail={"path": path, "op": "delete", "old": old, "new": None,
                                      "step": self.step})
        return f"deleted {path}", record

    def _close(self, args: dict[str, Any]) -> tuple[str, MemoryRecord]:
        path = self._existing(args)
        if path not in self.opened:
            raise ValueError(f"{path} is not open ({self._status(path)})")
        del self.opened[path]
        record = MemoryRecord(kind=CLOSE, backend=self.name, author="agent", text="",
                              source_ids=[path],
                              detail={"paths": [path], "reason": "closed", "step": self.step})
        return f"closed {path}", record

    def snapshot(self) -> dict[str, Any]:
        """Every file's text, which are open (and since when), always-loaded and read-only."""
        return {"files": dict(self.files), "opened": dict(self.opened), "step": self.step,
                "always": list(self.always), "read_only": sorted(self.read_only)}

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot and rewrite the directory to hold exactly its files.

        Raises:
            ValueError: not a files snapshot.
        """
        files = data.get("files") if isinstance(data, dict) else None
        opened = data.get("opened") if isinstance(data, dict) else None
        if not isinstance(files, dict) or not isinstance(opened, dict) \
                or not all(isinstance(t, str) for t in files.values()):
            raise ValueError("not a files snapshot: expected {'files': {path: text}, "
                             "'opened': {path: step}}")
        self.files = {safe_path(p): t for p, t in files.items()}
        self.opened = {p: int(s) for p, s in opened.items() if p in self.files}
        self.step = int(data.get("step", 0))
        self.store.sync(self.files)


@memory_backend("files")
def make_files(*, context: BackendContext | None = None, always: list[str] | None = None,
               seed: dict[str, str] | None = None, identity_file: str | None = "identity.md",
               read_only: list[str] | None = None, **settings: Any) -> FilesMemory:
    """Factory for the registry; takes FilesSpec fields. Files live in
    run_dir/memory/files/<agent id>/; the identity file is seeded with the persona's identity."""
    if context is None:
        raise ValueError("files memory needs a BackendContext (its run directory)")
    always = ["identity.md"] if always is None else always
    files = dict(seed or {})
    if identity_file is not None and identity_file not in files:
        files = {identity_file: context.identity, **files}
    root = context.run_dir / "memory" / "files" / context.agent_id
    return FilesMemory(root, files, always, read_only,
                       replaces_identity=identity_file is not None and identity_file in always,
                       **settings, counter=context.counter)
