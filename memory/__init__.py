"""Memory backends for agents: the contract, token budgets, and the built-in backends."""

from memory._contract import (
    BackendContext,
    CompactionContext,
    ContextWindow,
    MemoryBackend,
    MemoryRecord,
    MemoryTool,
)
from memory.budget import SECTIONS, ContextBudget, TokenCounter
from memory.stack import MemoryStack, ModelInput

__all__ = [
    "SECTIONS",
    "BackendContext",
    "MemoryTool",
    "CompactionContext",
    "ContextBudget",
    "ContextWindow",
    "MemoryBackend",
    "MemoryRecord",
    "MemoryStack",
    "ModelInput",
    "TokenCounter",
]
