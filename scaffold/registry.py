"""One plugin registry keyed by (kind, name): built-ins by decorator, third parties by entry point."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal, TypeVar, get_args

from scaffold.errors import PluginLoadError, PluginNotFound

Kind = Literal["memory", "task", "tracker", "scorer", "model", "agent"]
KINDS: tuple[str, ...] = get_args(Kind)
ENTRY_POINT_GROUP = "scaffold.plugins"
"""Third-party plugins declare `"<kind>.<name>" = "package.module:factory"` in this group."""

F = TypeVar("F", bound=Callable[..., Any])

# Built-in plugins by (kind, name) -> module that registers them when imported. Listing reads
# this table and entry-point metadata only, so it never imports a plugin.
_BUILTINS: dict[tuple[str, str], str] = {
    ("memory", "window"): "memory.window",
    ("memory", "summary"): "memory.summary",
    ("task", "conversation"): "scaffold.tasks.conversation",
    ("task", "coding"): "scaffold.tasks.coding",
    ("task", "reading"): "scaffold.tasks.reading",
    ("task", "selfchat"): "scaffold.tasks.selfchat",
    ("task", "room"): "scaffold.tasks.room",
    ("task", "pressure"): "scaffold.tasks.pressure",
    ("memory", "vector"): "memory.vector",
    ("memory", "core"): "memory.core",
    ("memory", "notes"): "memory.notes",
    ("memory", "sleeptime"): "memory.sleeptime",
    ("memory", "files"): "memory.files",
    ("memory", "reflection"): "memory.reflection",
    ("memory", "facts"): "memory.facts",
    ("scorer", "rules"): "scaffold.trackers.rules",
    ("scorer", "break"): "scaffold.trackers.breaks",
    ("scorer", "embedding"): "scaffold.trackers.embedding",
    ("scorer", "judge"): "scaffold.trackers.judge",
    ("scorer", "leakage"): "scaffold.trackers.leakage",
    ("scorer", "activation"): "scaffold.trackers.activation",
    ("tracker", "probes"): "scaffold.trackers.probes",
    ("tracker", "replies"): "scaffold.trackers.replies",
    ("agent", "persona"): "agents.persona.graph",
    ("model", "scripted"): "scaffold.models.scripted",
    ("model", "local"): "scaffold.models.local",
}

_registered: dict[tuple[str, str], Callable[..., Any]] = {}


@dataclass(frozen=True)
class PluginInfo:
    """What `scaffold plugins` shows about one plugin, known without importing it."""

    kind: str
    name: str
    source: str
    """'builtin' or the distribution that provides it."""
    target: str
    """The module (built-ins) or `module:attr` (entry points) that provides it."""


def register(kind: Kind, name: str) -> Callable[[F], F]:
    """Decorator registering a factory under (kind, name).

    Raises:
        ValueError: the kind is unknown or the name is already taken by another object.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown plugin kind {kind!r}; kinds are {', '.join(KINDS)}")

    def decorate(factory: F) -> F:
        key = (kind, name)
        existing = _registered.get(key)
        if existing is not None and existing is not factory:
            same = getattr(existing, "__qualname__", None) == getattr(factory, "__qualname__", "")
            if not same:
                raise ValueError(f"{kind} plugin {name!r} is already registered")
        _registered[key] = factory
        return factory

    return decorate


def memory_backend(name: str) -> Callable[[F], F]:
    """Register a memory backend factory."""
    return register("memory", name)


def task(name: str) -> Callable[[F], F]:
    """Register a task factory."""
    return register("task", name)


def scorer(name: str) -> Callable[[F], F]:
    """Register a scorer factory."""
    return register("scorer", name)


def tracker(name: str) -> Callable[[F], F]:
    """Register a tracker factory."""
    return register("tracker", name)


_scan: tuple[tuple[Any, ...], list[Any]] | None = None


def _path_stamp() -> tuple[Any, ...]:
    """sys.path with each entry's mtime: installing a distribution changes it."""
    stamp: list[tuple[str, int | None]] = []
    for entry in sys.path:
        try:
            stamp.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            stamp.append((entry, None))
    return tuple(stamp)


def _entry_points() -> list[Any]:
    """Entry points of the plugin group; rescanned only when an install may have changed them
    (scanning every distribution's metadata costs ~10 ms, and configs validate often)."""
    global _scan
    stamp = _path_stamp()
    if _scan is None or _scan[0] != stamp:
        _scan = (stamp, list(entry_points(group=ENTRY_POINT_GROUP)))
    return _scan[1]


def _split(ep_name: str) -> tuple[str, str] | None:
    kind, sep, name = ep_name.partition(".")
    return (kind, name) if sep and kind in KINDS and name else None


def list_plugins(kind: str | None = None) -> list[PluginInfo]:
    """Everything installed, built-in and third-party, without importing any plugin."""
    found: dict[tuple[str, str], PluginInfo] = {}
    for (k, n), module in _BUILTINS.items():
        found[(k, n)] = PluginInfo(k, n, "builtin", module)
    for (k, n), factory in _registered.items():
        found.setdefault((k, n), PluginInfo(k, n, "registered", _qualname(factory)))
    for ep in _entry_points():
        key = _split(ep.name)
        if key is None:
            continue
        dist = getattr(getattr(ep, "dist", None), "name", None) or "entry point"
        found.setdefault(key, PluginInfo(key[0], key[1], dist, ep.value))
    rows = sorted(found.values(), key=lambda p: (p.kind, p.name))
    return [p for p in rows if kind is None or p.kind == kind]


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', repr(obj))}"


def get(kind: Kind, name: str) -> Callable[..., Any]:
    """The factory registered under (kind, name), importing its module on first use.

    Raises:
        PluginNotFound: nothing is installed under that name (the message lists what is).
        PluginLoadError: the plugin exists but failed to import.
    """
    key = (kind, name)
    if key in _registered:
        return _registered[key]
    module = _BUILTINS.get(key)
    if module is not None:
        _import(module, kind, name)
        if key in _registered:
            return _registered[key]
        raise PluginLoadError(f"built-in {kind} plugin {name!r}: {module} did not register it")
    for ep in _entry_points():
        if _split(ep.name) == key:
            try:
                factory = ep.load()
            except Exception as exc:  # a broken third-party plugin must not crash with a trace
                raise PluginLoadError(
                    f"{kind} plugin {name!r} ({ep.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}. Reinstall the package that provides it, "
                    f"or remove it from the config."
                ) from exc
            _registered[key] = factory
            return factory
    available = ", ".join(p.name for p in list_plugins(kind)) or "none"
    raise PluginNotFound(
        f"no {kind} plugin named {name!r}; installed {kind} plugins: {available}. "
        f"Third-party plugins register in the entry-point group {ENTRY_POINT_GROUP!r} "
        f"as '{kind}.<name>'."
    )


def _import(module: str, kind: str, name: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise PluginLoadError(f"built-in {kind} plugin {name!r} failed to import: {exc}") from exc


def builtin_table() -> dict[tuple[str, str], str]:
    """A copy of the built-in catalogue (for tests that check it against the decorators)."""
    return dict(_BUILTINS)
