"""Drawn report figures kept on disk, keyed by everything that shapes them (the data, the
plotting code, matplotlib's version): rebuilding a study's report after another sitting draws
only the figures of runs that changed."""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from scaffold.report._render import FigureJob

MAX_ENTRIES = 4000
"""Figures kept; the least recently used go first."""
NOTHING = b""
"""Stored for a job that had nothing to plot."""
SUFFIX = {"png": ".png", "svg": ".svg"}


def cache_root() -> Path:
    """$SCAFFOLD_CACHE_DIR/report-figures, else under $XDG_CACHE_HOME/scaffold or
    ~/.cache/scaffold (where the embedded model is kept; see scaffold.models)."""
    explicit = os.environ.get("SCAFFOLD_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser() / "report-figures"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "scaffold" / \
        "report-figures"


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The plotting code, the library that draws and its settings (a matplotlibrc): any change
    draws every figure again."""
    import matplotlib

    from scaffold.report import _plots, _render, _tables

    h = hashlib.sha256(matplotlib.__version__.encode())
    h.update(repr(sorted((k, repr(v)) for k, v in matplotlib.rcParams.items())).encode())
    for module in (_plots, _render, _tables):
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def figure_key(job: FigureJob, fmt: str) -> str:
    """A digest of the job's builder, its data, the format and the plotting code."""
    h = hashlib.sha256(_code_digest().encode())
    h.update(f"{fmt}|{job.build.__module__}.{job.build.__qualname__}|".encode())
    h.update(json.dumps([_plain(a) for a in job.args], sort_keys=True, default=str).encode())
    return h.hexdigest()


class FigureCache:
    """Figures by key in one directory; unreadable entries count as missing."""

    def __init__(self, root: Path | None = None):
        self.root = root or cache_root()

    def _path(self, key: str, fmt: str) -> Path:
        return self.root / f"{key}{SUFFIX[fmt]}"

    def get(self, key: str, fmt: str) -> tuple[bool, bytes | str | None]:
        """(found, figure): the figure is None where the job had nothing to plot."""
        path = self._path(key, fmt)
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: pruned last
        except OSError:
            return False, None
        if data == NOTHING:
            return True, None
        return True, data if fmt == "png" else data.decode("utf-8")

    def put(self, key: str, fmt: str, figure: bytes | str | None) -> None:
        """Keep a drawn figure (written whole or not at all; a cache that cannot be written
        is skipped)."""
        data = NOTHING if figure is None else (
            figure if isinstance(figure, bytes) else figure.encode("utf-8"))
        path = self._path(key, fmt)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError:
            return

    def prune(self, keep: int = MAX_ENTRIES) -> None:
        """Remove the least recently used figures beyond `keep`."""
        try:
            entries = sorted(self.root.glob("*.*"), key=lambda p: p.stat().st_mtime)
            for path in entries[:max(0, len(entries) - keep)]:
                path.unlink(missing_ok=True)
        except OSError:
            return
