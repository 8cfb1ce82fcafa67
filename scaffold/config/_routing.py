"""Offline checks that every model a spec names can be routed: by a model plugin or litellm."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from scaffold.config._endpoint import endpoint_for

if TYPE_CHECKING:
    from scaffold.config._experiment import ExperimentSpec

_NAME = re.compile(r"[A-Za-z0-9._:/@+=~-]+")
"""Characters of litellm model names (`ollama/llama3.1:8b`, `bedrock/arn:aws:...`,
`vertex_ai/claude-3@2024`); spaces, quotes and punctuation like `!` never occur in one."""
_HINT = ("write <provider>/<model>, e.g. openai/gpt-4o-mini, ollama/llama3, hosted_vllm/<name> "
         "for a vLLM server, or local/<name>, scripted/<name>")


def model_fields(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """Every model name the spec sets, with the field that sets it."""
    found = [("model", spec.model)]
    for role in ("summarizer", "judge", "user", "sleeptime", "importance", "reflector",
                 "fact_extractor"):
        name = getattr(spec.models, role)
        if name is not None:
            found.append((f"models.{role}", name))
    for i, agent in enumerate(spec.agents):
        if agent.model is not None:
            found.append((f"agents[{i}].model", agent.model))
        if agent.memory.summary.model is not None:
            found.append((f"agents[{i}].memory.summary.model", agent.memory.summary.model))
        if agent.memory.sleeptime.model is not None:
            found.append((f"agents[{i}].memory.sleeptime.model", agent.memory.sleeptime.model))
        for design in ("reflection", "facts"):
            name = getattr(agent.memory, design).model
            if name is not None:
                found.append((f"agents[{i}].memory.{design}.model", name))
    return found


def unroutable_models(spec: ExperimentSpec) -> list[str]:
    """One `field: problem` line per model name that no plugin and no litellm provider serves.

    Works offline: litellm's routing is a table lookup, no request is made.
    """
    problems = []
    plugins = _plugin_providers()
    for field, name in model_fields(spec):
        endpoint = endpoint_for(spec.endpoints, name)
        problem = routing_problem(name, endpoint.api_base if endpoint else None, plugins)
        if problem is not None:
            problems.append(f"{field}: {name!r} {problem}")
    return problems


def routing_problem(model: str, api_base: str | None = None,
                    plugins: set[str] | None = None) -> str | None:
    """Why `model` cannot be routed, or None when it can.

    Args:
        model: a model name (`openai/gpt-4o-mini`, `local/qwen2.5-0.5b-instruct`).
        api_base: the configured endpoint of that model, if any (litellm routes by it too).
        plugins: the providers model plugins serve (default: looked up in the registry).
    """
    if not model.strip():
        return "is empty"
    if not model.isprintable():
        return f"holds control characters, which no model name has; {_HINT}"
    provider, slash, rest = model.partition("/")
    if slash and provider in (_plugin_providers() if plugins is None else plugins):  # the plugin reads the rest (a .gguf path)
        return None if rest.strip() else f"names no model after '{provider}/'"
    if any(c.isspace() for c in model):
        return f"holds spaces, which no model name has; {_HINT}"
    bad = sorted(set(_NAME.sub("", model)))
    if bad:
        return f"holds {' '.join(map(repr, bad))}, which no model name has; {_HINT}"
    if slash and not rest:
        return f"names no model after '{provider}/'"
    return _litellm_problem(model, api_base)


def _plugin_providers() -> set[str]:
    from scaffold.registry import list_plugins

    return {p.name for p in list_plugins("model")}


@functools.lru_cache(maxsize=256)
def _litellm_problem(model: str, api_base: str | None) -> str | None:
    import litellm  # scaffold/__init__ has set its offline cost map: no network here

    litellm.suppress_debug_info = True  # else litellm prints a provider list on stdout
    try:
        litellm.get_llm_provider(model=model, api_base=api_base)
    except Exception:  # litellm raises its BadRequestError: no provider for this name
        provider = model.partition("/")[0] if "/" in model else None
        if provider is None:
            return f"has no provider litellm knows; {_HINT}"
        return f"names provider {provider!r}, which neither litellm nor a model plugin serves; " \
            f"{_HINT}"
    return None
