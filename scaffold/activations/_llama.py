"""Activation capture on a GGUF model through llama.cpp's evaluation callback (CPU, in-process)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scaffold.activations._ggml import ggml_tensors
from scaffold.activations._reading import (
    ModelIdentity,
    Reading,
    check_layers,
    common_prefix,
    fit_to_context,
)
from scaffold.errors import ModelError

DEFAULT_READER_N_CTX = 4096
_GENERATION_N_CTX = 1024


def layer_tensor(layer: int) -> bytes:
    """llama.cpp's name for the output of block `layer` (the residual stream after it)."""
    return f"l_out-{layer}".encode()


class LlamaCppReader:
    """Reads residual-stream activations of a GGUF model on llama.cpp, in its own context.

    It loads the GGUF once more (memory-mapped, so the weights' pages are shared with the
    agent's copy) with a second context whose evaluation callback copies `l_out-<layer>` for
    the tokens of the scored text. It keeps its KV cache between reads and evaluates only
    what differs from the previous context (never the scored text itself, which is always
    evaluated so its activations are seen). Each evaluation stops once the deepest layer
    asked for is read: the blocks after it and the output head are not computed, so their
    cache cells are not filled, and a later read that needs a deeper layer starts afresh.
    It never touches the agents' contexts.

    Args:
        name: the configured model name (recorded with readings and axes).
        path: the GGUF file.
        sha256: its hex digest.
        n_ctx: the reading context's size; longer contexts lose tokens from the left.
        n_threads: CPU threads (default: every core).
    """

    def __init__(self, name: str, path: Path, sha256: str, n_ctx: int = DEFAULT_READER_N_CTX,
                 n_threads: int | None = None):
        from llama_cpp import Llama, llama_chat_format
        from llama_cpp import _internals as internals
        from llama_cpp import llama_cpp as lib

        threads = n_threads or os.cpu_count() or 1
        try:
            self._llama = Llama(model_path=str(path), n_ctx=_GENERATION_N_CTX, n_threads=threads,
                                seed=0, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load {path}: {exc}") from None
        model = self._llama._model
        self.identity = ModelIdentity(name=name, file=path.name, sha256=sha256,
                                      n_layers=int(lib.llama_model_n_layer(model.model)),
                                      hidden=int(model.n_embd()))
        self._tensors = ggml_tensors()
        self._wanted: dict[bytes, int] = {}
        self._rows: dict[int, list[NDArray[np.float32]]] = {}
        self._callback = lib.ggml_backend_sched_eval_callback(self._on_tensor)
        self._params = lib.llama_context_default_params()
        self._params.n_ctx, self._params.n_batch, self._params.n_ubatch = n_ctx, 512, 512
        self._params.n_threads = self._params.n_threads_batch = threads
        self._plain: Any = None
        self._params.cb_eval = self._callback
        self._params.cb_eval_user_data = None
        self._ctx = internals.LlamaContext(model=model, params=self._params, verbose=False)
        self._batch = internals.LlamaBatch(n_tokens=512, embd=0, n_seq_max=1, verbose=False)
        self.n_ctx = n_ctx
        self._cached: list[int] = []
        self._depth = -1  # the deepest block whose cache cells the cached tokens all have
        self._stop = b""  # the tensor after which the running evaluation stops
        self._lock = threading.Lock()
        template = self._llama.metadata.get("tokenizer.chat_template")
        if template is None:
            raise ModelError(f"{path.name} has no chat template")
        eos, bos = self._llama.token_eos(), self._llama.token_bos()
        self._formatter = llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
            add_generation_prompt=True, stop_token_ids=[eos])

    # --- the callback -----------------------------------------------------------------------

    def _on_tensor(self, tensor: int, ask: bool, _user_data: Any) -> bool:
        """llama.cpp asks (ask=True) whether we want each node, then hands the wanted ones
        over once computed (ask=False); returning False there ends the graph's computation,
        which is done after the deepest wanted layer (nothing later is needed)."""
        name = self._tensors.name(tensor)
        layer = self._wanted.get(name)
        if ask:
            return layer is not None
        if layer is not None:
            self._rows[layer].append(self._tensors.rows(tensor))
        return name != self._stop

    # --- reading ----------------------------------------------------------------------------

    def prompt_tokens(self, messages: Sequence[dict[str, Any]]) -> list[int]:
        """The tokens of `messages` under the model's chat template, ending with the opening
        of an assistant turn (what the model sees before it writes a reply)."""
        from scaffold.models.local import chat_messages

        result = self._formatter(messages=chat_messages(messages))  # type: ignore[arg-type]
        return list(self._llama.tokenize(result.prompt.encode("utf-8"),
                                         add_bos=not result.added_special, special=True))

    def text_tokens(self, text: str) -> list[int]:
        """The tokens of a reply's text (no special tokens, no BOS)."""
        return list(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def read(self, messages: Sequence[dict[str, Any]], text: str,
             layers: Sequence[int]) -> Reading:
        """Mean activations of `text` as the reply to `messages`, per layer.

        Raises:
            ValueError: a layer is out of range, or the text is empty or longer than the
                reading context.
        """
        chosen = check_layers(layers, self.identity.n_layers)
        start = time.perf_counter()
        span = self.text_tokens(text)
        prefix, truncated = fit_to_context(span, lambda: self.prompt_tokens(messages),
                                           self.n_ctx)
        with self._lock:
            evaluated, rows = self._evaluate(prefix, span, chosen)
        means = {layer: rows[layer].mean(axis=0) for layer in chosen}
        return Reading(means=means, tokens=len(span), evaluated=evaluated, truncated=truncated,
                       seconds=time.perf_counter() - start)

    def _evaluate(self, prefix: list[int], span: list[int], layers: list[int]
                  ) -> tuple[int, dict[int, NDArray[np.float32]]]:
        """Evaluate prefix + span, reusing the cached prefix; the span's rows per layer."""
        tokens = prefix + span
        deepest = max(layers)
        keep = min(common_prefix(self._cached, tokens), len(prefix))
        if deepest > self._depth:  # the cached cells stop short of a layer read now
            keep = 0
        self._ctx.kv_cache_seq_rm(-1, keep, -1)
        self._cached = tokens[:keep]
        self._depth = deepest
        self._wanted = {layer_tensor(layer): layer for layer in layers}
        self._stop = layer_tensor(deepest)
        captured: dict[int, list[NDArray[np.float32]]] = {layer: [] for layer in layers}
        try:
            for i in range(keep, len(tokens), 512):
                chunk = tokens[i:i + 512]
                self._rows = {layer: [] for layer in layers}
                self._batch.set_batch(batch=chunk, n_past=i, logits_all=False)
                self._ctx.decode(self._batch)
                self._cached = tokens[:i + len(chunk)]
                first = max(0, len(prefix) - i)  # span rows start here in this chunk
                for layer in layers:
                    got = np.concatenate(self._rows[layer]) if self._rows[layer] else None
                    if got is None or got.shape[0] != len(chunk):
                        raise ModelError(f"llama.cpp gave {0 if got is None else got.shape[0]} "
                                         f"rows of l_out-{layer} for {len(chunk)} tokens")
                    if first < len(chunk):
                        captured[layer].append(got[first:])
        except Exception:
            self._ctx.kv_cache_clear()
            self._cached = []
            raise
        finally:
            self._wanted, self._rows, self._stop = {}, {}, b""
        return len(tokens) - keep, {k: np.concatenate(v) for k, v in captured.items()}

    def generate(self, messages: Sequence[dict[str, Any]], max_tokens: int, seed: int) -> str:
        """A greedy reply from the reader's own copy of the model (no activations read)."""
        from scaffold.models.local import chat_messages

        with self._lock:
            self._llama.set_seed(seed)
            out = self._llama.create_chat_completion(
                messages=chat_messages(messages),  # type: ignore[arg-type]
                max_tokens=max_tokens, temperature=0.0, seed=seed)
        content = out["choices"][0]["message"]["content"]  # type: ignore[index]
        return str(content or "")

    def eval_plain(self, tokens: Sequence[int]) -> float:
        """Evaluate tokens from an empty cache in an identical context with no callback: the
        baseline the capture overhead is measured against. Returns the seconds it took."""
        from llama_cpp import _internals as internals
        from llama_cpp import llama_cpp as lib

        with self._lock:
            if self._plain is None:
                params = lib.llama_context_default_params()
                for field in ("n_ctx", "n_batch", "n_ubatch", "n_threads", "n_threads_batch"):
                    setattr(params, field, getattr(self._params, field))
                self._plain = internals.LlamaContext(model=self._llama._model, params=params,
                                                     verbose=False)
            self._plain.kv_cache_clear()
            start = time.perf_counter()
            for i in range(0, len(tokens), 512):
                self._batch.set_batch(batch=list(tokens[i:i + 512]), n_past=i, logits_all=False)
                self._plain.decode(self._batch)
            return time.perf_counter() - start

    def forget(self) -> None:
        """Drop the cached context (the next read evaluates everything)."""
        with self._lock:
            self._ctx.kv_cache_clear()
            self._cached = []

    def close(self) -> None:
        """Free the context and the model copy."""
        with self._lock:
            self._batch.close()
            self._ctx.close()
            if self._plain is not None:
                self._plain.close()
            self._llama.close()
