"""Memory backends for agents: the contract, token budgets, and the built-in backends."""

from memory._contract import CompactionContext, ContextWindow, MemoryBackend, MemoryRecord
from memory.budget import SECTIONS, ContextBudget, TokenCounter
from memory.stack import MemoryStack, ModelInput

__all__ = [
    "SECTIONS",
    "CompactionContext",
    "ContextBudget",
    "ContextWindow",
    "MemoryBackend",
    "MemoryRecord",
    "MemoryStack",
    "ModelInput",
    "TokenCounter",
]
