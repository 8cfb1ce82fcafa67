"""Both backends read the same layers: transformers on the embedded GGUF, dequantized, against
llama.cpp on the GGUF itself (slow; needs the activations-hf extra plus gguf and accelerate,
which transformers' GGUF loader uses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gguf")
pytest.importorskip("accelerate")

from scaffold.activations import DEFAULT_READER, open_reader  # noqa: E402
from scaffold.activations._hf import HFReader  # noqa: E402

pytestmark = pytest.mark.slow

PIRATE = [{"role": "system", "content": "You are a pirate who sails the seven seas."},
          {"role": "user", "content": "What do you think about the ocean?"}]
REPLY = "Arr, the ocean be my home, matey! I have sailed it for twenty years and fear no storm."
LAYERS = [0, 11, 12, 13, 22]


@pytest.fixture(scope="module")
def dequantized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded GGUF loaded by transformers (dequantized to float32) and saved."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from scaffold.models.local import resolve_model_path

    gguf = resolve_model_path(DEFAULT_READER)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model: Any = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                      dtype=torch.float32)
    model.hf_quantizer = None  # the weights are plain float32 now: let them be saved
    del model.config.quantization_config
    out = tmp_path_factory.mktemp("qwen-from-gguf")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_layer_i_is_llama_cpp_l_out_i(dequantized: Path) -> None:
    hf: Any = HFReader(f"hf/{dequantized}")
    llama: Any = open_reader(DEFAULT_READER)
    assert hf.identity.n_layers == llama.identity.n_layers == 24
    assert hf.identity.hidden == llama.identity.hidden
    # the same tokens: template, assistant opening and the reply
    assert hf.prompt_tokens(PIRATE) == llama.prompt_tokens(PIRATE)
    assert hf.text_tokens(REPLY) == llama.text_tokens(REPLY)
    ours, theirs = hf.read(PIRATE, REPLY, LAYERS), llama.read(PIRATE, REPLY, LAYERS)
    assert (ours.tokens, ours.evaluated) == (theirs.tokens, theirs.evaluated)
    for i in LAYERS:
        scale = np.linalg.norm(theirs.means[i])
        same = np.linalg.norm(ours.means[i] - theirs.means[i]) / scale
        # llama.cpp multiplies with 8-bit activations: about 1% apart, not exactly equal
        assert same < 0.03, (i, same)
        for j in LAYERS:
            if j != i:  # any other block's output is much further away
                assert np.linalg.norm(ours.means[j] - theirs.means[i]) / scale > 5 * same
