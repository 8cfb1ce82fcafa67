"""`key=value` settings on spec data: shorthands (memory, model) and dotted paths."""

from __future__ import annotations

from typing import Any

from scaffold.config._yaml import parse_yaml
from scaffold.errors import ConfigError


def apply_setting(data: dict[str, Any], key: str, value: Any) -> None:
    """Set one value in experiment data (in place).

    `memory` sets every agent's condition, `model` every agent's model; anything else is a
    dotted path into the spec (`steps`, `probes.every`, `agents.0.memory.budget_tokens`).

    Raises:
        ConfigError: the path runs through something that is not a mapping or list.
    """
    if key == "memory":
        for agent in data.get("agents") or []:
            agent.setdefault("memory", {})
            if isinstance(agent["memory"], str):
                agent["memory"] = {}
            agent["memory"]["condition"], agent["memory"]["backends"] = value, []
        if not data.get("agents"):
            data["agents"] = [{"id": k, "persona": k, "memory": {"condition": value}}
                              for k in data.get("personas") or {}]
        return
    if key == "model":
        data["model"] = value
        for agent in data.get("agents") or []:
            agent["model"] = None
        return
    _set_path(data, key, value)


def _set_path(data: Any, key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    try:
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(parts[-1])] = value
        else:
            node[parts[-1]] = value
    except (ValueError, IndexError, TypeError, AttributeError):
        raise ConfigError("settings", [f"{key}: no such field to set"]) from None


def apply_settings(data: dict[str, Any], items: list[str]) -> dict[str, Any]:
    """Apply `key=value` strings (values parsed as YAML).

    Raises:
        ConfigError: an item is not `key=value`, or its value is not valid YAML.
    """
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError("--set", [f"{item!r}: expected key=value"])
        apply_setting(data, key, parse_yaml(raw, f"--set {key}"))
    return data
