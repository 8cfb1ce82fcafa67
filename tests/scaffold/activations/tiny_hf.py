"""A tiny randomly initialised Qwen2 model and byte-level BPE tokenizer, saved for `hf/<dir>`."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
"""Qwen2.5's ChatML layout (a default system prompt when none is given)."""

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = [
    "You are a helpful assistant.", "You are a pirate who sails the seven seas.",
    "Hello there, how are you today?", "I am an AI model made to answer questions.",
    "What do you think about the ocean and the ships on it?",
    "The captain told the crew to raise the sails at dawn.",
    "Please describe your favourite book, and why you like it.",
    "A reply is a sequence of tokens; the prompt comes before it.",
    "Arr, me hearties! The treasure lies beyond the reef.",
    "Numbers: 1, 2, 3, 42 and 1000. Punctuation: ! ? ; : - ( ).",
]
HIDDEN = 64
LAYERS = 4


def build_tiny_qwen(directory: Path, seed: int = 0) -> Path:
    """Train a small byte-level BPE tokenizer on CORPUS, initialise a 4-block Qwen2 model
    with a fixed torch seed, and save both (with a ChatML chat template) to `directory`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(CORPUS, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=2 * HIDDEN,
        num_hidden_layers=LAYERS, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=1024, bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False)
    model = Qwen2ForCausalLM(config)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
