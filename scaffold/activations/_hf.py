"""Activation capture on Hugging Face `transformers` models through forward hooks (the GPU path)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scaffold.activations._reading import (
    ActivationsUnavailable,
    ModelIdentity,
    Reading,
    check_layers,
)

HF_PREFIX = "hf/"
EXTRA_HINT = "pip install 'scaffold-persona[activations-hf]'"


def decoder_layers(model: Any) -> Any:
    """The model's list of decoder blocks (`model.model.layers` for Llama/Qwen/Mistral/Gemma,
    `transformer.h` for GPT-2 style models).

    Raises:
        ActivationsUnavailable: the architecture keeps its blocks elsewhere.
    """
    for path in (("model", "layers"), ("transformer", "h"), ("gpt_neox", "layers"),
                 ("model", "decoder", "layers")):
        node = model
        for attr in path:
            node = getattr(node, attr, None)
            if node is None:
                break
        if node is not None:
            return node
    raise ActivationsUnavailable(f"cannot find the decoder blocks of {type(model).__name__}")


def block_output(output: Any) -> Any:
    """The hidden states a decoder block's forward returns (a tensor, or the first item of
    a tuple)."""
    return output[0] if isinstance(output, tuple) else output


def span_mean(hidden: NDArray[np.float32], start: int) -> NDArray[np.float32]:
    """Mean over the rows from `start` on of one sequence's hidden states (tokens, width)."""
    if start >= hidden.shape[0]:
        raise ValueError("the text has no tokens after its context")
    return hidden[start:].mean(axis=0).astype(np.float32)


class HFReader:
    """Reads block outputs of a `transformers` causal LM with forward hooks.

    Layer n is the output of decoder block n (`hidden_states[n + 1]`), as llama.cpp's
    `l_out-n`, so an axis built on one backend names the same layers on the other (the
    weights must still be the same model: an axis records its model).

    Args:
        name: `hf/<repo or local directory>`.
        device: torch device (default: cuda when available, else cpu).
        dtype: torch dtype name (default bfloat16 on cuda, float32 on cpu).
    """

    def __init__(self, name: str, device: str | None = None, dtype: str | None = None):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise ActivationsUnavailable(f"activations for {name} need transformers and torch: "
                                         f"{EXTRA_HINT}") from None
        repo = name.removeprefix(HF_PREFIX)
        self._torch = torch
        self._device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        chosen = getattr(torch, dtype) if dtype else (
            torch.bfloat16 if self._device == "cuda" else torch.float32)
        self._tokenizer = AutoTokenizer.from_pretrained(repo)
        self._model = AutoModelForCausalLM.from_pretrained(repo, torch_dtype=chosen)
        self._model.to(self._device).eval()
        self._blocks = decoder_layers(self._model)
        config = self._model.config
        revision = str(getattr(config, "_commit_hash", None) or "unknown")
        self.identity = ModelIdentity(name=name, file=repo, sha256=revision,
                                      n_layers=len(self._blocks),
                                      hidden=int(config.hidden_size))
        self._lock = threading.Lock()

    def _ids(self, messages: Sequence[dict[str, Any]], text: str | None) -> list[int]:
        chat = [{"role": m.get("role", "user"), "content": str(m.get("content") or "")}
                for m in messages]
        if text is None:
            ids = self._tokenizer.apply_chat_template(chat, add_generation_prompt=True,
                                                      tokenize=True)
        else:
            prompt = self._tokenizer.apply_chat_template(chat, add_generation_prompt=True,
                                                         tokenize=False)
            ids = self._tokenizer(prompt + text, add_special_tokens=False)["input_ids"]
        return list(ids)

    def read(self, messages: Sequence[dict[str, Any]], text: str,
             layers: Sequence[int]) -> Reading:
        """Mean block outputs over the text's tokens, evaluated after its context."""
        chosen = check_layers(layers, self.identity.n_layers)
        start = time.perf_counter()
        prefix = self._ids(messages, None)
        ids = self._ids(messages, text)
        outputs: dict[int, Any] = {}
        hooks = [self._blocks[layer].register_forward_hook(
            lambda _m, _i, out, layer=layer: outputs.__setitem__(layer, block_output(out)))
            for layer in chosen]
        try:
            with self._lock, self._torch.no_grad():
                self._model(self._torch.tensor([ids], device=self._device))
        finally:
            for hook in hooks:
                hook.remove()
        means = {layer: span_mean(outputs[layer][0].float().cpu().numpy(), len(prefix))
                 for layer in chosen}
        return Reading(means=means, tokens=len(ids) - len(prefix), evaluated=len(ids),
                       truncated=0, seconds=time.perf_counter() - start)

    def generate(self, messages: Sequence[dict[str, Any]], max_tokens: int, seed: int) -> str:
        """A greedy reply (used to build axes)."""
        ids = self._ids(messages, None)
        self._torch.manual_seed(seed)
        with self._lock, self._torch.no_grad():
            out = self._model.generate(self._torch.tensor([ids], device=self._device),
                                       max_new_tokens=max_tokens, do_sample=False)
        return str(self._tokenizer.decode(out[0][len(ids):], skip_special_tokens=True))
