"""Registers in-process model providers (local, scripted, plugins) with litellm, once each."""

from __future__ import annotations

import threading

import scaffold  # noqa: F401  (sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported)
from scaffold import registry
from scaffold.errors import PluginNotFound

_installed: set[str] = set()
_native: set[str] = set()
"""Providers with no model plugin (litellm's own): looked up once, not on every call."""
_lock = threading.Lock()


def provider_of(model: str) -> str:
    """The provider prefix of a litellm model name ('local/x' -> 'local')."""
    return model.split("/", 1)[0] if "/" in model else ""


def ensure_provider(model: str) -> None:
    """Install the custom litellm handler serving `model`, if a model plugin provides one.

    Models of litellm's own providers (openai/, ollama/, hosted_vllm/, ...) need nothing.
    """
    provider = provider_of(model)
    if not provider or provider in _installed or provider in _native:
        return
    try:
        factory = registry.get("model", provider)
    except PluginNotFound:
        _native.add(provider)
        return
    with _lock:
        if provider in _installed:
            return
        import litellm

        handler = factory()
        litellm.custom_provider_map = [
            entry for entry in litellm.custom_provider_map if entry["provider"] != provider
        ] + [{"provider": provider, "custom_handler": handler}]
        from litellm.utils import custom_llm_setup

        custom_llm_setup()
        _installed.add(provider)
