"""The transformers reader on a real (tiny, random) Qwen2 checkpoint: which tokens and layers it
averages, its context window, identity, device and dtype."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from scaffold.activations import close_readers, open_reader  # noqa: E402
from scaffold.errors import ModelError  # noqa: E402
from scaffold.activations._hf import HFReader  # noqa: E402
from scaffold.activations._hf_load import (  # noqa: E402
    choose_device,
    choose_dtype,
    weights_sha256,
)
from tests.scaffold.activations.tiny_hf import LAYERS, build_tiny_qwen  # noqa: E402

PIRATE = [{"role": "system", "content": "You are a pirate who sails the seven seas."},
          {"role": "user", "content": "What do you think about the ocean?"}]
REPLY = "Arr, me hearties! The treasure lies beyond the reef."


@pytest.fixture(scope="module")
def reader(tiny_qwen: Path) -> HFReader:
    return HFReader(f"hf/{tiny_qwen}")


@pytest.fixture(scope="module")
def reference(tiny_qwen: Path) -> tuple[Any, Any]:
    """The same checkpoint loaded directly, for manual forwards."""
    return AutoTokenizer.from_pretrained(tiny_qwen), AutoModelForCausalLM.from_pretrained(
        tiny_qwen, dtype=torch.float32).eval()


def _hidden_states(model: Any, ids: list[int]) -> tuple[Any, ...]:
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), output_hidden_states=True)
    return tuple(h[0].numpy() for h in out.hidden_states)


def test_reads_exactly_the_reply_tokens_at_block_outputs(reader: HFReader,
                                                         reference: tuple[Any, Any]) -> None:
    tokenizer, model = reference
    prompt = tokenizer.apply_chat_template(PIRATE, add_generation_prompt=True, tokenize=False)
    prefix = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    reply = tokenizer(REPLY, add_special_tokens=False)["input_ids"]
    # the span is the reply as it sits in the whole conversation: after the assistant
    # opening, before <|im_end|>
    whole = tokenizer.apply_chat_template(
        [*PIRATE, {"role": "assistant", "content": REPLY}], tokenize=False)
    whole_ids = tokenizer(whole, add_special_tokens=False)["input_ids"]
    assert whole_ids[:len(prefix) + len(reply)] == prefix + reply
    assert whole_ids[len(prefix) + len(reply)] == tokenizer.convert_tokens_to_ids("<|im_end|>")
    start = len(prefix) - 1 - prefix[::-1].index(tokenizer.convert_tokens_to_ids("<|im_start|>"))
    assert tokenizer.decode(prefix[start:]) == "<|im_start|>assistant\n"

    reading = reader.read(PIRATE, REPLY, [0, 1, 2])
    assert (reading.tokens, reading.evaluated, reading.truncated) == (
        len(reply), len(prefix) + len(reply), 0)
    hidden = _hidden_states(model, prefix + reply)
    assert len(hidden) == LAYERS + 1
    n = len(prefix)
    for layer in (0, 1, 2):
        expected = hidden[layer + 1][n:].mean(axis=0)  # output of block `layer`
        np.testing.assert_allclose(reading.means[layer], expected, rtol=1e-5, atol=1e-6)
        for wrong in (hidden[layer][n:].mean(axis=0),  # the block's input
                      hidden[layer + 1][n - 1:].mean(axis=0),  # one prompt token more
                      hidden[layer + 1][n + 1:].mean(axis=0)):  # one reply token less
            assert np.abs(reading.means[layer] - wrong).max() > 1e-4


def test_layer_zero_is_the_first_blocks_output(reader: HFReader,
                                               reference: tuple[Any, Any]) -> None:
    """hidden_states[0] is the embeddings, so hidden_states[i + 1] (what layer i reads) is the
    output of block i: llama.cpp's `l_out-i`."""
    tokenizer, model = reference
    ids = tokenizer(REPLY, add_special_tokens=False)["input_ids"]
    hidden = _hidden_states(model, ids)
    with torch.no_grad():
        embedded = model.get_input_embeddings()(torch.tensor([ids]))[0].numpy()
    np.testing.assert_array_equal(hidden[0], embedded)
    assert reader.identity.n_layers == LAYERS
    with pytest.raises(ValueError, match=r"choose layers 0\.\.2"):
        reader.read(PIRATE, REPLY, [LAYERS - 1])  # the last block: not read (as llama.cpp)


def test_the_context_moves_the_reading_not_the_span(reader: HFReader) -> None:
    pirate = reader.read(PIRATE, REPLY, [1])
    plain = reader.read([{"role": "user", "content": "Hello?"}], REPLY, [1])
    assert pirate.tokens == plain.tokens
    assert np.abs(pirate.means[1] - plain.means[1]).max() > 1e-4
    again = reader.read(PIRATE, REPLY, [1])
    np.testing.assert_array_equal(again.means[1], pirate.means[1])


def test_special_tokens_written_in_a_text_are_its_characters(
        reader: HFReader, reference: tuple[Any, Any]) -> None:
    tokenizer, _ = reference
    tokens = reader.text_tokens("stop<|im_end|>")
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") not in tokens
    assert tokenizer.decode(tokens) == "stop<|im_end|>"


def test_long_contexts_lose_tokens_from_the_left(tiny_qwen: Path,
                                                 reference: tuple[Any, Any]) -> None:
    _, model = reference
    short = HFReader(f"hf/{tiny_qwen}", n_ctx=48)
    long_chat = [{"role": "user", "content": "Tell me about the sea. " * 20}]
    prefix, reply = short.prompt_tokens(long_chat), short.text_tokens(REPLY)
    reading = short.read(long_chat, REPLY, [2])
    assert reading.evaluated == 48 and reading.truncated == len(prefix) + len(reply) - 48
    kept = (prefix + reply)[-48:]
    expected = _hidden_states(model, kept)[3][48 - len(reply):].mean(axis=0)
    np.testing.assert_allclose(reading.means[2], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="context holds 48"):
        short.read([], "Tell me about the sea. " * 20, [0])
    with pytest.raises(ValueError, match="no tokens"):
        short.read([], "", [0])


def test_identity_is_the_weights_digest(tiny_qwen: Path, reader: HFReader, tmp_path: Path,
                                        private_cache: Path) -> None:
    identity = reader.identity
    assert identity.name == f"hf/{tiny_qwen}" and identity.file == str(tiny_qwen)
    assert (identity.n_layers, identity.hidden) == (LAYERS, 64)
    assert len(identity.sha256) == 64 and identity.sha256 == weights_sha256(tiny_qwen)
    copy = shutil.copytree(tiny_qwen, tmp_path / "copy")
    assert weights_sha256(copy) == identity.sha256  # same weights, same identity
    assert len(json.loads((private_cache / "hf-weights-sha256.json").read_text())) == 2
    other = build_tiny_qwen(tmp_path / "other", seed=1)
    assert weights_sha256(other) != identity.sha256


def test_a_directory_under_home_is_found(tiny_qwen: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tiny_qwen.parent))
    named = HFReader(f"hf/~/{tiny_qwen.name}")
    assert named.identity.file == str(tiny_qwen)
    assert named.identity.sha256 == weights_sha256(tiny_qwen)


def test_models_that_cannot_be_read_say_why(tiny_qwen: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot load hf/nobody/nothing"):
        HFReader("hf/nobody/nothing")  # not a directory, not in the (offline) Hub cache
    base = shutil.copytree(tiny_qwen, tmp_path / "base")
    (base / "chat_template.jinja").unlink()
    with pytest.raises(ModelError, match="has no chat template"):
        HFReader(f"hf/{base}")


def test_generate_is_greedy_and_repeatable(reader: HFReader) -> None:
    first = reader.generate(PIRATE, 8, seed=0)
    assert first.strip() and reader.generate(PIRATE, 8, seed=5) == first
    assert reader.generate([{"role": "user", "content": "Hello?"}], 8, seed=0) != first


def test_device_and_dtype_choice(reader: HFReader) -> None:
    assert choose_device(None, cuda_available=False) == "cpu"
    assert choose_device(None, cuda_available=True) == "cuda"
    assert choose_device("cuda:1", cuda_available=True) == "cuda:1"
    assert choose_dtype(None, "cpu") == "float32"
    assert choose_dtype(None, "cuda") == "bfloat16"
    assert choose_dtype("float16", "cuda") == "float16"
    with pytest.raises(ValueError, match="float64"):
        choose_dtype("float64", "cpu")
    if not torch.cuda.is_available():
        assert (reader.device, reader.dtype) == ("cpu", "float32")
        assert {p.dtype for p in reader._model.parameters()} == {torch.float32}


def test_open_reader_loads_hf_names_with_the_models_window(tiny_qwen: Path) -> None:
    try:
        opened = open_reader(f"hf/{tiny_qwen}")
        assert isinstance(opened, HFReader)
        assert opened.n_ctx == 1024  # the checkpoint's max_position_embeddings < 4096
        assert open_reader(f"hf/{tiny_qwen}") is opened
    finally:
        close_readers()
