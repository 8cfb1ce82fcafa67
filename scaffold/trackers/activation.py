"""Activation scorer: where a text's residual-stream activations lie on the assistant and persona
axes, read by a reader model (the embedded default unless SCAFFOLD_ACTIVATION_MODEL says)."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from scaffold.activations import (
    DEFAULT_READER,
    ActivationReader,
    ActivationsUnavailable,
    Axis,
    open_reader,
)
from scaffold.activations.details import ActivationDetails, ContextKind
from scaffold.activations.discovery import find_axes
from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.registry import scorer
from scaffold.trackers.replies import NO_QUESTION
from scaffold.trackers.scoring import IdentityScore, ScorerContext

READER_ENV = "SCAFFOLD_ACTIVATION_MODEL"
"""The reader model (`local/...` or `hf/...`); default the embedded model."""


def reading_context(persona: PersonaSpec, probe: ProbeSpec | None,
                    model_input: list[dict[str, Any]] | None
                    ) -> tuple[list[dict[str, Any]], ContextKind]:
    """The messages a text is read after: the exact model input when there is one, else the
    persona's identity as system prompt and the question the text answers (none for memory
    text)."""
    if model_input:
        return list(model_input), "model input"
    messages: list[dict[str, Any]] = [{"role": "system", "content": persona.identity}]
    if probe is not None and probe.question != NO_QUESTION:
        messages.append({"role": "user", "content": probe.question})
    return messages, "persona prompt"


class ActivationScorer:
    """Projects a text's mean activation (over its tokens, read in its context) onto the
    assistant axis and, when one was built for the persona, the persona axis.

    The value in [0, 1] is the fraction of the way from the default assistant's mean
    projection (0) to the other group's (1: role-played characters on the assistant axis,
    the persona itself on its persona axis), clipped; raw projection and z-score (against
    the default distribution in the axis file) are in the score's `raw` JSON
    (`ActivationDetails`). The text is read by the reader model: when it is not the model
    that wrote the text, the score says how the reader represents the text, not what the
    writer's state was.

    Args:
        reader_model: `local/...` or `hf/...`; default SCAFFOLD_ACTIVATION_MODEL or the
            embedded model.
        reader: a reader to use instead of loading one (tests, benchmarks).
        axes: (assistant axis, persona axes by persona name) instead of searching the axis
            path.
    """

    name = "activation"
    version = "1"

    def __init__(self, reader_model: str | None = None, reader: ActivationReader | None = None,
                 axes: tuple[Axis | None, dict[str, Axis]] | None = None):
        self.reader_model = reader_model or os.environ.get(READER_ENV) or DEFAULT_READER
        self._reader = reader
        self._given = axes
        self._axes: dict[str, tuple[Axis | None, Axis | None]] = {}
        self._lock = threading.Lock()

    def reader(self) -> ActivationReader:
        """The reader, loaded on first use."""
        with self._lock:
            if self._reader is None:
                self._reader = open_reader(self.reader_model)
            return self._reader

    def axes(self, persona: PersonaSpec) -> tuple[Axis | None, Axis | None]:
        """(assistant axis, persona axis) for the reader's model.

        Raises:
            ActivationsUnavailable: no axis was built for this model.
        """
        reader = self.reader()
        with self._lock:
            if persona.name not in self._axes:
                if self._given is not None:
                    found = (self._given[0], self._given[1].get(persona.name))
                else:
                    found = find_axes(reader.identity.sha256, persona.name)
                self._axes[persona.name] = found
            found = self._axes[persona.name]
        if found == (None, None):
            raise ActivationsUnavailable(
                f"no axis for {reader.identity.name} (GGUF sha256 {reader.identity.sha256[:12]}"
                f"...): build one with `scaffold axis build` or point "
                f"SCAFFOLD_ACTIVATION_AXES at one")
        return found

    def measure(self, text: str, probe: ProbeSpec | None, persona: PersonaSpec,
                model_input: list[dict[str, Any]] | None = None) -> ActivationDetails:
        """Read the text and place it on the axes. Blocking; call it off the event loop."""
        assistant, own = self.axes(persona)
        reader = self.reader()
        messages, kind = reading_context(persona, probe, model_input)
        layers = sorted({a.meta.layer for a in (assistant, own) if a is not None})
        reading = reader.read(messages, text, layers)
        on_assistant = assistant.project(reading.means[assistant.meta.layer]) if assistant \
            else None
        on_persona = own.project(reading.means[own.meta.layer]) if own else None
        main = on_persona or on_assistant
        assert main is not None  # axes() raised when both are missing
        return ActivationDetails(
            reader=reader.identity.name, reader_sha256=reader.identity.sha256, context=kind,
            axis=main.axis, layer=main.layer, projection=main.projection, z=main.z,
            value=main.value, assistant=on_assistant, persona=on_persona,
            tokens=reading.tokens, evaluated=reading.evaluated, truncated=reading.truncated,
            seconds=round(reading.seconds, 4))

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score a reply, probe answer or memory text (`probe` None)."""
        if not answer.strip():
            return IdentityScore(value=None, scorer=self.name, version=self.version,
                                 explanation="empty text")
        details = await asyncio.to_thread(self.measure, answer, probe, persona, model_input)
        return IdentityScore(value=details.value, scorer=self.name, version=self.version,
                             explanation=explain(details), raw=details.model_dump_json())


def explain(d: ActivationDetails) -> str:
    """One line: the axis, layer, projection and z, and what was read."""
    line = (f"{d.axis} axis, layer {d.layer}: projection {d.projection:+.3f}, z {d.z:+.2f} "
            f"vs the default assistant, value {d.value:.2f}")
    if d.persona is not None and d.assistant is not None:
        line += (f"; assistant axis: projection {d.assistant.projection:+.3f}, "
                 f"z {d.assistant.z:+.2f}")
    line += f"; {d.tokens} tokens read by {d.reader} after the {d.context}"
    if d.truncated:
        line += f" ({d.truncated} context tokens cut)"
    return line


@scorer("activation")
def make_activation(ctx: ScorerContext | None = None) -> ActivationScorer:
    """Factory for the registry (the reader loads on the first score)."""
    return ActivationScorer()
