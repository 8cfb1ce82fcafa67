"""One call on the embedded model: its prompt rendered once, its KV state resumed or forked."""

from __future__ import annotations

from typing import Any, Protocol

from scaffold.models._kv_state import Owner, PhaseTimes, StateBook, common_prefix, read_timings


class LoadedModel(Protocol):
    """What a call needs of a loaded model (`local._LoadedModel`)."""

    llama: Any
    book: StateBook

    def render(self, messages: list[dict[str, Any]], generation: bool = True) -> Any: ...

    def tokenize(self, rendered: Any) -> list[int]: ...

    def prompt_tokens(self, messages: list[dict[str, Any]], generation: bool = True
                      ) -> list[int]: ...


def _shared_context(loaded: LoadedModel, messages: list[dict[str, Any]], full: list[int]
                    ) -> list[int] | None:
    """The tokens a measurement shares with the other measurements on the same context: all
    but its own last message (`full`: the whole prompt's tokens). None when the whole prompt
    would not fit the context window (the completion then reports that)."""
    if len(full) >= loaded.llama.n_ctx() or len(messages) < 2:
        return None
    context = loaded.prompt_tokens(messages[:-1], generation=False)
    return full[:common_prefix(context, full)]


CHAT_DEFAULTS: dict[str, Any] = {
    "temperature": 0.2, "top_p": 0.95, "top_k": 40, "min_p": 0.05, "typical_p": 1.0,
    "presence_penalty": 0.0, "frequency_penalty": 0.0, "repeat_penalty": 1.0, "tfs_z": 1.0,
    "mirostat_mode": 0, "mirostat_tau": 5.0, "mirostat_eta": 0.1, "max_tokens": None}
"""`Llama.create_chat_completion`'s sampling defaults, which `complete` keeps
(`create_completion`'s differ: e.g. it stops after 16 tokens unless told otherwise)."""


def complete(loaded: LoadedModel, rendered: Any, prompt: list[int], params: dict[str, Any]
             ) -> dict[str, Any]:
    """What `create_chat_completion(messages, **params)` returns, from the prompt already
    rendered and tokenized (its chat handler would render and tokenize it again)."""
    from llama_cpp import llama_chat_format

    stop = params.get("stop") or []
    stop = [stop] if isinstance(stop, str) else list(stop)
    if rendered.stop is not None:
        stop += rendered.stop if isinstance(rendered.stop, list) else [rendered.stop]
    sampling = {**CHAT_DEFAULTS, **{k: v for k, v in params.items() if k != "stop"}}
    completion = loaded.llama.create_completion(
        prompt=prompt, stop=stop, stopping_criteria=rendered.stopping_criteria, **sampling)
    return dict(llama_chat_format._convert_completion_to_chat(completion))  # type: ignore[arg-type]


def run(loaded: LoadedModel, messages: list[dict[str, Any]], params: dict[str, Any],
        owner: Owner, measuring: bool, kv_state: bool = True, purpose: str = ""
        ) -> dict[str, Any]:
    """Generate from the owner's state (or a fork of it); save the state an owner's call left.

    The prompt is rendered and tokenized once. With `kv_state` off every call starts from an
    empty cache: the whole prompt is evaluated in one pass, so a reply never depends on how
    earlier calls split their evaluation (the choice for bit-exact resumes; see
    `LocalModelSpec.kv_state`). llama.cpp's timings of the call (its round base included) are
    added to `book.stats.phases[purpose]` (default: the owner's role, or "probe").
    """
    book, llama = loaded.book, loaded.llama
    times = book.stats.phase(purpose or ("probe" if measuring else owner[2]))
    read_timings(llama, PhaseTimes())  # start from zero: drop what ran outside calls
    try:
        return _evaluate(loaded, messages, params, owner, measuring, kv_state)
    finally:
        read_timings(llama, times)


def _evaluate(loaded: LoadedModel, messages: list[dict[str, Any]], params: dict[str, Any],
              owner: Owner, measuring: bool, kv_state: bool) -> dict[str, Any]:
    """`run` without the timings."""
    book, llama = loaded.book, loaded.llama
    rendered = loaded.render(messages)
    prompt = loaded.tokenize(rendered)
    shared = _shared_context(loaded, messages, prompt) if measuring and kv_state else None
    if not kv_state:
        book.clear(llama)
    elif shared is not None:
        book.fork(llama, owner, shared)
    else:
        book.resume(llama, owner)
    book.stats.count(len(prompt), common_prefix(llama.input_ids[: llama.n_tokens], prompt))
    if measuring or not kv_state:
        return complete(loaded, rendered, prompt, params)
    try:
        result = complete(loaded, rendered, prompt, params)
    except Exception:
        book.states.pop(owner, None)  # a half-done call leaves no state: start clean next time
        raise
    book.save(llama, owner)
    return result
