"""Memory backends for agents: the contract, token budgets, and the built-in backends."""

from memory._contract import (
    BackendContext,
    CompactionContext,
    ContextWindow,
    MemoryBackend,
    MemoryRecord,
    MemoryTool,
)
from memory.budget import CUT_MARKER, SECTIONS, ContextBudget, Fit, TokenCounter, fit_body
from memory.stack import MemoryStack, ModelInput

__all__ = [
    "CUT_MARKER",
    "SECTIONS",
    "BackendContext",
    "MemoryTool",
    "CompactionContext",
    "ContextBudget",
    "ContextWindow",
    "Fit",
    "MemoryBackend",
    "MemoryRecord",
    "MemoryStack",
    "ModelInput",
    "TokenCounter",
    "fit_body",
]
