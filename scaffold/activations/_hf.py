"""Activation capture on Hugging Face `transformers` models through forward hooks (the GPU path)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scaffold.activations._hf_load import (
    EXTRA_HINT,
    HF_PREFIX,
    choose_device,
    choose_dtype,
    import_torch,
    model_directory,
    weights_sha256,
)
from scaffold.activations._reading import (
    ActivationsUnavailable,
    ModelIdentity,
    Reading,
    check_layers,
    fit_to_context,
)
from scaffold.errors import ModelError

__all__ = ["EXTRA_HINT", "HF_PREFIX", "HFReader", "block_output", "decoder_layers", "span_mean"]

DEFAULT_HF_N_CTX = 4096
"""Tokens a read keeps (context cut from the left), unless the model's window is shorter."""


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


def chat_text(messages: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages as the chat template takes them: role (`developer` read as `system`) and text
    content, as the llama.cpp reader passes them (without importing litellm)."""
    from scaffold.models._local_tools import content_text

    chat = []
    for message in messages:
        role = message.get("role") or "user"
        chat.append({"role": "system" if role == "developer" else str(role),
                     "content": content_text(message.get("content"))})
    return chat


class _Enough(Exception):
    """Raised by the deepest wanted block's hook: the blocks after it need not run."""


class HFReader:
    """Reads block outputs of a `transformers` causal LM with forward hooks.

    Layer n is the output of decoder block n (`hidden_states[n + 1]` of a forward with
    `output_hidden_states`), as llama.cpp's `l_out-n`, so both backends number layers alike
    (an axis still belongs to the weights it was built on: the identity is their digest).
    A read tokenizes the context with the model's chat template (ending with the opening of
    an assistant turn) and the text on its own, as the llama.cpp reader does, runs the base
    model without its LM head, and stops after the deepest wanted block.

    Args:
        name: `hf/<Hub repo id or local directory>` (`hf//abs/dir`, `hf/./dir`, `hf/~/dir`).
        device: torch device (default: cuda when available, else cpu).
        dtype: float32, bfloat16 or float16 (default bfloat16 on a GPU, float32 on the CPU).
        n_ctx: most tokens a read evaluates (capped at the model's position window).

    Raises:
        ActivationsUnavailable: the `activations-hf` extra is missing.
        ModelError: the model or its tokenizer cannot be loaded, or it has no chat template.
    """

    def __init__(self, name: str, device: str | None = None, dtype: str | None = None,
                 n_ctx: int = DEFAULT_HF_N_CTX):
        torch = import_torch()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        repo = name.removeprefix(HF_PREFIX)
        if Path(repo).expanduser().is_dir():  # hf/~/models/x, hf//abs/path, hf/./rel
            repo = str(Path(repo).expanduser())
        self._torch = torch
        self.device = choose_device(device, torch.cuda.is_available())
        self.dtype = choose_dtype(dtype, self.device)
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(repo)
            self._model = AutoModelForCausalLM.from_pretrained(
                repo, dtype=getattr(torch, self.dtype))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load {name}: {exc}") from None
        if not getattr(self._tokenizer, "chat_template", None):
            raise ModelError(f"{name} has no chat template (an instruct/chat model is needed)")
        self._model.to(self.device).eval()
        self._blocks = decoder_layers(self._model)
        config = self._model.config
        window = getattr(config, "max_position_embeddings", None) or n_ctx
        self.n_ctx = min(n_ctx, int(window))
        self.identity = ModelIdentity(name=name, file=repo,
                                      sha256=weights_sha256(model_directory(repo)),
                                      n_layers=len(self._blocks),
                                      hidden=int(config.hidden_size))
        self._lock = threading.Lock()

    def prompt_tokens(self, messages: Sequence[dict[str, Any]]) -> list[int]:
        """The tokens of `messages` under the chat template, ending with the opening of an
        assistant turn (what the model sees before it writes a reply)."""
        try:
            prompt = self._tokenizer.apply_chat_template(
                chat_text(messages), add_generation_prompt=True, tokenize=False)
        except Exception as exc:  # jinja raises anything a template author chose
            raise ModelError(f"{self.identity.name}: its chat template failed: {exc}") from None
        return list(self._tokenizer(str(prompt), add_special_tokens=False)["input_ids"])

    def text_tokens(self, text: str) -> list[int]:
        """The tokens of a reply's text (no special tokens: `<|im_end|>` written in the text
        is read as the characters it is made of)."""
        return list(self._tokenizer(text, add_special_tokens=False,
                                    split_special_tokens=True)["input_ids"])

    def read(self, messages: Sequence[dict[str, Any]], text: str,
             layers: Sequence[int]) -> Reading:
        """Mean block outputs over the text's tokens, evaluated after its context.

        Raises:
            ValueError: a layer is out of range, or the text is empty or longer than n_ctx.
        """
        chosen = check_layers(layers, self.identity.n_layers)
        start = time.perf_counter()
        span = self.text_tokens(text)
        prefix, truncated = fit_to_context(span, lambda: self.prompt_tokens(messages),
                                           self.n_ctx)
        with self._lock:
            hidden = self._block_outputs(prefix + span, chosen)
        means = {layer: span_mean(hidden[layer], len(prefix)) for layer in chosen}
        return Reading(means=means, tokens=len(span), evaluated=len(prefix) + len(span),
                       truncated=truncated, seconds=time.perf_counter() - start)

    def _block_outputs(self, ids: list[int], layers: list[int]
                       ) -> dict[int, NDArray[np.float32]]:
        """Each wanted block's output for every token of `ids` (float32, tokens x hidden)."""
        torch = self._torch
        outputs: dict[int, NDArray[np.float32]] = {}
        deepest = max(layers)

        def keep(layer: int) -> Any:
            def hook(_module: Any, _inputs: Any, output: Any) -> None:
                outputs[layer] = block_output(output)[0].float().cpu().numpy()
                if layer == deepest:
                    raise _Enough

            return hook

        hooks = [self._blocks[layer].register_forward_hook(keep(layer)) for layer in layers]
        try:
            with torch.no_grad():
                self._model.base_model(input_ids=torch.tensor([ids], device=self.device),
                                       use_cache=False)
        except _Enough:
            pass
        finally:
            for hook in hooks:
                hook.remove()
        missing = [layer for layer in layers if layer not in outputs]
        if missing:
            raise ModelError(f"{self.identity.name}: blocks {missing} gave no output")
        return outputs

    def generate(self, messages: Sequence[dict[str, Any]], max_tokens: int, seed: int) -> str:
        """A greedy reply (used to build axes)."""
        torch = self._torch
        ids = self.prompt_tokens(messages)
        tokens = torch.tensor([ids], device=self.device)
        pad = self._tokenizer.pad_token_id
        with self._lock, torch.no_grad():
            torch.manual_seed(seed)
            out = self._model.generate(
                input_ids=tokens, attention_mask=torch.ones_like(tokens),
                max_new_tokens=max_tokens, do_sample=False, temperature=None, top_p=None,
                top_k=None, pad_token_id=pad if pad is not None else self._tokenizer.eos_token_id)
        return str(self._tokenizer.decode(out[0][len(ids):], skip_special_tokens=True))

    def close(self) -> None:
        """Free the model (and the GPU memory it held)."""
        with self._lock:
            self._model = None
            self._blocks = None
            if self.device.startswith("cuda"):
                self._torch.cuda.empty_cache()
