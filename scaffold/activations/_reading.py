"""What a backend returns for one text, and the contract every activation backend keeps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from scaffold.errors import ModelError


class ActivationsUnavailable(ModelError):
    """The model gives no access to its activations (an API model), or a backend is missing."""


@dataclass(frozen=True)
class Reading:
    """Residual-stream activations of one scored text, read in its context.

    Attributes:
        means: per layer, the mean over the text's tokens of that block's output (one vector
            of the model's hidden size).
        tokens: how many tokens the text has (the tokens averaged).
        evaluated: how many tokens were run through the model (context not already cached,
            plus the text).
        truncated: context tokens dropped from the left to fit the reader's context window.
        seconds: wall time of the read.
    """

    means: dict[int, NDArray[np.float32]]
    tokens: int
    evaluated: int
    truncated: int
    seconds: float


@dataclass(frozen=True)
class ModelIdentity:
    """Which weights produced the activations (an axis is only valid for these).

    Attributes:
        name: the model name as configured (`local/qwen2.5-0.5b-instruct`, `hf/<repo>`).
        file: the weights file (GGUF) or repository id.
        sha256: hex sha256 of the GGUF file; for Hugging Face models, of the weight files'
            names and sha256s (`weights_sha256`: the same from the Hub or a local copy).
        n_layers: number of transformer blocks.
        hidden: the residual stream's width.
    """

    name: str
    file: str
    sha256: str
    n_layers: int
    hidden: int


class ActivationReader(Protocol):
    """Reads a model's residual stream for the tokens of a text evaluated after its context.

    Invariants: `read` never changes any agent's state (it uses its own context or model
    copy); the same (messages, text, layers) give the same means; a layer outside
    `0..n_layers-2` is an error, not zeros (llama.cpp computes the last block for output
    tokens only).
    """

    identity: ModelIdentity

    def read(self, messages: Sequence[dict[str, Any]], text: str,
             layers: Sequence[int]) -> Reading:
        """Activations of `text` as the assistant's reply to `messages`.

        Args:
            messages: the chat context (OpenAI-shaped dicts) the text answers; may be empty.
            text: the scored text (a reply, a probe answer, a memory text).
            layers: 0-based block indices whose outputs to average.
        """
        ...

    def generate(self, messages: Sequence[dict[str, Any]], max_tokens: int,
                 seed: int) -> str:
        """A greedy reply to `messages` (used to build axes)."""
        ...


def check_layers(layers: Sequence[int], n_layers: int) -> list[int]:
    """The layers, sorted and unique, each in 0..n_layers-2.

    Raises:
        ValueError: a layer is out of range (the last block is computed for output tokens
            only, so it cannot be averaged over a text).
    """
    chosen = sorted(set(int(layer) for layer in layers))
    if not chosen:
        raise ValueError("no layers chosen")
    bad = [layer for layer in chosen if not 0 <= layer <= n_layers - 2]
    if bad:
        raise ValueError(f"layers {bad} out of range: this model has {n_layers} blocks; "
                         f"choose layers 0..{n_layers - 2}")
    return chosen


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def fit_to_context(span: list[int], context: Callable[[], list[int]], n_ctx: int
                   ) -> tuple[list[int], int]:
    """The context tokens kept before `span` in an `n_ctx` window (cut from the left), and how
    many were cut; `context` is tokenized only once the text is known to fit.

    Raises:
        ValueError: the text is empty, or too long for the window.
    """
    if not span:
        raise ValueError("the text has no tokens")
    if len(span) > n_ctx - 16:
        raise ValueError(f"the text has {len(span)} tokens; the reader's context holds {n_ctx}")
    prefix = context()
    truncated = max(0, len(prefix) + len(span) - n_ctx)
    return prefix[truncated:], truncated
