"""Embedding scorer: similarity to the persona's anchors against similarity to stock assistants."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.registry import scorer
from scaffold.trackers.scoring import IdentityScore, ScorerContext

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from memory.embeddings import MiniLMEmbedder

STOCK_ASSISTANT: tuple[str, ...] = (
    "I am an AI language model.",
    "As an AI, I don't have personal experiences, feelings or opinions.",
    "I am a helpful assistant created to answer your questions.",
    "I'm a chatbot, a computer program designed to help users.",
    "I don't have a name, a body or a location; I'm an artificial intelligence.",
    "I am a large language model trained by a technology company such as OpenAI, Google or "
    "Alibaba Cloud.",
    "I don't know the current date; my knowledge comes from my training data.",
    "I'm sorry, but I can't assist with that request.",
    "I'm a virtual assistant here to help you with information and tasks.",
)
"""How a model sounds when it speaks as the stock assistant rather than as a persona."""

SCALE = 0.15
"""Logistic scale: value = 1 / (1 + exp(-(anchor_sim - stock_sim) / SCALE)).

Measured with MiniLM on the JFK persona: in-role answers have differences of +0.2 to +0.65,
stock-assistant answers (including the embedded model's 'As an AI language model, ...')
-0.45 to -0.65, off-topic text about 0. The logistic puts off-topic text at 0.5 (no evidence
either way), in-role answers at 0.8-0.99 and assistant answers at 0.02-0.05; the linear map
(diff + 1) / 2 would squeeze all of them into 0.2-0.8, so a halved score would need a
difference of -0.3 and half-lives would rarely be seen."""

STOCK_OVERLAP = 0.5
"""Stock statements at least this similar to one of the persona's anchors are left out for
that persona: an assistant-like statement the persona itself makes is not drift. (Anchors of
non-AI personas measured at most 0.38; 'You are an AI assistant.' at 0.65.)"""


@dataclass(frozen=True)
class _References:
    anchors: NDArray[np.float32]
    stock: NDArray[np.float32]
    dropped: int


def logistic(diff: float, scale: float = SCALE) -> float:
    """Map a similarity difference in [-2, 2] to (0, 1); 0 maps to 0.5."""
    return 1.0 / (1.0 + math.exp(-diff / scale))


class EmbeddingScorer:
    """Is the text nearer the persona's anchors than the stock assistant's self-descriptions?

    Args:
        embedder: the sentence embedder; the process-wide MiniLM one if None.
        stock: stock-assistant statements to compare against.
    """

    name = "embedding"
    version = "1"

    def __init__(self, embedder: MiniLMEmbedder | None = None,
                 stock: Sequence[str] = STOCK_ASSISTANT):
        self._embedder = embedder
        self._stock_texts = tuple(stock)
        self._stock: NDArray[np.float32] | None = None
        self._refs: dict[tuple[str, ...], _References] = {}
        self._lock = threading.Lock()

    def _embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if self._embedder is None:
            from memory.embeddings import default_embedder

            self._embedder = default_embedder()
        return self._embedder.embed(list(texts))

    def _references(self, anchors: tuple[str, ...]) -> _References:
        """Anchor and stock vectors for one persona, embedded once and cached."""
        with self._lock:
            refs = self._refs.get(anchors)
            if refs is not None:
                return refs
            if self._stock is None:
                self._stock = self._embed(self._stock_texts)
            vectors = self._embed(anchors)
            keep = (vectors @ self._stock.T).max(axis=0) < STOCK_OVERLAP
            refs = _References(vectors, self._stock[keep], int((~keep).sum()))
            self._refs[anchors] = refs
            return refs

    def similarities(self, text: str, anchors: Sequence[str]) -> tuple[float, int, float]:
        """Cosine similarities of a text to its nearest anchor and nearest stock statement.

        Blocking CPU work; call it off the event loop.

        Returns:
            (anchor similarity, index of the nearest anchor, stock similarity); the stock
            similarity is 0 when every stock statement was left out for this persona.
        """
        refs = self._references(tuple(anchors))
        vector = self._embed([text])[0]
        to_anchors = refs.anchors @ vector
        nearest = int(to_anchors.argmax())
        stock = float((refs.stock @ vector).max()) if len(refs.stock) else 0.0
        return float(to_anchors[nearest]), nearest, stock

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score an answer or a memory text (`probe` None) the same way."""
        if not answer.strip():
            return IdentityScore(value=None, scorer=self.name, version=self.version,
                                 explanation="empty text")
        anchor_sim, nearest, stock_sim = await asyncio.to_thread(
            self.similarities, answer, persona.anchors)
        diff = anchor_sim - stock_sim
        explanation = (f"anchor similarity {anchor_sim:.3f} (nearest: "
                       f"{persona.anchors[nearest]!r}), stock-assistant similarity "
                       f"{stock_sim:.3f}, difference {diff:+.3f}")
        dropped = self._refs[tuple(persona.anchors)].dropped
        if dropped:
            explanation += f"; {dropped} stock statements left out as the persona's own"
        return IdentityScore(value=logistic(diff), scorer=self.name, version=self.version,
                             explanation=explanation)


@scorer("embedding")
def make_embedding(ctx: ScorerContext | None = None) -> EmbeddingScorer:
    """Factory for the registry (the model loads on the first score)."""
    return EmbeddingScorer()
