"""Which group an agent's run belongs to in the report: its condition, or any spec field."""

from __future__ import annotations

from typing import Any

NAMED = ("condition", "persona", "agent", "seed")
"""Group keys with a meaning of their own; anything else is a dotted path into the run spec."""


def _agent_spec(spec: dict[str, Any], agent_id: str) -> dict[str, Any]:
    return next((a for a in spec.get("agents") or [] if a.get("id") == agent_id), {})


def spec_value(spec: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (`agents.0.persona`); None when the path is absent."""
    node: Any = spec
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def axis_value(spec: dict[str, Any], key: str) -> Any:
    """A run's value for a sweep axis or spec path: the sweep point's (a linked axis by its
    label) when the sweep set it, else the value at the dotted path."""
    point = spec.get("sweep_point") or {}
    return point[key] if key in point else spec_value(spec, key)


def group_label(spec: dict[str, Any], agent_id: str, condition: str, seed: int | None,
                group_by: list[str]) -> str:
    """The agent's group label: one part per key of `group_by`, joined with ` · `."""
    parts = []
    for key in group_by:
        if key == "condition":
            parts.append(condition)
        elif key == "persona":
            parts.append(str(_agent_spec(spec, agent_id).get("persona") or agent_id))
        elif key == "agent":
            parts.append(agent_id)
        elif key == "seed":
            parts.append(f"seed {seed}")
        else:
            parts.append(f"{key}={axis_value(spec, key)}")
    return " · ".join(parts) or condition
