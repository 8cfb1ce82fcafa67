"""The plugin registry: one table, listing without importing, clear errors."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from scaffold import registry
from scaffold.errors import PluginNotFound


def test_builtin_table_matches_decorators() -> None:
    for (kind, name), module in registry.builtin_table().items():
        importlib.import_module(module)
        assert (kind, name) in registry._registered, f"{module} does not register {kind}/{name}"


def test_listing_imports_no_plugin() -> None:
    code = (
        "import sys; from scaffold.registry import list_plugins; rows = list_plugins(); "
        "assert any(p.name == 'summary' for p in rows); "
        "bad = [m for m in ('memory.summary', 'memory.window', 'scaffold.models.local', "
        "'agents.persona.graph', 'litellm', 'llama_cpp') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_plugin_lists_installed() -> None:
    with pytest.raises(PluginNotFound) as info:
        registry.get("memory", "holographic")
    message = str(info.value)
    assert "holographic" in message and "summary" in message and "window" in message


def test_unknown_kind_rejected() -> None:
    with pytest.raises(ValueError):
        registry.register("gizmo", "x")  # type: ignore[arg-type]


def test_decorator_registers_and_get_returns_it() -> None:
    @registry.scorer("test-constant")
    def make() -> object:
        return object()

    assert registry.get("scorer", "test-constant") is make
    assert any(p.name == "test-constant" for p in registry.list_plugins("scorer"))
