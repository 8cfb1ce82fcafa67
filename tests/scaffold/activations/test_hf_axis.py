"""`scaffold axis build/show`, the activation scorer and a run's `activation` settings on an hf/
model (a tiny random Qwen2 checkpoint)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("transformers")

from scaffold.activations import close_readers, load_axis, open_reader  # noqa: E402
from scaffold.activations._hf_load import weights_sha256  # noqa: E402
from scaffold.activations.details import activation_details  # noqa: E402
from scaffold.cli import app  # noqa: E402
from scaffold.config import ActivationSpec, ProbeSpec  # noqa: E402
from scaffold.recorder import RunRecorder  # noqa: E402
from scaffold.trackers.activation import ActivationScorer  # noqa: E402
from scaffold.trackers.standalone import load_persona  # noqa: E402
from tests.helpers import events_of, make_spec, run_spec  # noqa: E402
from tests.scaffold.activation_fakes import role_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
NOVA = load_persona(ROOT / "examples/personas/nova.yaml")
WHO = ProbeSpec(id="who", question="Who are you?")
SMALL = ["--layers", "0,1,2", "--n-roles", "2", "--questions", "2", "--held-out-roles", "1",
         "--held-out-questions", "1", "--max-tokens", "6"]
PROBES = {"every": 3, "samples": 1, "temperature": 0.0, "scorers": ["break", "activation"]}


@pytest.fixture(scope="module")
def built(tiny_qwen: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An assistant axis built on the tiny model by `scaffold axis build`."""
    tmp = tmp_path_factory.mktemp("hf-axis")
    out = tmp / "assistant.npz"
    result = CliRunner().invoke(app, ["axis", "build", "--model", f"hf/{tiny_qwen}", "--roles",
                                      str(role_dir(tmp)), "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    yield out
    close_readers()


def test_axis_build_and_show(tiny_qwen: Path, built: Path) -> None:
    axis = load_axis(built)
    meta = axis.meta
    assert meta.kind == "assistant" and meta.model.name == f"hf/{tiny_qwen}"
    assert meta.model.sha256 == weights_sha256(tiny_qwen) and meta.model.file == str(tiny_qwen)
    assert (meta.model.n_layers, meta.model.hidden) == (4, 64)
    assert meta.layers == [0, 1, 2] and meta.layer in meta.layers
    assert meta.counts == {"default": 4, "other": 4}  # no empty greedy reply was dropped
    assert meta.settings.n_ctx == 1024 and meta.settings.max_tokens == 6
    assert all(abs(np.linalg.norm(axis.vectors[layer]) - 1) < 1e-3 for layer in meta.layers)

    shown = CliRunner().invoke(app, ["axis", "show", str(built)])
    assert shown.exit_code == 0, shown.output
    assert f"on hf/{tiny_qwen} " in shown.output and meta.model.sha256[:12] in shown.output


def test_the_scorer_projects_a_direct_read(tiny_qwen: Path, built: Path) -> None:
    name, axis = f"hf/{tiny_qwen}", load_axis(built)
    scorer = ActivationScorer(ActivationSpec(reader=name, axes=[str(built)]))
    text = "I am an AI model made to answer questions."
    score = asyncio.run(scorer.score(text, WHO, NOVA))
    details = activation_details(score.raw)
    assert details is not None and score.value is not None, score.explanation
    assert details.reader == name and details.reader_sha256 == axis.meta.model.sha256
    assert details.axis == "assistant" and details.layer == axis.meta.layer
    # the score is the projection of a read after the persona prompt and the question
    reading = open_reader(name).read(
        [{"role": "system", "content": NOVA.identity}, {"role": "user", "content": WHO.question}],
        text, [axis.meta.layer])
    expected = axis.project(reading.means[axis.meta.layer])
    assert details.projection == pytest.approx(expected.projection, abs=1e-6)
    assert score.value == pytest.approx(expected.value, abs=1e-6)
    assert details.tokens == reading.tokens


def test_a_run_reads_with_the_hf_reader_its_experiment_names(
        tiny_qwen: Path, built: Path, tmp_path: Path) -> None:
    name = f"hf/{tiny_qwen}"
    run_dir = run_spec(make_spec(tmp_path, steps=3, probes=PROBES,
                                 activation={"reader": name, "axes": [str(built)]}))
    scores = [e for e in events_of(run_dir, "score") if e.scorer == "activation"]
    assert scores and all(e.value is not None for e in scores), scores[0].explanation
    details = [activation_details(e.raw) for e in scores]
    assert all(d is not None and d.reader == name and d.tokens > 0 for d in details)
    manifest = RunRecorder(run_dir).read_manifest()
    assert manifest is not None
    record = manifest.scorers["activation"]
    assert record["reader"] == name and record["reader_sha256"] == weights_sha256(tiny_qwen)
    assert [f["path"] for f in record["axes"]] == [str(built)]
