"""Embedded default model: a GGUF run in-process by llama-cpp-python, as a litellm provider."""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# scaffold first: importing it sets LITELLM_LOCAL_MODEL_COST_MAP, which litellm reads at import.
from scaffold.errors import ModelError
from scaffold.models import _kv_files
from scaffold.models._kv_state import Owner, StateBook
from scaffold.models._local_run import run as _run
from scaffold.models._local_tools import content_text, parse_tool_calls, with_tools
from scaffold.models._gguf import (  # re-exported for callers and tests
    EMBEDDED_BUNDLE,
    GgufBundle,
    assemble,
    cache_dir,
    is_verified,
    part_paths,
)
from scaffold.registry import register

import litellm
from litellm.llms.custom_llm import CustomLLM, CustomLLMError

PROVIDER = "local"
DEFAULT_MODEL = "qwen2.5-0.5b-instruct"
"""Name of the embedded model after `local/`."""
DEFAULT_N_CTX = 4096
_MIN_N_CTX = 256
DEFAULT_SEED = 0
_MESSAGE_KEYS = ("role", "content", "name")
_assemble_lock = threading.Lock()
log = logging.getLogger(__name__)
__all__ = ["EMBEDDED_BUNDLE", "GgufBundle", "LocalModelHandler", "assemble", "cache_dir",
           "default_model_path", "is_verified", "part_paths", "register_local_provider",
           "resolve_model_path", "thread_counts"]


def default_model_path() -> Path:
    """The embedded model's GGUF, assembled into the cache on first use and verified.

    Returns:
        Path of the cached GGUF file.

    Raises:
        ModelError: a chunk package is missing or damaged, or the cache cannot be written.
    """
    bundle = EMBEDDED_BUNDLE
    target = cache_dir() / bundle.filename
    with _assemble_lock:
        if is_verified(target, bundle.size, bundle.sha256):
            return target
        try:
            parts = part_paths(bundle.distributions)
        except ModelError as exc:
            raise ModelError(f"embedded model: {exc}. Reinstall the parts: "
                             f"{bundle.reinstall_hint()}") from None
        return assemble(parts, target, bundle.size, bundle.sha256, bundle.reinstall_hint())


def resolve_model_path(name: str) -> Path:
    """The GGUF file behind a `local/` model name.

    Args:
        name: `qwen2.5-0.5b-instruct` (the embedded default) or a path ending in `.gguf`,
            absolute or relative to the working directory; a leading `local/` is ignored.

    Returns:
        Absolute path of an existing GGUF file.

    Raises:
        ModelError: the name is unknown, the file is missing, or the embedded model is damaged.
    """
    name = name.removeprefix(f"{PROVIDER}/")
    if name == DEFAULT_MODEL:
        return default_model_path()
    if not name.endswith(".gguf"):
        raise ModelError(f"unknown local model {name!r}: use '{PROVIDER}/{DEFAULT_MODEL}' (the "
                         f"embedded default) or '{PROVIDER}/<path to a .gguf file>'")
    path = Path(name).expanduser().resolve()
    if not path.is_file():
        raise ModelError(f"local model file {path} does not exist: check the path after "
                         f"'{PROVIDER}/' (relative paths start at {Path.cwd()})")
    return path


# --- loaded models -------------------------------------------------------------------------------


class _LoadedModel:
    """One `Llama`, the lock that serializes calls into it, and its callers' saved states."""

    def __init__(self, llama: Any):
        self.llama = llama
        self.lock = threading.Lock()
        self.book = StateBook()
        self._formatters: dict[bool, Any] = {}

    def render(self, messages: list[dict[str, Any]], generation: bool = True) -> Any:
        """The model's own chat template applied to `messages`, as llama-cpp-python's chat
        handler applies it (a `ChatFormatterResponse`: prompt text, stop strings, stopping
        criteria); `generation=False` leaves out the assistant turn's opening."""
        from llama_cpp import llama_chat_format

        formatter = self._formatters.get(generation)
        if formatter is None:
            llama = self.llama
            template = llama.metadata.get("tokenizer.chat_template")
            if template is None:
                raise ModelError("the model has no chat template")
            eos, bos = llama.token_eos(), llama.token_bos()
            formatter = llama_chat_format.Jinja2ChatFormatter(
                template=template,
                eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
                bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
                add_generation_prompt=generation, stop_token_ids=[eos])
            self._formatters[generation] = formatter
        # llama_cpp types messages as its TypedDicts; ours are the same plain OpenAI-shaped dicts
        return formatter(messages=messages)  # type: ignore[arg-type]

    def tokenize(self, rendered: Any) -> list[int]:
        """The tokens of a `render` result, as the chat handler tokenizes them."""
        return self.llama.tokenize(rendered.prompt.encode("utf-8"),
                                   add_bos=not rendered.added_special, special=True)

    def prompt_tokens(self, messages: list[dict[str, Any]], generation: bool = True
                      ) -> list[int]:
        """The tokens `create_chat_completion` evaluates for `messages` (with the model's own
        chat template); `generation=False` leaves out the assistant turn's opening."""
        return self.tokenize(self.render(messages, generation))


_models: dict[tuple[Path, int, int], _LoadedModel] = {}
"""Loaded models by (file, n_ctx, n_threads; 0: the default threads)."""
_models_lock = threading.Lock()


def _n_ctx() -> int:
    raw = os.environ.get("SCAFFOLD_LOCAL_N_CTX", "")
    if not raw:
        return DEFAULT_N_CTX
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < _MIN_N_CTX:  # llama.cpp silently raises smaller contexts, breaking its bindings
        raise ModelError(f"SCAFFOLD_LOCAL_N_CTX={raw!r}: must be a whole number of tokens, "
                         f"at least {_MIN_N_CTX}")
    return value


def _load(path: Path, settings: dict[str, Any] | None = None) -> _LoadedModel:
    """The loaded model for `path`, loading it on first use.

    Args:
        path: the GGUF file.
        settings: the run's `local:` settings (n_ctx, n_threads); a missing or None n_ctx falls
            back to SCAFFOLD_LOCAL_N_CTX (else 4096), a missing n_threads to llama-cpp-python's
            own defaults (see `thread_counts`).
    """
    key = _model_key(path, settings)
    with _models_lock:
        if key in _models:
            return _models[key]
        from llama_cpp import Llama

        generation, batch = thread_counts(key[2] or None)
        try:
            llama = Llama(model_path=str(path), n_ctx=key[1], n_threads=generation,
                          n_threads_batch=batch, seed=DEFAULT_SEED, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load {path}: {exc}. Is it a GGUF file this version of "
                             f"llama-cpp-python supports?") from None
        _models[key] = _LoadedModel(llama)
        return _models[key]


def thread_counts(n_threads: int | None) -> tuple[int, int]:
    """(generation threads, prompt-evaluation threads) for a `local.n_threads` setting.

    None keeps llama-cpp-python's defaults: half the cores for generating tokens one at a
    time, every core for evaluating a prompt. Generation is bound by memory bandwidth, and
    llama.cpp's threads wait for each other at every layer, so one thread per core is slower
    as soon as anything else wants the CPU (measured here, 2 cores under a load average of
    15: 2 generating threads took 2.8x as long as 1 for the same greedy replies, which were
    identical).
    """
    cores = os.cpu_count() or 1
    if n_threads:
        return n_threads, n_threads
    return max(cores // 2, 1), cores


def _model_key(path: Path, settings: dict[str, Any] | None) -> tuple[Path, int, int]:
    """(file, n_ctx, n_threads) a loaded copy is kept under (n_threads 0: the defaults)."""
    settings = settings or {}
    return (path, int(settings.get("n_ctx") or _n_ctx()), int(settings.get("n_threads") or 0))


def prepare(model: str, notify: Callable[[str], None], settings: dict[str, Any] | None = None,
            load: bool = True) -> None:
    """Assemble (first run only) and load a `local/` model now, saying what takes the time, so
    a run's first step does not sit silent for a minute.

    Args:
        model: a `local/...` model name.
        notify: receives one line before each slow part.
        settings: the run's `local:` settings (the loaded copy is kept per setting).
        load: also load it into this process (not when runs go to worker processes).

    Raises:
        ModelError: the model cannot be found, assembled or loaded.
    """
    name = model.removeprefix(f"{PROVIDER}/")
    if name == DEFAULT_MODEL:
        bundle = EMBEDDED_BUNDLE
        if not is_verified(cache_dir() / bundle.filename, bundle.size, bundle.sha256):
            notify(f"assembling the embedded model {DEFAULT_MODEL} ({bundle.size / 1e6:.0f} MB) "
                   f"into {cache_dir()} and checking its SHA-256 (first run only)")
    path = resolve_model_path(name)
    if not load:
        return
    with _models_lock:
        loaded = _model_key(path, settings) in _models
    if not loaded:
        notify(f"loading {path.name} into memory")
        _load(path, settings)


def close_models() -> None:
    """Free every loaded model (runs at interpreter exit; later calls load them again)."""
    with _models_lock:
        loaded = list(_models.values())
        _models.clear()
    for model in loaded:
        with model.lock:
            model.llama.close()


atexit.register(close_models)


# --- the litellm provider ------------------------------------------------------------------------


def chat_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages reduced to what llama-cpp accepts: role, text content, and name."""
    cleaned = []
    for message in messages:
        kept = {k: message[k] for k in _MESSAGE_KEYS if message.get(k) is not None}
        kept["role"] = "system" if kept.get("role") == "developer" else kept.get("role", "user")
        kept["content"] = content_text(message.get("content"))
        cleaned.append(kept)
    return cleaned


def sampling_params(optional_params: dict[str, Any]) -> dict[str, Any]:
    """OpenAI-style params mapped to `create_chat_completion` keywords (tools travel as text,
    see `complete`)."""
    params: dict[str, Any] = {"seed": DEFAULT_SEED}
    for key in ("temperature", "top_p", "seed", "stop"):
        if optional_params.get(key) is not None:
            params[key] = optional_params[key]
    max_tokens = optional_params.get("max_tokens") or optional_params.get("max_completion_tokens")
    if max_tokens is not None:
        params["max_tokens"] = int(max_tokens)
    return params


MEASURING_PURPOSES = frozenset({"probe", "judge"})
"""Calls that fork from their agent's state and are never saved: measurements, thrown away."""


def call_owner(litellm_params: dict[str, Any] | None) -> tuple[Owner, bool]:
    """Whose KV state a call continues, and whether it only forks from it (a measurement).

    Returns:
        ((run id, agent id, role), measuring); measurements fork from the agent's own state.
    """
    meta = ((litellm_params or {}).get("metadata") or {}).get("scaffold") or {}
    purpose = str(meta.get("purpose", "agent"))
    measuring = purpose in MEASURING_PURPOSES
    owner = (str(meta.get("run_id") or ""), str(meta.get("agent_id") or ""),
             "agent" if measuring else purpose)
    return owner, measuring


def state_stats(model: str = DEFAULT_MODEL) -> Any:
    """The KV-state counters (`_kv_state.StateStats`) of a loaded local model."""
    return _load(resolve_model_path(model)).book.stats


def release_run(run_id: str) -> None:
    """Forget the saved KV states of a finished run in every loaded model."""
    with _models_lock:
        loaded = list(_models.values())
    for model in loaded:
        with model.lock:
            model.book.release(run_id)
    _persisted.pop(run_id, None)


_persisted: dict[str, dict[tuple[tuple[Path, int, int], Owner], tuple[int, str]]] = {}
"""By run id: the version and file of each owner's state already on disk."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text) or "_"


def persist_run(run_id: str, directory: Path, seq: int) -> bool:
    """Write the KV states a run's calls have left, as the generation of the checkpoint at
    event `seq` (see `_kv_files`); states unchanged since the last generation are not written
    again. Returns False (writing nothing) when the run holds no state in any loaded model.
    """
    with _models_lock:
        loaded = list(_models.items())
    held = []
    for key, model in loaded:
        with model.lock:
            owners = [(o, s, model.book.versions.get(o, 0))
                      for o, s in model.book.states.items() if o[0] == run_id]
        if owners:
            held.append((key, owners))
    if not held:
        return False
    directory.mkdir(parents=True, exist_ok=True)
    done = _persisted.setdefault(run_id, {})
    models = []
    for key, owners in held:
        path, n_ctx, n_threads = key
        tag = hashlib.sha256(f"{path}:{n_ctx}:{n_threads}".encode()).hexdigest()[:8]
        files = []
        for owner, snapshot, version in owners:
            written = done.get((key, owner))
            if written is None or written[0] != version or not (directory / written[1]).exists():
                name = f"{tag}.{_slug(owner[1])}.{_slug(owner[2])}.s{seq}.kv"
                _kv_files.write_snapshot(directory / name, snapshot)
                written = done[(key, owner)] = (version, name)
            files.append(_kv_files.OwnerFile(agent=owner[1], role=owner[2], file=written[1],
                                             n_tokens=snapshot.n_tokens, size=snapshot.size))
        models.append(_kv_files.ModelStates(path=str(path), size=path.stat().st_size,
                                            n_ctx=n_ctx, n_threads=n_threads, owners=files))
    _kv_files.write_generation(directory, _kv_files.Generation(seq=seq, models=models))
    return True


def restore_run(run_id: str, directory: Path, seq: int) -> str:
    """Put back the KV states a run had at its checkpoint at event `seq`, before it resumes.

    Later generations (an attempt killed after its checkpoint) are deleted. Returns "exact"
    (every state put back: the run continues bit-exactly), "none" (the run never saved a
    state: nothing to put back) or "missing" (saved states exist, but none for this
    checkpoint, or they cannot be read or loaded: each owner's state is rebuilt in one pass
    at its next call, and later replies can differ from an uninterrupted run's).
    """
    if not directory.is_dir() or not _kv_files.generations(directory):
        return "none"
    _kv_files.prune(directory, keep_through=seq)
    generation = _kv_files.read_generation(directory, seq)
    if generation is None:
        return "missing"
    restored: list[tuple[_LoadedModel, tuple[Path, int, int], Owner, Any, str]] = []
    try:
        for states in generation.models:
            path = Path(states.path)
            if not path.is_file() or path.stat().st_size != states.size:
                return "missing"
            key = (path, states.n_ctx, states.n_threads)
            model = _load(path, {"n_ctx": states.n_ctx, "n_threads": states.n_threads})
            dtype = model.llama.input_ids.dtype
            for owned in states.owners:
                snapshot = _kv_files.read_snapshot(directory / owned.file, dtype)
                restored.append((model, key, (run_id, owned.agent, owned.role), snapshot,
                                 owned.file))
    except (OSError, ValueError, ModelError) as exc:
        log.warning("saved KV states of %s not restored: %s", run_id, exc)
        return "missing"
    done = _persisted.setdefault(run_id, {})
    for model, key, owner, snapshot, name in restored:
        with model.lock:
            model.book.put(owner, snapshot)
            done[(key, owner)] = (model.book.versions[owner], name)
    return "exact"


def _generate(model: str, messages: list[dict[str, Any]], params: dict[str, Any],
              owner: Owner = ("", "", "agent"), measuring: bool = False,
              settings: dict[str, Any] | None = None, purpose: str = "") -> dict[str, Any]:
    """One blocking chat completion, mapping failures to litellm-compatible errors."""
    try:
        loaded = _load(resolve_model_path(model), settings)
    except ModelError as exc:  # not transient: 404 keeps litellm callers from retrying
        raise CustomLLMError(status_code=404, message=str(exc)) from None
    try:
        with loaded.lock:
            return _run(loaded, messages, params, owner, measuring,
                        bool((settings or {}).get("kv_state", True)), purpose)
    except ValueError as exc:
        if "exceed context window" in str(exc):
            raise litellm.ContextWindowExceededError(
                message=f"{PROVIDER}/{model}: {exc}; shorten the conversation or raise "
                        "local.n_ctx in the config", model=f"{PROVIDER}/{model}",
                llm_provider=PROVIDER,
            ) from None
        raise CustomLLMError(status_code=400, message=f"{PROVIDER}/{model}: {exc}") from None
    except RuntimeError as exc:
        raise CustomLLMError(status_code=500, message=f"{PROVIDER}/{model}: {exc}") from None


def complete(model: str, messages: list[dict[str, Any]], model_response: Any,
             optional_params: dict[str, Any], litellm_params: dict[str, Any] | None = None
             ) -> Any:
    """Run one completion on the local model named `model` and fill `model_response`.

    Agent, summarizer, note and simulated-user calls continue from their own previous call's
    KV state; probe and judge calls fork from the agent's state and leave no trace (see
    `_kv_state`). Offered tools go in as text and `<tool_call>` blocks come back as tool calls
    (see `_local_tools`).

    Returns:
        `model_response`, with content, finish reason and token usage set.
    """
    owner, measuring = call_owner(litellm_params)
    tools = optional_params.get("tools")
    uses_tools = bool(tools) or any(m.get("role") == "tool" or m.get("tool_calls")
                                    for m in messages)
    prompt = with_tools(messages, tools) if uses_tools else chat_messages(messages)
    meta = ((litellm_params or {}).get("metadata") or {}).get("scaffold") or {}
    result = _generate(model, prompt, sampling_params(optional_params), owner, measuring,
                       meta.get("local"), str(meta.get("purpose", "agent")))
    choice = result["choices"][0]
    usage = result.get("usage") or {}
    text, calls = parse_tool_calls(choice["message"].get("content") or "", tools)
    model_response.choices[0].message.content = text
    model_response.choices[0].finish_reason = choice.get("finish_reason") or "stop"
    if calls:
        from litellm.types.utils import ChatCompletionMessageToolCall

        model_response.choices[0].message.tool_calls = [
            ChatCompletionMessageToolCall(**c) for c in calls]
        model_response.choices[0].finish_reason = "tool_calls"
    model_response.model = f"{PROVIDER}/{model}"
    model_response.usage = litellm.Usage(
        prompt_tokens=usage.get("prompt_tokens", 0),
        completion_tokens=usage.get("completion_tokens", 0),
        total_tokens=usage.get("total_tokens", 0),
    )
    return model_response


class LocalModelHandler(CustomLLM):
    """litellm handler for `local/<name>` models: one serialized `Llama` per model file."""

    def completion(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                   model_response: Any, print_verbose: Any, encoding: Any, api_key: Any,
                   logging_obj: Any, optional_params: dict, acompletion: Any = None,
                   litellm_params: Any = None, logger_fn: Any = None, headers: Any = None,
                   timeout: Any = None, client: Any = None) -> Any:
        return complete(model, messages, model_response, optional_params, litellm_params)

    async def acompletion(self, model: str, messages: list, api_base: str,
                          custom_prompt_dict: dict, model_response: Any, print_verbose: Any,
                          encoding: Any, api_key: Any, logging_obj: Any, optional_params: dict,
                          acompletion: Any = None, litellm_params: Any = None,
                          logger_fn: Any = None, headers: Any = None, timeout: Any = None,
                          client: Any = None) -> Any:
        return await asyncio.to_thread(complete, model, messages, model_response,
                                       optional_params, litellm_params)


_handler: LocalModelHandler | None = None
_register_lock = threading.Lock()


def local_handler() -> LocalModelHandler:
    """The process-wide handler instance (the `model/local` plugin factory)."""
    global _handler
    with _register_lock:
        if _handler is None:
            _handler = LocalModelHandler()
        return _handler


def register_local_provider() -> LocalModelHandler:
    """Route `local/...` models through the embedded handler; safe to call any number of times.

    Other providers in `litellm.custom_provider_map` are kept; a different `local` handler is
    replaced.

    Returns:
        The handler now serving `local/` models.
    """
    handler = local_handler()
    with _register_lock:
        current = litellm.custom_provider_map
        if not any(e.get("provider") == PROVIDER and e.get("custom_handler") is handler
                   for e in current):
            litellm.custom_provider_map = [e for e in current if e.get("provider") != PROVIDER] + [
                {"provider": PROVIDER, "custom_handler": handler}]
        _custom_llm_setup()
    return handler


def _custom_llm_setup() -> None:
    # litellm re-reads the map at every call (litellm.utils.function_setup); running its setup
    # now also makes `local` a known provider before the first call. In litellm 1.110 it lives in
    # litellm.utils only: `litellm.custom_llm_setup` raises AttributeError.
    try:
        from litellm.utils import custom_llm_setup
    except ImportError:
        return
    custom_llm_setup()


register("model", PROVIDER)(local_handler)
