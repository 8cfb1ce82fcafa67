"""The example plugin passes Scaffold's memory conformance suite."""

from __future__ import annotations

from typing import Any

from memory import BackendContext
from memory.testing import MemoryBackendConformance
from scaffold_keyword_memory import make_backend


class TestKeywordMemory(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return make_backend(context=context, keywords=["harbor", "moon", "speech"])
