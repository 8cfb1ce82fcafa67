"""The one model client: litellm calls with retries, usage and cost accounting, and a cassette."""

from __future__ import annotations

import email.utils
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import scaffold  # noqa: F401  (must precede litellm)
from scaffold.bus import Emit
from scaffold.config import NO_KEY, EndpointSpec, LocalModelSpec, RetrySpec, endpoint_for
from scaffold.errors import CassetteMiss, ModelError
from scaffold.events import ModelCallEvent, ModelRetryEvent
from scaffold.limits import ModelLimits
from scaffold.models.cassette import (
    CassetteEntry,
    CassetteReader,
    CassetteResponse,
    CassetteWriter,
    Completion,
    request_hash,
)
from scaffold.models.providers import ensure_provider
from scaffold.redact import redact, redact_data, redact_known, treat_as_secret

_PARAM_KEYS = ("temperature", "max_tokens", "top_p", "seed", "stop", "tools", "tool_choice")


@dataclass(frozen=True)
class CallContext:
    """Who is calling and why; recorded with the call, never part of the request hash."""

    purpose: str
    agent_id: str | None
    step: int
    persona: dict[str, Any] | None = None
    sample: int = 0


def _transient_types() -> tuple[type[BaseException], ...]:
    import litellm

    names = ("RateLimitError", "APIConnectionError", "Timeout", "InternalServerError",
             "ServiceUnavailableError", "BadGatewayError", "APIResponseValidationError")
    return tuple(getattr(litellm, n) for n in names if hasattr(litellm, n))


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: rate limits, 5xx, timeouts, broken responses."""
    import litellm

    if isinstance(exc, _transient_types()):
        return True
    if isinstance(exc, (litellm.AuthenticationError, litellm.BadRequestError,
                        litellm.NotFoundError, litellm.PermissionDeniedError)):
        return False
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status >= 500 or status == 429
    return isinstance(exc, (TimeoutError, ConnectionError, ValueError)) and not isinstance(
        exc, ModelError
    )


def retry_after_s(exc: BaseException | None) -> float | None:
    """Seconds a failed response asked the client to wait (`retry-after-ms`, or `retry-after`
    in seconds or as an HTTP date); None when it did not say."""
    response = getattr(exc, "response", None)
    for headers in (getattr(exc, "headers", None), getattr(response, "headers", None),
                    getattr(exc, "litellm_response_headers", None)):
        if headers is None or not hasattr(headers, "get"):
            continue
        millis = _number(headers.get("retry-after-ms"))
        if millis is not None:
            return millis / 1000
        value = headers.get("retry-after")
        seconds = _number(value)
        if seconds is None and value is not None:
            try:
                seconds = max(0.0, email.utils.parsedate_to_datetime(str(value)).timestamp()
                              - time.time())
            except (TypeError, ValueError):
                seconds = None
        if seconds is not None:
            return seconds
    return None


def _number(value: Any) -> float | None:
    """A non-negative header number, or None when absent or not a number."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _response_fields(response: Any) -> CassetteResponse:
    """What the agent consumes of a response. Keys the run knows are masked here, before the
    text reaches a context, a memory, an event, a checkpoint or the cassette (so a replay,
    which serves the cassette, sees the same masked text)."""
    choice = response.choices[0]
    message = choice.message
    tool_calls = None
    if getattr(message, "tool_calls", None):
        tool_calls = [tc.model_dump() if hasattr(tc, "model_dump") else dict(tc)
                      for tc in message.tool_calls]
    usage = getattr(response, "usage", None)
    return CassetteResponse(
        content=redact_known(message.content or ""),
        tool_calls=redact_data(tool_calls),
        finish_reason=getattr(choice, "finish_reason", None),
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=_cost(response),
    )


def _cost(response: Any) -> float:
    """The cost litellm computed for this response (0 for models without a price)."""
    hidden = getattr(response, "_hidden_params", None) or {}
    try:
        return float(hidden.get("response_cost") or 0.0)
    except (TypeError, ValueError):
        return 0.0


class ModelClient:
    """Every model call in a run goes through one of these.

    Args:
        emit: callable `emit(EventClass, **fields)` that records an event.
        retry: retry policy for transient errors.
        cassette: where to append every request and response (None: no recording).
        replay: serve responses from this cassette instead of calling models.
        live_fallback: with `replay`, call the model for requests the cassette lacks (used by
            re-scoring: recorded calls are free, new ones are made and recorded).
        limits: model-call limits shared with other runs (calls in flight, requests/minute).
        endpoints: servers of remote models by model name or provider (the spec's `endpoints`).
        local: the embedded model's runtime settings (`local:`), passed to `local/...` calls.

    Attributes:
        replay_misses: what every request the replay cassette lacked was (the caller may have
            swallowed the error, e.g. a scorer; the runner fails the run on any).
    """

    def __init__(self, emit: Emit, retry: RetrySpec | None = None,
                 cassette: CassetteWriter | None = None, replay: CassetteReader | None = None,
                 live_fallback: bool = False, limits: ModelLimits | None = None,
                 endpoints: dict[str, EndpointSpec] | None = None,
                 local: LocalModelSpec | None = None, run_id: str | None = None):
        self.emit = emit
        self.run_id = run_id
        self.replay_misses: list[str] = []
        self.local = local
        self.retry = retry or RetrySpec()
        self.cassette = cassette
        self.replay = replay
        self.live_fallback = live_fallback
        self.limits = limits
        self.endpoints = endpoints or {}
        for endpoint in self.endpoints.values():
            if endpoint.api_key_env:
                treat_as_secret(endpoint.api_key_env)

    def release(self) -> None:
        """Forget the KV states this run's calls left in loaded local models (at run end)."""
        local = sys.modules.get("scaffold.models.local")
        if local is not None and self.run_id:
            local.release_run(self.run_id)

    def persist_local(self, directory: Path, seq: int) -> None:
        """Save the KV states this run's calls left in loaded local models, as the generation
        of the checkpoint at event `seq` (nothing when KV state is off or nothing is held)."""
        local = sys.modules.get("scaffold.models.local")
        if local is not None and self.run_id and (self.local is None or self.local.kv_state):
            local.persist_run(self.run_id, directory, seq)

    def restore_local(self, directory: Path, seq: int) -> str:
        """Put back the KV states saved for the checkpoint at event `seq` (see
        `local.restore_run`: "exact", "none" or "missing")."""
        if not self.run_id or not directory.is_dir():
            return "none"
        from scaffold.models import local

        return str(local.restore_run(self.run_id, directory, seq))

    def _endpoint_kwargs(self, model: str) -> dict[str, Any]:
        """api_base and api_key for a model with a configured endpoint (none otherwise).

        Raises:
            ModelError: the endpoint's key variable is not set.
        """
        endpoint = endpoint_for(self.endpoints, model)
        if endpoint is None:
            return {}
        key = NO_KEY
        if endpoint.api_key_env:
            key = os.environ.get(endpoint.api_key_env, "")
            if not key:
                raise ModelError(f"{model}: its endpoint's key variable {endpoint.api_key_env} "
                                 "is not set (in the environment or .env)")
        return {"api_base": endpoint.api_base, "api_key": key}

    async def complete(self, model: str, messages: list[dict[str, Any]], ctx: CallContext,
                       **params: Any) -> Completion:
        """Run one chat completion and record it.

        Raises:
            ModelError: the call failed for good, or a replay has no recorded response.
        """
        params = {k: v for k, v in params.items() if k in _PARAM_KEYS and v is not None}
        key = request_hash(model, messages, params)
        start = time.perf_counter()
        if self.replay is not None and (not self.live_fallback or self.replay.find(key)):
            try:
                entry = self.replay.take(key, model, ctx.purpose)
            except CassetteMiss as exc:
                self.replay_misses.append(str(exc))
                raise
            self._record_call(model, key, ctx, entry.response, start, 1, replayed=True)
            return Completion(**entry.response.model_dump(), request_hash=key)
        response, attempts = await self._call_with_retries(model, messages, ctx, params)
        event = self._record_call(model, key, ctx, response, start, attempts, replayed=False)
        if self.cassette is not None:
            self.cassette.append(CassetteEntry(
                hash=key, seq=getattr(event, "seq", 0), model=model, purpose=ctx.purpose,
                agent_id=ctx.agent_id, step=ctx.step,
                messages=messages, params=params, response=response,
            ))
        return Completion(**response.model_dump(), request_hash=key)

    async def _call_with_retries(self, model: str, messages: list[dict[str, Any]],
                                 ctx: CallContext, params: dict[str, Any]
                                 ) -> tuple[CassetteResponse, int]:
        from tenacity import (AsyncRetrying, RetryError, retry_if_exception, stop_after_attempt,
                              wait_random_exponential)

        ensure_provider(model)
        endpoint = self._endpoint_kwargs(model)
        backoff = wait_random_exponential(multiplier=self.retry.initial_wait_s,
                                          max=self.retry.max_wait_s)

        def wait(state: Any) -> float:
            """Backoff with jitter, or longer when the server said how long (up to the cap)."""
            asked = retry_after_s(state.outcome.exception() if state.outcome else None)
            base = float(backoff(state))
            return base if asked is None else max(base, min(asked, self.retry.max_wait_s))

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=wait,
            retry=retry_if_exception(is_transient),
            before_sleep=lambda state: self._record_retry(model, ctx, state),
            reraise=False,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    raw = await self._acompletion(model, messages, ctx, {**params, **endpoint})
                    response = _response_fields(raw)
                    return response, attempt.retry_state.attempt_number
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise ModelError(
                f"{model}: {ctx.purpose} call failed after {self.retry.attempts} attempts: "
                f"{redact(f'{type(last).__name__}: {last}')}"
            ) from None
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(
                f"{model}: {ctx.purpose} call failed: {redact(f'{type(exc).__name__}: {exc}')}"
            ) from None
        raise ModelError(f"{model}: no attempt was made")  # unreachable: stop >= 1 attempt

    async def _acompletion(self, model: str, messages: list[dict[str, Any]], ctx: CallContext,
                           params: dict[str, Any]) -> Any:
        import litellm

        meta = {"purpose": ctx.purpose, "agent_id": ctx.agent_id, "step": ctx.step,
                "sample": ctx.sample, "persona": ctx.persona, "run_id": self.run_id}
        if self.local is not None and model.startswith("local/"):
            meta["local"] = self.local.model_dump()
        litellm.drop_params = True  # providers reject params they lack (e.g. seed)
        litellm.suppress_debug_info = True
        kwargs = dict(model=model, messages=messages, num_retries=0, timeout=self.retry.timeout_s,
                      metadata={"scaffold": meta}, **params)
        if self.limits is None:
            raw = await litellm.acompletion(**kwargs)
        else:
            async with self.limits.slot(model):
                raw = await litellm.acompletion(**kwargs)
        if not getattr(raw, "choices", None):
            raise ValueError("malformed response: no choices")
        return raw

    def _record_retry(self, model: str, ctx: CallContext, state: Any) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = float(getattr(state.next_action, "sleep", 0.0) or 0.0)
        self.emit(ModelRetryEvent, agent_id=ctx.agent_id, step=ctx.step, model=model,
                  purpose=ctx.purpose, attempt=state.attempt_number,
                  error=redact(f"{type(exc).__name__}: {exc}"), wait_s=round(wait, 3))

    def _record_call(self, model: str, key: str, ctx: CallContext, response: CassetteResponse,
                     start: float, attempts: int, replayed: bool) -> ModelCallEvent | None:
        return self.emit(ModelCallEvent, agent_id=ctx.agent_id, step=ctx.step, purpose=ctx.purpose,
                  model=model, request_hash=key, prompt_tokens=response.prompt_tokens,
                  completion_tokens=response.completion_tokens, cost_usd=response.cost_usd,
                  latency_s=round(time.perf_counter() - start, 4), attempts=attempts,
                  replayed=replayed)
