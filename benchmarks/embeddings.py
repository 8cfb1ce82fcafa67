"""Throughput of MiniLMEmbedder against a raw onnxruntime + tokenizers loop doing the same work.

Run: .venv/bin/python benchmarks/embeddings.py [--sentences 2000] [--rounds 3]
The last line is ``ratio: X`` (embedder sentences/s over raw sentences/s).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memory.embeddings import (  # noqa: E402
    BATCH_SIZE,
    MAX_TOKENS,
    MiniLMEmbedder,
    _default_threads,
    locate_model_files,
)

WORDS = (
    "the a persona memory agent remembers its name and goals while the conversation drifts "
    "president kennedy speech moon rocket policy summary window context budget tool call "
    "result error retry mountain river city market price report weather morning evening "
    "quickly slowly carefully never always because although however therefore"
).split()


def varied_sentences(count: int, seed: int = 0) -> list[str]:
    """Seeded sentences from 3 to 150 words, mostly short as memory entries and turns are."""
    rng = random.Random(seed)
    choices = (3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 60, 150)
    lengths = [rng.choice(choices) for _ in range(count)]
    return [" ".join(rng.choices(WORDS, k=n)).capitalize() + "." for n in lengths]


def raw_embedder(threads: int) -> tuple[Callable[[list[str]], NDArray[np.float32]], Callable]:
    """The baseline: a session and tokenizer set up by hand, padding to each batch's longest."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    files = locate_model_files()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(files.model), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(files.tokenizer))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # default strategy: batch longest

    def embed_batch(texts: list[str]) -> NDArray[np.float32]:
        encodings = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def token_count(text: str) -> int:
        return len(tokenizer.encode(text).ids)

    return embed_batch, token_count


def timed(work: Callable[[], NDArray[np.float32]]) -> tuple[float, NDArray[np.float32]]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    threads = _default_threads()
    sentences = varied_sentences(args.sentences)
    embedder = MiniLMEmbedder(threads=threads)
    raw_batch, token_count = raw_embedder(threads)
    # The same batches for both: sorted by token length, as the embedder groups them.
    ordered = sorted(sentences, key=token_count)
    batches = [ordered[i : i + BATCH_SIZE] for i in range(0, len(ordered), BATCH_SIZE)]

    def run_embedder() -> NDArray[np.float32]:
        return embedder.embed(sentences)

    def run_raw() -> NDArray[np.float32]:
        return np.vstack([raw_batch(batch) for batch in batches])

    run_embedder(), raw_batch(batches[0])  # load and warm both
    best_embedder = best_raw = float("inf")
    for _ in range(args.rounds):  # interleaved, so drift in machine load hits both
        seconds, ours = timed(run_embedder)
        best_embedder = min(best_embedder, seconds)
        seconds, theirs = timed(run_raw)
        best_raw = min(best_raw, seconds)

    by_text = dict(zip(sentences, ours))
    drift = float(np.abs(np.vstack([by_text[t] for t in ordered]) - theirs).max())
    lengths = [token_count(t) for t in sentences]
    print(f"sentences: {len(sentences)} ({min(lengths)}-{max(lengths)} tokens), "
          f"batch {BATCH_SIZE}, threads {threads}, best of {args.rounds}")
    print(f"max |embedder - raw|: {drift:.2e}")
    print(f"embedder: {len(sentences) / best_embedder:.0f} sentences/s")
    print(f"raw:      {len(sentences) / best_raw:.0f} sentences/s")
    print(f"ratio: {best_raw / best_embedder:.3f}")


if __name__ == "__main__":
    main()
