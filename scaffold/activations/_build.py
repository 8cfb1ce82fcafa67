"""Building an axis: make each response, read its activations, take the difference of means."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scaffold.activations._plans import Prompt
from scaffold.activations._reading import ActivationReader
from scaffold.activations.axis import (
    Axis,
    AxisMeta,
    AxisModel,
    AxisPrompts,
    BuildSettings,
    LayerStats,
    unit,
)

Advance = Callable[[], None]
Values = Sequence[float] | NDArray[np.floating[Any]]
"""One group's projections."""


@dataclass(frozen=True)
class Collected:
    """Responses made for a list of prompts and their mean activations.

    Attributes:
        prompts: the prompts whose response had text (empty responses are dropped).
        responses: the responses, in the same order.
        means: per layer, one row per response.
        skipped: prompts whose response was empty.
    """

    prompts: list[Prompt]
    responses: list[str]
    means: dict[int, NDArray[np.float32]]
    skipped: int

    def group(self, layer: int, group: str) -> NDArray[np.float32]:
        """The rows of one group (`default` or `other`) at one layer."""
        rows = [i for i, p in enumerate(self.prompts) if p.group == group]
        return self.means[layer][rows]


def collect(reader: ActivationReader, prompts: Sequence[Prompt], layers: Sequence[int],
            max_tokens: int, seed: int, advance: Advance | None = None) -> Collected:
    """Make a greedy response to each prompt and read its activations in its context."""
    kept: list[Prompt] = []
    responses: list[str] = []
    rows: dict[int, list[NDArray[np.float32]]] = {layer: [] for layer in layers}
    for prompt in prompts:
        messages = prompt.messages()
        response = reader.generate(messages, max_tokens, seed).strip()
        if response:
            reading = reader.read(messages, response, layers)
            kept.append(prompt)
            responses.append(response)
            for layer in layers:
                rows[layer].append(reading.means[layer])
        if advance is not None:
            advance()
    width = reader.identity.hidden
    means = {layer: (np.stack(r) if r else np.zeros((0, width), np.float32))
             for layer, r in rows.items()}
    return Collected(kept, responses, means, len(prompts) - len(kept))


def auroc(positive: Values, negative: Values) -> float:
    """P(a random positive scores above a random negative), ties counting half."""
    pos, neg = np.asarray(positive, float), np.asarray(negative, float)
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


def cohens_d(a: Values, b: Values) -> float:
    """(mean a - mean b) / pooled standard deviation."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    if x.size < 2 or y.size < 2:
        return float("nan")
    pooled = np.sqrt(((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1))
                     / (x.size + y.size - 2))
    return float((x.mean() - y.mean()) / pooled) if pooled > 0 else float("nan")


def layer_axis(default: NDArray[np.float32], other: NDArray[np.float32], toward_default: bool
               ) -> tuple[NDArray[np.float32], LayerStats]:
    """One layer's unit axis and the build responses' projections on it.

    Args:
        default: mean activations of default-assistant responses (rows).
        other: those of role (or in-persona) responses.
        toward_default: True for the assistant axis (default minus roles), False for a
            persona axis (persona minus default).
    """
    difference = default.mean(axis=0) - other.mean(axis=0)
    vector = unit(difference if toward_default else -difference)
    on_default, on_other = default @ vector, other @ vector
    separation = auroc(on_default, on_other) if toward_default else auroc(on_other, on_default)
    return vector, LayerStats(
        default_mean=float(on_default.mean()), default_std=float(on_default.std(ddof=1)),
        other_mean=float(on_other.mean()), other_std=float(on_other.std(ddof=1)),
        auroc=separation, d=cohens_d(on_other, on_default))


@dataclass(frozen=True)
class AxisRecipe:
    """What to record about an axis besides its vectors."""

    kind: str
    name: str
    persona: str | None
    settings: BuildSettings
    prompts: AxisPrompts


def make_axis(reader: ActivationReader, collected: Collected, layers: Sequence[int],
              recipe: AxisRecipe) -> Axis:
    """The axis from collected responses; its scoring layer is the one with the largest
    |Cohen's d| between the groups.

    Raises:
        ValueError: a group has fewer than two responses.
    """
    counts = {g: sum(p.group == g for p in collected.prompts) for g in ("default", "other")}
    if min(counts.values()) < 2:
        raise ValueError(f"too few responses to build an axis: {counts}")
    toward_default = recipe.kind == "assistant"
    vectors, stats = {}, {}
    for layer in layers:
        vectors[layer], stats[layer] = layer_axis(collected.group(layer, "default"),
                                                  collected.group(layer, "other"),
                                                  toward_default)
    best = max(layers, key=lambda layer: abs(stats[layer].d))
    identity = reader.identity
    meta = AxisMeta(
        kind="assistant" if toward_default else "persona", name=recipe.name,
        persona=recipe.persona,
        model=AxisModel(name=identity.name, file=identity.file, sha256=identity.sha256,
                        n_layers=identity.n_layers, hidden=identity.hidden),
        layers=list(layers), layer=best,
        direction="default minus roles" if toward_default else "persona minus default",
        counts=counts, stats=stats, settings=recipe.settings, prompts=recipe.prompts)
    return Axis(meta, vectors)
