"""Axis search when an experiment names no axis files: the axes cache, then the shipped axes."""

from __future__ import annotations

from pathlib import Path

from scaffold.activations.axis import Axis, load_axis

SHIPPED_DIR = Path(__file__).parent / "data"
"""Axes that ship with the project (built with `scaffold axis build` on the embedded model)."""


def axes_cache_dir() -> Path:
    """Where `scaffold axis build` writes by default: <scaffold cache>/axes."""
    from scaffold.models._gguf import cache_dir

    return cache_dir() / "axes"


def search_path() -> list[Path]:
    """Directories searched, in order (an experiment's `activation.axes` replaces them)."""
    return [axes_cache_dir(), SHIPPED_DIR]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(path.glob("*.npz")) if path.is_dir() else []


def axis_files() -> list[Path]:
    """Every axis file on the search path, in search order."""
    return [f for p in search_path() for f in _files(p)]


def find_axis_files(sha256: str, persona: str | None) -> tuple[Path | None, Path | None]:
    """The first assistant axis file, and the first axis file of `persona`, built on the
    model with this GGUF sha256 (axes of other models are skipped: their directions mean
    nothing here).

    Returns:
        (assistant axis file or None, persona axis file or None).
    """
    assistant: Path | None = None
    own: Path | None = None
    for file in axis_files():
        meta = load_axis(file).meta
        if meta.model.sha256 != sha256:
            continue
        if meta.kind == "assistant" and assistant is None:
            assistant = file
        elif meta.kind == "persona" and own is None and persona is not None \
                and meta.persona == persona:
            own = file
        if assistant is not None and (own is not None or persona is None):
            break
    return assistant, own


def find_axes(sha256: str, persona: str | None) -> tuple[Axis | None, Axis | None]:
    """The axes of `find_axis_files`, loaded."""
    assistant, own = find_axis_files(sha256, persona)
    return (load_axis(assistant) if assistant else None), (load_axis(own) if own else None)
