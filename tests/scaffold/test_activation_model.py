"""The embedded model's activations, read through llama.cpp's evaluation callback (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from scaffold.activations import open_reader
from scaffold.activations._build import AxisRecipe, Collected, make_axis
from scaffold.activations._plans import Prompt
from scaffold.activations.axis import AxisPrompts, BuildSettings

pytestmark = pytest.mark.slow

PIRATE = "You are Captain Blackbeard, a pirate of the Caribbean in 1718."
ASSISTANT = ["I am an AI language model created to help answer your questions.",
             "As an AI assistant, I don't have personal experiences, but I can help.",
             "I'm a large language model. How can I assist you today?",
             "I am Qwen, an AI assistant. I can help you with coding and writing."]
PIRATES = ["Arr, I be Captain Blackbeard, scourge of the Caribbean seas!",
           "Ahoy! Me ship the Queen Anne's Revenge be the finest vessel afloat.",
           "Shiver me timbers, I've buried me gold where no landlubber will find it.",
           "I sail under the black flag, and the Royal Navy fears my name."]
QUESTION = "Who are you?"


def test_capture_reads_finite_vectors_of_the_hidden_size() -> None:
    reader = open_reader()
    messages = [{"role": "user", "content": QUESTION}]
    first = reader.read(messages, ASSISTANT[0], [6, 12])
    assert set(first.means) == {6, 12} and first.tokens > 5
    for vector in first.means.values():
        assert vector.shape == (reader.identity.hidden,) == (896,)
        assert np.isfinite(vector).all() and float(np.linalg.norm(vector)) > 0
    # the same context read from scratch gives the same numbers
    forget = getattr(reader, "forget")
    forget()
    again = reader.read(messages, ASSISTANT[0], [6, 12])
    assert all(np.array_equal(first.means[k], again.means[k]) for k in first.means)
    # only the text is evaluated when its context is cached, and it reads nearly the same
    cached = reader.read(messages, ASSISTANT[0], [6, 12])
    assert cached.evaluated == cached.tokens < again.evaluated
    assert all(np.allclose(first.means[k], cached.means[k], atol=0.1) for k in first.means)
    with pytest.raises(ValueError, match="out of range"):
        reader.read(messages, "hi", [reader.identity.n_layers - 1])


def test_a_tiny_axis_separates_assistant_from_pirate_texts() -> None:
    reader = open_reader()
    default, pirate = Prompt("default", "default", None, QUESTION), \
        Prompt("other", "pirate", PIRATE, QUESTION)
    prompts = [default] * 3 + [pirate] * 3
    texts = ASSISTANT[:3] + PIRATES[:3]
    rows = [reader.read(p.messages(), t, [12]).means[12] for p, t in zip(prompts, texts)]
    collected = Collected(prompts, texts, {12: np.stack(rows)}, 0)
    settings = BuildSettings(max_tokens=0, seed=0, n_ctx=4096, note="fixed texts")
    recipe = AxisRecipe("assistant", "assistant", None, settings,
                        AxisPrompts(default_systems=[None], other_systems={"pirate": [PIRATE]},
                                    questions=[QUESTION]))
    axis = make_axis(reader, collected, [12], recipe)
    assert axis.meta.model.sha256 == reader.identity.sha256
    held_assistant = axis.project(reader.read(default.messages(), ASSISTANT[3], [12]).means[12])
    held_pirate = axis.project(reader.read(pirate.messages(), PIRATES[3], [12]).means[12])
    assert held_assistant.projection > held_pirate.projection
    assert held_assistant.value < 0.5 < held_pirate.value


def test_stopping_after_the_deepest_layer_changes_no_reading() -> None:
    reader = open_reader()
    forget = getattr(reader, "forget")
    messages = [{"role": "system", "content": PIRATE}, {"role": "user", "content": QUESTION}]
    forget()
    shallow = reader.read(messages, PIRATES[0], [6])  # blocks 7.. and the head not computed
    forget()
    deep = reader.read(messages, PIRATES[0], [6, 12])
    assert np.array_equal(shallow.means[6], deep.means[6])
    # a read that needs a deeper layer than the cached cells hold evaluates everything again,
    # and reads what a fresh context reads
    forget()
    reader.read(messages, PIRATES[0], [6])
    after_shallow = reader.read(messages, PIRATES[1], [12])
    forget()
    fresh = reader.read(messages, PIRATES[1], [12])
    assert after_shallow.evaluated == fresh.evaluated > after_shallow.tokens
    assert np.array_equal(after_shallow.means[12], fresh.means[12])
    # at the same depth the cached context is reused
    reused = reader.read(messages, PIRATES[2], [12])
    assert reused.evaluated == reused.tokens
