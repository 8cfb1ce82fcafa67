"""Where axis files are found: SCAFFOLD_ACTIVATION_AXES, the axes cache, the shipped ones."""

from __future__ import annotations

import os
from pathlib import Path

from scaffold.activations.axis import Axis, load_axis

AXES_ENV = "SCAFFOLD_ACTIVATION_AXES"
"""Axis files or directories (os.pathsep-separated) searched before the defaults."""
SHIPPED_DIR = Path(__file__).parent / "data"
"""Axes that ship with the project (built with `scaffold axis build` on the embedded model)."""


def axes_cache_dir() -> Path:
    """Where `scaffold axis build` writes by default: <scaffold cache>/axes."""
    from scaffold.models._gguf import cache_dir

    return cache_dir() / "axes"


def search_path() -> list[Path]:
    """Axis files and directories in the order they are searched."""
    raw = os.environ.get(AXES_ENV, "")
    chosen = [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]
    return [*chosen, axes_cache_dir(), SHIPPED_DIR]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(path.glob("*.npz")) if path.is_dir() else []


def find_axes(sha256: str, persona: str | None) -> tuple[Axis | None, Axis | None]:
    """The first assistant axis, and the first axis of `persona`, built on the model with
    this GGUF sha256 (axes of other models are skipped: their directions mean nothing here).

    Returns:
        (assistant axis or None, persona axis or None).
    """
    assistant: Axis | None = None
    own: Axis | None = None
    for file in (f for p in search_path() for f in _files(p)):
        axis = load_axis(file)
        if axis.meta.model.sha256 != sha256:
            continue
        if axis.meta.kind == "assistant" and assistant is None:
            assistant = axis
        elif axis.meta.kind == "persona" and own is None and persona is not None \
                and axis.meta.persona == persona:
            own = axis
        if assistant is not None and (own is not None or persona is None):
            break
    return assistant, own
