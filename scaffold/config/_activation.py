"""The activation scorer's settings: which model reads the texts, which axis files, which layer."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scaffold.config._base import Spec

DEFAULT_READER = "local/qwen2.5-0.5b-instruct"
"""The embedded default model (scaffold.activations.DEFAULT_READER)."""
READER_PREFIXES = ("local/", "hf/")
"""Models whose activations can be read: llama.cpp GGUFs and transformers checkpoints."""


class AxisFile(BaseModel):
    """One axis file as the config check read it: what it is and its exact bytes' sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    sha256: str
    """sha256 of the file's bytes (which axis, exactly)."""
    kind: str
    """`assistant` or `persona`."""
    name: str
    """`assistant` or `persona:<persona name>`."""
    persona: str | None
    model: str
    """The model it was built on, as named at build time."""
    model_sha256: str
    """That model's GGUF sha256 (an hf/ model: a sha256 over its weight files); the reader
    must have the same."""
    layers: list[int]
    layer: int
    """The axis's own scoring layer."""


@lru_cache(maxsize=64)
def _read_axis_file(path: str, mtime_ns: int, size: int) -> AxisFile:
    from scaffold.activations.axis import load_axis

    meta = load_axis(Path(path)).meta
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return AxisFile(path=path, sha256=digest, kind=meta.kind, name=meta.name,
                    persona=meta.persona, model=meta.model.name,
                    model_sha256=meta.model.sha256, layers=list(meta.layers), layer=meta.layer)


def axis_file(path: str | Path) -> AxisFile:
    """Read an axis file's identity (cached while the file is unchanged).

    Raises:
        ValueError: the file is missing or not a scaffold axis file.
    """
    from scaffold.errors import ConfigError

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"axis file not found: {p} (build one with `scaffold axis build`)")
    stat = p.stat()
    try:
        return _read_axis_file(str(p), stat.st_mtime_ns, stat.st_size)
    except ConfigError as exc:
        raise ValueError("; ".join(x.removeprefix("axis: ") for x in exc.problems)
                         + f" ({p})") from None


class ActivationSpec(Spec):
    """The `activation` scorer: the model that reads each scored text, and the axes its mean
    activation is projected onto. Recorded in the run's manifest with the reader's GGUF
    sha256 (an hf/ reader: a sha256 over its weight files) and each axis file's sha256."""

    reader: str = DEFAULT_READER
    """The reader: `local/<name or .gguf path>` (llama.cpp) or `hf/<repo>` (transformers).
    When the agents run on another model, scores say how the reader represents their text."""
    axes: list[str] = Field(default_factory=list)
    """Axis files (`scaffold axis build`), relative to the experiment file: at most one
    assistant axis and one persona axis per persona, all built on the reader's weights.
    Empty: the first axes built on the reader found in the axes cache
    (~/.cache/scaffold/axes/), then the shipped ones."""
    layer: int | None = Field(default=None, ge=0)
    """Score at this layer (every axis must hold it); default each axis's own scoring layer."""

    @field_validator("reader")
    @classmethod
    def _readable(cls, reader: str) -> str:
        if not reader.startswith(READER_PREFIXES) or reader in READER_PREFIXES:
            raise ValueError(
                f"activations cannot be read from {reader!r}: API and scripted models do not "
                f"expose them; use the embedded model ({DEFAULT_READER}), "
                f"local/<path to a .gguf> or hf/<repo>")
        return reader

    def axis_files(self) -> list[AxisFile]:
        """The configured axis files, read and checked together.

        Raises:
            ValueError: a file is missing or not an axis file, or the files do not fit
                together or the layer; the message starts with the field (`axes[1]: ...`).
        """
        files = []
        for i, path in enumerate(self.axes):
            try:
                files.append(axis_file(path))
            except ValueError as exc:
                raise ValueError(f"axes[{i}]: {exc}") from None
        problem = axes_problem(files, self.layer)
        if problem:
            raise ValueError(problem)
        return files


def axes_problem(files: list[AxisFile], layer: int | None) -> str | None:
    """What is wrong with a set of axis files used together, naming the field; None if fine."""
    seen: dict[str, int] = {}
    for i, f in enumerate(files):
        if f.name in seen:
            return (f"axes[{i}]: a second {f.name} axis (axes[{seen[f.name]}] is one): the "
                    "scorer uses one assistant axis and one axis per persona")
        seen[f.name] = i
        if f.model_sha256 != files[0].model_sha256:
            return (f"axes[{i}]: built on {f.model} ({f.model_sha256[:12]}...), but axes[0] "
                    f"on {files[0].model} ({files[0].model_sha256[:12]}...): one reader "
                    "cannot use both")
        if layer is not None and layer not in f.layers:
            return (f"layer: {layer} is not in axes[{i}] ({Path(f.path).name} holds layers "
                    f"{f.layers})")
    return None


AXES_PATH = "activation.axes"
"""The dotted path of the axis files (a sweep may vary them)."""


def _absolute(paths: Any, base: Path) -> Any:
    if not isinstance(paths, list):
        return paths
    return [str((base / Path(p).expanduser()).resolve()) if isinstance(p, str) else p
            for p in paths]


def _sweep_values(value: Any, base: Path) -> Any:
    """A sweep value of `activation.axes` (a list of files, or a linked axis's mapping)."""
    if isinstance(value, dict) and AXES_PATH in value:
        return {**value, AXES_PATH: _absolute(value[AXES_PATH], base)}
    return _absolute(value, base)


def resolve_axis_paths(data: dict[str, Any], base_dir: str | Path | None) -> dict[str, Any]:
    """`activation.axes` made absolute, relative paths against the config file's directory,
    also where a sweep varies them (left as they are when malformed: validation names the
    problem)."""
    base = Path(base_dir) if base_dir else Path.cwd()
    section = data.get("activation")
    if isinstance(section, dict) and "axes" in section:
        data = {**data, "activation": {**section, "axes": _absolute(section["axes"], base)}}
    sweep = data.get("sweep")
    if isinstance(sweep, dict):
        axes = {k: [_sweep_values(v, base) for v in values]
                for k, values in sweep.items() if isinstance(values, list) and (
                    k == AXES_PATH or any(isinstance(v, dict) and AXES_PATH in v
                                          for v in values))}
        data = {**data, "sweep": {**sweep, **axes}}
    return data
