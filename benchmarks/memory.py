"""Vector memory: retrieval latency through VectorMemory against raw Chroma, and embedding speed.

Run: .venv/bin/python benchmarks/memory.py [--quick] [--sizes 10000,100000] [--queries 200]

Retrieval: one collection grows to each size; the same queries go through the backend's
retrieval path (`VectorMemory.search`: the agent/run filter, a window of excluded ids, result
shaping) and through a raw `collection.query(query_texts=...)` with the same filter and k, and,
for reference, a raw `query(query_embeddings=...)` that skips embedding the query. Setup embeds a
pool of memory-like texts with the embedder in big batches and adds precomputed embeddings;
beyond the pool, memories are two pool texts joined, their embedding the normalised sum (real
embedding of 100k texts takes far longer than the benchmark should on a small machine).
Embedding: MiniLMEmbedder against raw onnxruntime on the same batches (from embeddings.py).
The last line is ``ratio: X`` (backend p50 / raw query_texts p50 at the largest size).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this file is named memory.py: the package must win

from memory import BackendContext  # noqa: E402
from memory.embeddings import BATCH_SIZE, MiniLMEmbedder, _default_threads  # noqa: E402
from memory.vector import VectorMemory  # noqa: E402

TOP_K = 4
WINDOW = 8
"""Ids excluded per query, as a context window of 8 messages would be."""
TOPICS = ("the harbor", "the moon program", "a sailing trip", "the budget", "civil rights",
          "the press conference", "Berlin", "the tax bill", "my brother", "the navy")


def load_embeddings_benchmark() -> ModuleType:
    """benchmarks/embeddings.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_embeddings",
                                                  Path(__file__).with_name("embeddings.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def memory_texts(count: int, words: list[str], seed: int = 0) -> list[str]:
    """Seeded turn-like texts of 8 to 30 words, each naming a topic."""
    rng = random.Random(seed)
    return [f"About {rng.choice(TOPICS)}: " + " ".join(rng.choices(words, k=rng.randint(8, 30)))
            + "." for _ in range(count)]


def queries(count: int, words: list[str]) -> list[str]:
    """Seeded questions, unlike any stored text."""
    rng = random.Random(1)
    return [f"What did we say about {rng.choice(TOPICS)} and "
            + " ".join(rng.choices(words, k=rng.randint(3, 10))) + "?" for _ in range(count)]


def synthesise(pool: list[str], vectors: NDArray[np.float32], start: int, stop: int
               ) -> tuple[list[str], NDArray[np.float32]]:
    """Memories start..stop beyond the pool: two pool texts joined, their vectors summed."""
    rng = np.random.default_rng(start)
    pairs = rng.integers(0, len(pool), size=(stop - start, 2))
    mixed = vectors[pairs[:, 0]] + vectors[pairs[:, 1]]
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    return [f"{pool[a]} {pool[b]}" for a, b in pairs], mixed.astype(np.float32)


def fill(backend: VectorMemory, pool: list[str], vectors: NDArray[np.float32], start: int,
         stop: int) -> None:
    """Add memories start..stop with precomputed embeddings and real turn metadata."""
    collection = backend.collection
    batch = 4000  # under Chroma's maximum batch size
    for lo in range(start, stop, batch):
        hi = min(stop, lo + batch)
        if hi <= len(pool):
            texts, embeddings = pool[lo:hi], vectors[lo:hi]
        else:
            texts, embeddings = synthesise(pool, vectors, max(lo, len(pool)), hi)
            if lo < len(pool):
                texts, embeddings = pool[lo:] + texts, np.vstack([vectors[lo:], embeddings])
        collection.add(
            ids=[backend.doc_id(f"m{i}") for i in range(lo, hi)], documents=texts,
            embeddings=embeddings,
            metadatas=[{"run": backend.run_id, "ns": backend.namespace, "agent": backend.agent_id,
                        "step": i // 2,
                        "author": "user" if i % 2 == 0 else backend.agent_id, "kind": "turn",
                        "role": "user" if i % 2 == 0 else "assistant", "message_id": f"m{i}"}
                       for i in range(lo, hi)])


def latencies(calls: dict[str, Callable[[str], Any]], texts: list[str]) -> dict[str, list[float]]:
    """Seconds per call, each query run through every path in turn so drift hits all alike."""
    for call in calls.values():  # warm caches and the query embedder
        for text in texts[:5]:
            call(text)
    times: dict[str, list[float]] = {name: [] for name in calls}
    for text in texts:
        for name, call in calls.items():
            start = time.perf_counter()
            call(text)
            times[name].append(time.perf_counter() - start)
    return times


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) in milliseconds."""
    return float(np.percentile(np.asarray(values) * 1000, q))


def retrieval(backend: VectorMemory, embedder: MiniLMEmbedder, texts: list[str]
              ) -> dict[str, list[float]]:
    """Latencies of the backend's search and of raw Chroma queries on the same collection
    (with the backend's filter: none for its own per-agent collection)."""
    collection, where = backend.collection, backend.where
    exclude = {f"m{i}" for i in range(WINDOW)}
    vectors = {t: v.tolist() for t, v in zip(texts, embedder.embed(texts))}
    return latencies({
        "backend search": lambda q: backend.search(q, exclude),
        "raw query_texts": lambda q: collection.query(
            query_texts=[q], n_results=TOP_K, where=where,
            include=["documents", "metadatas", "distances"]),
        "raw query_embeddings": lambda q: collection.query(
            query_embeddings=[vectors[q]], n_results=TOP_K, where=where,
            include=["documents", "metadatas", "distances"]),
    }, texts)


def embedding_ratio(bench: ModuleType, sentences: list[str], rounds: int) -> float:
    """Print embedder and raw onnxruntime throughput on the same batches; returns the ratio."""
    threads = _default_threads()
    embedder = MiniLMEmbedder(threads=threads)
    raw_batch, token_count = bench.raw_embedder(threads)
    ordered = sorted(sentences, key=token_count)
    batches = [ordered[i: i + BATCH_SIZE] for i in range(0, len(ordered), BATCH_SIZE)]
    embedder.embed(sentences[:BATCH_SIZE]), raw_batch(batches[0])
    best_ours = best_raw = float("inf")
    for _ in range(rounds):
        best_ours = min(best_ours, bench.timed(lambda: embedder.embed(sentences))[0])
        best_raw = min(best_raw, bench.timed(lambda: np.vstack([raw_batch(b) for b in batches]))[0])
    print(f"embedding {len(sentences)} memory texts, batch {BATCH_SIZE}, threads {threads}, "
          f"best of {rounds}")
    print(f"  embedder: {len(sentences) / best_ours:.0f} sentences/s")
    print(f"  raw:      {len(sentences) / best_raw:.0f} sentences/s")
    return best_raw / best_ours


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2k and 10k memories, small pool")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes (default 10k,100k)")
    parser.add_argument("--pool", type=int, default=None,
                        help="memories embedded for real (default 3000; 1000 with --quick)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embed-sentences", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    args.sizes = [int(s) for s in (args.sizes or ("2000,10000" if args.quick else
                                                  "10000,100000")).split(",")]
    args.pool = args.pool or (1000 if args.quick else 3000)
    return args


def report(backend: VectorMemory, shared: VectorMemory, embedder: MiniLMEmbedder,
           texts: list[str]) -> float:
    """Print latencies at the current size; returns backend p50 / raw query_texts p50."""
    times = retrieval(backend, embedder, texts)
    few = texts[: max(10, len(texts) // 10)]  # filtered queries scan: fewer of them
    times["named collection search"] = latencies(
        {"shared": lambda q: shared.search(q, set())}, few)["shared"]
    for name, values in times.items():
        print(f"  {name:26s} p50 {percentile(values, 50):8.2f} ms   "
              f"p95 {percentile(values, 95):8.2f} ms   ({len(values)} queries)")
    return statistics.median(times["backend search"]) / statistics.median(times["raw query_texts"])


def main() -> None:
    args = parse_args()
    bench = load_embeddings_benchmark()
    words = list(bench.WORDS)
    ratio = embedding_ratio(bench, memory_texts(args.embed_sentences, words, seed=2), args.rounds)
    print(f"embedding ratio: {ratio:.3f}")

    embedder = MiniLMEmbedder(batch_size=64)
    pool = memory_texts(min(args.pool, max(args.sizes)), words)
    start = time.perf_counter()
    vectors = embedder.embed(pool)
    print(f"pool: {len(pool)} texts embedded in {time.perf_counter() - start:.1f} s")
    texts = queries(args.queries, words)
    with tempfile.TemporaryDirectory(prefix="scaffold-bench-") as tmp:
        context = BackendContext(run_dir=Path(tmp), run_id="bench", agent_id="agent")
        backend = VectorMemory(context, top_k=TOP_K)
        # The same collection opened by name, as a shared one is: queries filter by agent+run.
        shared = VectorMemory(context, top_k=TOP_K, collection=backend.collection_name)
        stored = 0
        for size in sorted(args.sizes):
            start = time.perf_counter()
            fill(backend, pool, vectors, stored, size)
            stored = size
            print(f"memories: {size} (added in {time.perf_counter() - start:.1f} s), "
                  f"top_k {TOP_K}, {WINDOW} window ids excluded")
            ratio = report(backend, shared, embedder, texts)
            print(f"  ratio at {size}: {ratio:.3f}")
        shared.close()
        backend.close()
    print(f"ratio: {ratio:.3f}")


if __name__ == "__main__":
    main()
