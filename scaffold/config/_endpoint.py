"""Model endpoints: which server answers a remote model, and where its key comes from."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from scaffold.config._base import Spec

IN_PROCESS_PROVIDERS = ("local", "scripted")
"""Providers served inside the run's process, which have no endpoint."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

NO_KEY = "no-key"
"""Key sent to an endpoint that names no `api_key_env` (OpenAI-compatible servers want one)."""


class EndpointSpec(Spec):
    """One server: an OpenAI-compatible vLLM or llama.cpp server, Ollama, a proxy. Keys never
    live in the file: `api_key_env` names the environment variable that holds one, and an
    endpoint without it gets a placeholder, never a key the environment holds for its provider."""

    api_base: str = Field(min_length=1)
    """Base URL, e.g. http://gpu-box:8000/v1 (vLLM), http://localhost:11434 (Ollama)."""
    api_key_env: str | None = None
    """Environment variable holding this server's key (also read from `.env`)."""

    @field_validator("api_base")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        if re.match(r"^https?://[^/\s]*@", value):
            raise ValueError("credentials in the URL would be written to the run directory; "
                             "put the key in an environment variable named by api_key_env")
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"expected an environment variable name, got {value!r}")
        return value


def check_endpoint_keys(endpoints: dict[str, EndpointSpec]) -> dict[str, EndpointSpec]:
    """Keys are model names (`hosted_vllm/Qwen2.5-7B-Instruct`) or providers (`ollama`); the
    in-process providers have no server."""
    for key in endpoints:
        provider = key.split("/", 1)[0]
        if not key.strip() or not provider:
            raise ValueError(f"{key!r}: expected a model name or a provider")
        if provider in IN_PROCESS_PROVIDERS:
            raise ValueError(f"{key}: {provider}/ models run inside the process and have no "
                             "endpoint")
    return endpoints


def endpoint_for(endpoints: dict[str, EndpointSpec], model: str) -> EndpointSpec | None:
    """The endpoint of `model`: its own entry, else its provider's, else None."""
    return endpoints.get(model) or endpoints.get(model.split("/", 1)[0])
