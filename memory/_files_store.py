"""Memory files on disk: safe relative paths under one agent's directory, mirrored from memory."""

from __future__ import annotations

import os
from pathlib import Path

from scaffold.config._memory_designs import check_file_path

MAX_DEPTH = 4
"""Folders a memory file path may nest (notes/people/kennedy.md is depth 3)."""


def safe_path(path: object) -> str:
    """A memory file path as given, when it is safe; hostile paths raise.

    Raises:
        ValueError: not a relative path of plain names (absolute, '..', '.', hidden names,
            backslashes, control characters, too long or too deep), with a message for the agent.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError("path: give a memory file path such as 'notes.md'")
    if path.startswith(("/", "\\", "~")) or (len(path) > 1 and path[1] == ":"):
        raise ValueError(f"path {path!r} is absolute; memory file paths are relative, "
                         "like 'notes.md' or 'people/friends.md'")
    if ".." in path.replace("\\", "/").split("/"):
        raise ValueError(f"path {path!r} leaves the memory directory ('..' is not allowed)")
    try:
        check_file_path(path)
    except ValueError as exc:
        raise ValueError(f"path {exc}") from None
    if path.count("/") >= MAX_DEPTH:
        raise ValueError(f"path {path!r} nests deeper than {MAX_DEPTH} folders")
    return path


class FileStore:
    """One agent's memory files as real files under `root`, written from the backend's state
    (the state, not the disk, is the truth: a resumed run rewrites the disk from its snapshot).

    Every write checks that no component of the path is a symbolic link and that the file
    resolves inside `root`, so a link planted in the directory cannot redirect a write.

    Args:
        root: the agent's memory file directory (created when missing).
    """

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        if root.is_symlink():
            raise ValueError(f"{root} is a symbolic link; memory files need a real directory")
        self._real_root = root.resolve()

    def target(self, path: str) -> Path:
        """The file `path` names under root, checked.

        Raises:
            ValueError: the path is unsafe, runs through a symbolic link or leaves root.
        """
        safe_path(path)
        current = self.root
        for part in path.split("/"):
            current = current / part
            if current.is_symlink():
                raise ValueError(f"path {path!r} runs through a symbolic link "
                                 f"({current.relative_to(self.root)}); links are refused")
        if not current.resolve().is_relative_to(self._real_root):
            raise ValueError(f"path {path!r} leaves the memory directory")
        return current

    def write(self, path: str, text: str) -> None:
        """Write one file (atomically: a reader never sees half a file)."""
        target = self.target(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)

    def delete(self, path: str) -> None:
        """Remove one file (and folders it leaves empty)."""
        target = self.target(path)
        target.unlink(missing_ok=True)
        parent = target.parent
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    def sync(self, files: dict[str, str]) -> None:
        """Make the directory hold exactly `files`: write each, remove anything else (links
        are removed as links, never followed)."""
        for path, text in files.items():
            self.write(path, text)
        keep = {self.root / p for p in files}
        for entry in sorted(self.root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if entry in keep:
                continue
            if entry.is_symlink() or entry.is_file():
                entry.unlink()
            elif entry.is_dir() and not any(entry.iterdir()):
                entry.rmdir()
