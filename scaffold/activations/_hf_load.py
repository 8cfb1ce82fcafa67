"""Loading a `transformers` reader: the extra's imports, device and dtype, and the weights' digest."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from scaffold.activations._reading import ActivationsUnavailable
from scaffold.errors import ModelError

HF_PREFIX = "hf/"
EXTRA = "activations-hf"
EXTRA_HINT = f"pip install 'scaffold-persona[{EXTRA}]'"
DTYPES = ("float32", "bfloat16", "float16")
"""The dtypes a reader may run in."""
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
"""Files that hold a checkpoint's weights (their digest is the model's identity)."""
_DIGESTS_FILE = "hf-weights-sha256.json"


def import_torch() -> Any:
    """`torch`, after checking `transformers` imports too.

    Raises:
        ActivationsUnavailable: the `activations-hf` extra is not installed (names the extra).
    """
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ActivationsUnavailable(
            f"activations of hf/ models need the {EXTRA} extra (transformers and torch; "
            f"missing: {exc.name or exc}): {EXTRA_HINT}") from None
    return torch


def missing_extra(model: str) -> str | None:
    """Why `model` cannot be read here when it is an `hf/` model and the extra's packages are
    not installed (found without importing them: cheap enough for a config check); else None."""
    if not model.startswith(HF_PREFIX):
        return None
    from importlib.util import find_spec

    absent = [name for name in ("torch", "transformers") if find_spec(name) is None]
    if not absent:
        return None
    return (f"activations of hf/ models need the {EXTRA} extra (transformers and torch; "
            f"missing: {', '.join(absent)}): {EXTRA_HINT}")


def choose_device(requested: str | None, cuda_available: bool) -> str:
    """The device a reader runs on: the requested one, else `cuda` when available, else `cpu`."""
    if requested:
        return requested
    return "cuda" if cuda_available else "cpu"


def choose_dtype(requested: str | None, device: str) -> str:
    """The dtype's name: the requested one, else bfloat16 on a GPU and float32 on the CPU.

    Raises:
        ValueError: the name is not one of DTYPES.
    """
    if requested is None:
        return "float32" if device == "cpu" else "bfloat16"
    if requested not in DTYPES:
        raise ValueError(f"dtype {requested!r}: choose one of {', '.join(DTYPES)}")
    return requested


def model_directory(repo: str) -> Path:
    """The directory holding the checkpoint: `repo` itself when it is a directory, else its
    snapshot in the Hugging Face cache (present once `from_pretrained` has loaded it)."""
    if Path(repo).expanduser().is_dir():
        return Path(repo).expanduser().resolve()
    from transformers.utils import cached_file

    config = cached_file(repo, "config.json")
    if config is None:
        raise ModelError(f"hf/{repo}: no config.json in the Hugging Face cache")
    return Path(config).parent


def weight_files(directory: Path) -> list[Path]:
    """The checkpoint's weight files, sorted by name.

    Raises:
        ModelError: there are none.
    """
    files = sorted(p for p in directory.iterdir() if p.name.endswith(WEIGHT_SUFFIXES))
    if not files:
        raise ModelError(f"{directory}: no weight files ({', '.join(WEIGHT_SUFFIXES)})")
    return files


def _file_sha256(path: Path) -> str:
    """A weight file's sha256: the blob name for a file in the Hugging Face cache (LFS blobs
    are named by their sha256), else computed (and remembered by path, size and mtime)."""
    target = path.resolve()
    name = target.name
    if target.parent.name == "blobs" and len(name) == 64 and all(
            c in "0123456789abcdef" for c in name):
        return name
    from scaffold.models._gguf import cache_dir

    stat = target.stat()
    key = f"{target}|{stat.st_size}|{stat.st_mtime_ns}"
    store = cache_dir() / _DIGESTS_FILE
    known: dict[str, str] = {}
    if store.is_file():
        try:
            known = json.loads(store.read_text())
        except (OSError, ValueError):
            known = {}
    if key in known:
        return known[key]
    digest = hashlib.sha256()
    with target.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    known[key] = digest.hexdigest()
    store.parent.mkdir(parents=True, exist_ok=True)
    temporary = store.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(known, indent=0))
    temporary.replace(store)
    return known[key]


def weights_sha256(directory: Path) -> str:
    """One hex sha256 over the checkpoint's weight files (each file's name and sha256): the
    model's identity, the same whether it was loaded from the Hub or from a local copy."""
    digest = hashlib.sha256()
    for path in weight_files(directory):
        digest.update(f"{path.name} {_file_sha256(path)}\n".encode())
    return digest.hexdigest()
