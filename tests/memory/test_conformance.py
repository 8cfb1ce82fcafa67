"""Every built-in memory backend passes the conformance suite third parties run."""

from __future__ import annotations

from typing import Any

from memory import BackendContext
from memory.testing import MemoryBackendConformance
from scaffold import registry


class TestWindow(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "window")(threshold=0.5, keep_last=2, context=context)


class TestSummary(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "summary")(threshold=0.5, keep_last=2, context=context)


class TestSummaryAppend(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "summary")(threshold=0.5, keep_last=2, recursive=False,
                                                 append_char_cap=300, context=context)


class TestCoreReadOnly(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "core")(read_only=True, context=context)


class TestCoreEditable(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "core")(read_only=False, human="Likes sailing.",
                                              context=context)


class TestNotes(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "notes")(every=2, max_notes=4, max_chars=300,
                                               context=context)


class TestSleeptime(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "sleeptime")(every=2, human="Likes sailing.",
                                                   context=context)


class TestSleeptimeOnCompaction(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "sleeptime")(every=None, on_compaction=True,
                                                   blocks=["persona"], agent_edits=True,
                                                   max_messages=4,
                                                   context=context)


class TestFiles(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "files")(
            seed={"notes.md": "Sailing on Sunday.", "people/family.md": "Caroline, John."},
            context=context)


class TestReflection(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "reflection")(threshold=30, top_k=3, context=context)


class TestFacts(MemoryBackendConformance):
    def make_backend(self, context: BackendContext) -> Any:
        return registry.get("memory", "facts")(similar=3, context=context)
