"""Fixtures for the transformers reader: a tiny Qwen2 checkpoint built offline, once a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved tiny random Qwen2 model with a ChatML tokenizer (needs torch and transformers)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.scaffold.activations.tiny_hf import build_tiny_qwen

    return build_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen"))


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The scaffold cache (weight digests, built axes) in a directory of the module's own,
    set before the module's readers load (module scope: they are module fixtures)."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCAFFOLD_CACHE_DIR", str(cache))
        yield cache
