"""Model access: one client over litellm, cassettes, and the in-process providers."""

from scaffold.models.cassette import (
    CassetteEntry,
    CassetteReader,
    CassetteResponse,
    CassetteWriter,
    Completion,
    load_cassette,
    request_hash,
    truncate_cassette,
)
from scaffold.models.client import CallContext, ModelClient, is_transient
from scaffold.models.providers import ensure_provider

__all__ = [
    "CallContext",
    "CassetteEntry",
    "CassetteReader",
    "CassetteResponse",
    "CassetteWriter",
    "Completion",
    "ModelClient",
    "ensure_provider",
    "is_transient",
    "load_cassette",
    "request_hash",
    "truncate_cassette",
]
