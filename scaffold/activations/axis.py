"""Axis files: a direction per layer in a model's residual stream, with how it was built."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scaffold.errors import ConfigError

FORMAT: Literal["scaffold-axis"] = "scaffold-axis"
VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AxisModel(_Frozen):
    """The model the axis belongs to; projections of any other model's activations are
    meaningless."""

    name: str
    """As configured: `local/qwen2.5-0.5b-instruct`, `hf/<repo>`."""
    file: str
    """GGUF file name or Hugging Face repository."""
    sha256: str
    """GGUF sha256 (for a Hugging Face model, the sha256 over its weight files)."""
    n_layers: int
    hidden: int


class LayerStats(_Frozen):
    """Projections of the build's own responses on one layer's (unit) axis."""

    default_mean: float
    default_std: float
    """The default-assistant distribution z-scores are taken against."""
    other_mean: float
    other_std: float
    """Role responses (assistant axis) or in-persona responses (persona axis)."""
    auroc: float
    """How well the projection separates the two groups on the build's responses (training
    data: the held-out figure is `benchmarks/activations.py`'s)."""
    d: float
    """Cohen's d between the groups (other minus default)."""


class BuildSettings(_Frozen):
    """How the responses were made: greedy replies, each read in its own context."""

    max_tokens: int
    seed: int
    temperature: float = 0.0
    n_ctx: int
    roles_dir: str | None = None
    persona_file: str | None = None
    plan: dict[str, float] = Field(default_factory=dict)
    """The plan's parameters (roles, questions, held-out counts or fraction)."""
    seconds: float = 0.0
    """Wall time of the build."""
    note: str = ""


class AxisPrompts(_Frozen):
    """What the responses answered: system prompts and questions, and what was held out."""

    default_systems: list[str | None]
    """Default-assistant system prompts (None: the chat template's own default)."""
    other_systems: dict[str, list[str]]
    """Role (or persona) name -> the system prompts used for it."""
    questions: list[str]
    held_out_roles: list[str] = Field(default_factory=list)
    held_out_questions: list[str] = Field(default_factory=list)


class AxisMeta(_Frozen):
    """Everything in an axis file but the vectors."""

    format: Literal["scaffold-axis"] = FORMAT
    version: int = VERSION
    kind: Literal["assistant", "persona"]
    name: str
    """`assistant`, or `persona:<persona name>`."""
    persona: str | None = None
    model: AxisModel
    layers: list[int]
    layer: int
    """The layer scores use: the one that best separates the build's two groups."""
    direction: str
    """In words: `default minus roles` or `persona minus default`."""
    counts: dict[str, int]
    """Responses per group (`default`, `other`)."""
    stats: dict[int, LayerStats]
    settings: BuildSettings
    prompts: AxisPrompts


class Projection(_Frozen):
    """One text's position on an axis."""

    axis: str
    layer: int
    projection: float
    """Dot product of the text's mean activation with the unit axis."""
    z: float
    """(projection - default mean) / default std: distance from the default assistant."""
    value: float
    """Fraction of the way from the default mean (0) to the other group's mean (1), clipped."""


class Axis:
    """An axis file loaded: its metadata and one unit vector per layer (float32)."""

    def __init__(self, meta: AxisMeta, vectors: dict[int, NDArray[np.float32]]):
        missing = [layer for layer in meta.layers if layer not in vectors]
        if missing or meta.layer not in meta.layers:
            raise ValueError(f"axis {meta.name}: no vector for layers {missing or [meta.layer]}")
        self.meta = meta
        self.vectors = {layer: np.asarray(v, dtype=np.float32) for layer, v in vectors.items()}

    def project(self, mean: NDArray[np.float32], layer: int | None = None) -> Projection:
        """Place a text's mean activation (at `layer`, default the axis's own) on the axis."""
        chosen = self.meta.layer if layer is None else layer
        stats = self.meta.stats[chosen]
        value = float(np.dot(np.asarray(mean, dtype=np.float32), self.vectors[chosen]))
        return Projection(axis=self.meta.name, layer=chosen, projection=value,
                          z=z_score(value, stats), value=unit_value(value, stats))


def z_score(projection: float, stats: LayerStats) -> float:
    """Standard score against the default distribution (std floored to avoid division by 0)."""
    return (projection - stats.default_mean) / max(stats.default_std, 1e-6)


def unit_value(projection: float, stats: LayerStats) -> float:
    """0 at the default mean, 1 at the other group's mean, linear between, clipped to [0, 1]."""
    span = stats.other_mean - stats.default_mean
    if span == 0 or not math.isfinite(span):
        return 0.5
    return float(min(1.0, max(0.0, (projection - stats.default_mean) / span)))


def save_axis(axis: Axis, path: Path) -> None:
    """Write an axis file (.npz): `meta` (JSON) and `layer_<n>` float16 unit vectors."""
    arrays: dict[str, NDArray[np.generic]] = {
        f"layer_{layer}": axis.vectors[layer].astype(np.float16) for layer in axis.meta.layers}
    arrays["meta"] = np.array(axis.meta.model_dump_json())
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def load_axis(path: Path) -> Axis:
    """Read an axis file.

    Raises:
        ConfigError: the file is missing, not an axis file, or of another format version.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = AxisMeta.model_validate(json.loads(str(data["meta"])))
            vectors = {layer: data[f"layer_{layer}"].astype(np.float32) for layer in meta.layers}
    except FileNotFoundError:
        raise ConfigError(str(path), ["axis: the file does not exist (build one with "
                                      "`scaffold axis build`)"]) from None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ValidationError) as exc:
        raise ConfigError(str(path), [f"axis: not a scaffold axis file ({exc})"]) from None
    try:
        return Axis(meta, vectors)
    except ValueError as exc:
        raise ConfigError(str(path), [f"axis: {exc}"]) from None


def unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    """The vector scaled to length 1, rounded through float16 as it is stored."""
    norm = float(np.linalg.norm(vector))
    if norm == 0 or not math.isfinite(norm):
        raise ValueError("the two groups have the same mean activation: no axis")
    return (vector / norm).astype(np.float16).astype(np.float32)
