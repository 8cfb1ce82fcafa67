"""The activation scorer: projections in its details, contexts read, costs, and errors."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

import scaffold.trackers.activation as activation_module
from scaffold.activations import ActivationsUnavailable, open_reader, save_axis
from scaffold.activations._hf import block_output, decoder_layers, span_mean
from scaffold.activations.build import AssistantOptions, build_assistant_axis
from scaffold.activations.details import activation_cost, activation_details
from scaffold.cli import app
from scaffold.config import ActivationSpec, ProbeSpec
from scaffold.rescore import Rescorer
from scaffold.trackers.activation import ActivationScorer, reading_context
from scaffold.trackers.replies import NO_QUESTION
from scaffold.trackers.standalone import load_persona
from tests.helpers import events_of, make_spec, run_spec
from tests.scaffold.activation_fakes import FakeReader, role_dir

ROOT = Path(__file__).resolve().parents[2]
PERSONA = load_persona(ROOT / "examples/personas/jfk.yaml")
WHO = ProbeSpec(id="who", question="Who are you?")
CHEAP_PROBES = {"every": 3, "samples": 1, "temperature": 0.0, "scorers": ["break"]}


def _scorer(tmp_path: Path) -> tuple[ActivationScorer, FakeReader]:
    reader = FakeReader()
    opts = AssistantOptions(roles=3, questions=3, held_out_roles=0, layers=(1, 2))
    axis = build_assistant_axis(reader, role_dir(tmp_path), opts)
    return ActivationScorer(reader=reader, axes=(axis, {})), reader


def test_scores_carry_projection_z_and_value(tmp_path: Path) -> None:
    scorer, reader = _scorer(tmp_path)
    ai = asyncio.run(scorer.score("I am an AI language model.", WHO, PERSONA))
    jfk = asyncio.run(scorer.score("I am John F. Kennedy.", WHO, PERSONA))
    assert ai.scorer == "activation" and ai.value is not None and jfk.value is not None
    assert ai.value < 0.2 < 0.8 < jfk.value
    d_ai, d_jfk = activation_details(ai.raw), activation_details(jfk.raw)
    assert d_ai is not None and d_jfk is not None
    assert d_ai.axis == "assistant" and d_ai.layer == 2 and d_ai.value == ai.value
    assert d_ai.projection > d_jfk.projection and d_ai.z > d_jfk.z
    assert math.isfinite(d_ai.z) and d_ai.persona is None and d_ai.assistant is not None
    assert d_ai.context == "persona prompt" and d_ai.evaluated > 0 and d_ai.seconds >= 0
    assert "assistant axis, layer 2" in ai.explanation
    # read after the persona's identity and the question (no context was given)
    messages, text = reader.reads[-2]
    assert messages == [{"role": "system", "content": PERSONA.identity},
                        {"role": "user", "content": "Who are you?"}]
    assert text == "I am an AI language model."


def test_empty_text_is_unscored(tmp_path: Path) -> None:
    scorer, reader = _scorer(tmp_path)
    result = asyncio.run(scorer.score("  ", WHO, PERSONA))
    assert result.value is None and result.explanation == "empty text"
    assert activation_details(result.raw) is None


def test_reading_context() -> None:
    context = [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]
    assert reading_context(PERSONA, WHO, context) == (context, "model input")
    memory, kind = reading_context(PERSONA, None, None)
    assert kind == "persona prompt" and [m["role"] for m in memory] == ["system"]
    unasked = ProbeSpec(id="reply", question=NO_QUESTION)
    assert [m["role"] for m in reading_context(PERSONA, unasked, None)[0]] == ["system"]


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku",
                                   "scripted/default"])
def test_models_without_activations_say_so(model: str) -> None:
    with pytest.raises(ActivationsUnavailable, match=f"activations not available for model "
                                                     f"{model}"):
        open_reader(model)
    with pytest.raises(ValidationError, match="activations cannot be read"):
        ActivationSpec(reader=model)  # an experiment file cannot choose one as the reader


def test_no_axis_for_the_reader_is_an_error() -> None:
    scorer = ActivationScorer(reader=FakeReader(), axes=(None, {}))
    with pytest.raises(ActivationsUnavailable, match="no axis for local/fake.gguf"):
        scorer.measure("text", WHO, PERSONA)


def test_cost_per_step(tmp_path: Path) -> None:
    scorer, _ = _scorer(tmp_path)
    raw = asyncio.run(scorer.score("I am an AI.", WHO, PERSONA)).raw

    class Event:
        def __init__(self, step: int, name: str = "activation") -> None:
            self.scorer, self.raw, self.agent_id, self.step = name, raw, "a", step

    details = activation_details(raw)
    assert details is not None
    cost = activation_cost([Event(1), Event(1), Event(2), Event(2, "break")])
    assert cost[("a", 1)] == (2 * details.evaluated, pytest.approx(2 * details.seconds))
    assert cost[("a", 2)][0] == details.evaluated


def _with_fake_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                      ) -> tuple[FakeReader, Path]:
    """The registry's activation scorer reads with a FakeReader; an axis file of it."""
    reader = FakeReader()
    axis = build_assistant_axis(reader, role_dir(tmp_path),
                                AssistantOptions(roles=3, questions=3, held_out_roles=0,
                                                 layers=(1, 2)))
    save_axis(axis, tmp_path / "axes" / "assistant.npz")
    monkeypatch.setattr(activation_module, "open_reader", lambda model: reader)
    return reader, tmp_path / "axes" / "assistant.npz"


def test_live_run_scores_replies_and_probes_in_their_context(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reader, axis = _with_fake_reader(tmp_path, monkeypatch)
    spec = make_spec(tmp_path, steps=6, probes={"every": 3, "samples": 1, "temperature": 0.0,
                                                "scorers": ["break", "activation"]},
                     activation={"axes": [str(axis)]})
    run_dir = run_spec(spec)
    scores = [e for e in events_of(run_dir, "score") if e.scorer == "activation"]
    assert {e.target for e in scores} == {"message", "probe", "memory"}
    for event in scores:
        details = activation_details(event.raw)
        assert details is not None and event.value == details.value
        assert details.context == ("persona prompt" if event.target == "memory"
                                   else "model input")
    probe_reads = [m for m, text in reader.reads if m and m[-1].get("content") == "Who are you?"]
    assert probe_reads and probe_reads[0][0]["role"] == "system"
    assert activation_cost(events_of(run_dir))  # cost per (agent, step)


def test_rescore_reads_the_recorded_contexts(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=6, probes=CHEAP_PROBES))
    reader, axis = _with_fake_reader(tmp_path, monkeypatch)
    built = len(reader.reads)
    settings = {"axes": [str(axis)]}
    added = asyncio.run(Rescorer(run_dir, ["activation"], activation=settings).run())
    scores = [e for e in events_of(run_dir, "score") if e.rescore and e.scorer == "activation"]
    assert added == len(scores) > 0
    details = [activation_details(e.raw) for e in scores]
    kinds = {(e.target, d.context if d else None) for e, d in zip(scores, details)}
    assert kinds == {("probe", "model input"), ("message", "model input"),
                     ("memory", "persona prompt")}
    assert len(reader.reads) - built == len(scores)


def test_rescore_with_an_api_reader_is_refused(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=3, probes=CHEAP_PROBES))
    result = CliRunner().invoke(app, ["rescore", str(run_dir), "--scorer", "activation",
                                      "--reader", "openai/gpt-4o-mini"])
    assert result.exit_code == 2, result.output
    assert "activation.reader: activations cannot be read from 'openai/gpt-4o-mini'" in \
        result.output
    assert not [e for e in events_of(run_dir, "score") if e.scorer == "activation"]


def test_hf_backend_pure_parts() -> None:
    hidden = np.arange(12, dtype=np.float32).reshape(4, 3)
    assert span_mean(hidden, 2).tolist() == [7.5, 8.5, 9.5]
    with pytest.raises(ValueError, match="no tokens"):
        span_mean(hidden, 4)
    assert block_output(("h", "cache")) == "h" and block_output("h") == "h"

    class Inner:
        layers = ["b0", "b1"]

    class Model:
        model = Inner()

    assert decoder_layers(Model()) == ["b0", "b1"]
    with pytest.raises(ActivationsUnavailable, match="decoder blocks"):
        decoder_layers(object())
