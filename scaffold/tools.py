"""Tools an agent may call, in the OpenAI function-calling format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tool:
    """A named function the agent's model may call.

    Attributes:
        name: tool name.
        description: what it does, for the model.
        parameters: JSON schema of the arguments.
        run: `run(arguments) -> (result text for the model, record or None)`, or a coroutine
            function returning the same; raises ValueError with a message for the model on bad
            arguments. Subclasses say what the record is.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[dict[str, Any]], Any]

    def schema(self) -> dict[str, Any]:
        """OpenAI-format tool schema."""
        return {"type": "function", "function": {"name": self.name,
                                                 "description": self.description,
                                                 "parameters": self.parameters}}
