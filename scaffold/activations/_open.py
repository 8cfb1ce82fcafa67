"""Which backend reads a model's activations: llama.cpp for `local/`, transformers for `hf/`."""

from __future__ import annotations

import atexit
import hashlib
import os
import threading
from pathlib import Path

from scaffold.activations._hf_load import HF_PREFIX, missing_extra
from scaffold.activations._reading import ActivationReader, ActivationsUnavailable

DEFAULT_READER = "local/qwen2.5-0.5b-instruct"
"""The model that reads scored texts unless told otherwise: the embedded default."""

_readers: dict[tuple[str, int, int], ActivationReader] = {}
_lock = threading.Lock()


def unavailable_reason(model: str) -> str | None:
    """Why `model` cannot give activations, or None when a backend exists for it."""
    if model.startswith(HF_PREFIX):
        return missing_extra(model)
    if model.startswith("local/"):
        return None
    if model.startswith("scripted/"):
        return (f"activations not available for model {model}: the scripted model has no "
                f"weights; read its texts with a real model (the activation scorer's "
                f"reader, activation.reader, default {DEFAULT_READER})")
    return (f"activations not available for model {model}: API models do not expose their "
            f"activations; use the embedded model (local/...) or an open-weights model "
            f"through transformers (hf/<repo>)")


def gguf_sha256(path: Path) -> str:
    """Hex sha256 of a GGUF file (the embedded model's is known without reading it)."""
    from scaffold.models._gguf import EMBEDDED_BUNDLE

    if path.name == EMBEDDED_BUNDLE.filename:
        return EMBEDDED_BUNDLE.sha256
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def open_reader(model: str = DEFAULT_READER, n_ctx: int | None = None,
                n_threads: int | None = None) -> ActivationReader:
    """The process-wide reader for `model`, loaded on first use.

    Args:
        model: `local/<name or .gguf path>` or `hf/<repo>`.
        n_ctx: the reading context (default 4096; an hf/ model's window caps it).
        n_threads: CPU threads (llama.cpp; default every core).

    Raises:
        ActivationsUnavailable: API and scripted models, or `hf/` without transformers.
        ModelError: the model cannot be found or loaded.
    """
    reason = unavailable_reason(model)
    if reason is not None:
        raise ActivationsUnavailable(reason)
    from scaffold.activations._llama import DEFAULT_READER_N_CTX

    key = (model, n_ctx or DEFAULT_READER_N_CTX, n_threads or os.cpu_count() or 1)
    with _lock:
        reader = _readers.get(key)
        if reader is None:
            reader = _load(model, key[1], key[2])
            _readers[key] = reader
        return reader


def _load(model: str, n_ctx: int, n_threads: int) -> ActivationReader:
    if model.startswith(HF_PREFIX):
        from scaffold.activations._hf import HFReader

        return HFReader(model, n_ctx=n_ctx)
    from scaffold.activations._llama import LlamaCppReader
    from scaffold.models.local import resolve_model_path

    path = resolve_model_path(model)
    return LlamaCppReader(model, path, gguf_sha256(path), n_ctx=n_ctx, n_threads=n_threads)


def close_readers() -> None:
    """Free every loaded reader (tests and benchmarks; the process exit frees them too)."""
    with _lock:
        loaded = list(_readers.values())
        _readers.clear()
    for reader in loaded:
        close = getattr(reader, "close", None)
        if close is not None:
            close()


atexit.register(close_readers)
