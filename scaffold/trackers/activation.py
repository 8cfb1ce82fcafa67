"""Activation scorer: where a text's residual-stream activations lie on the assistant and persona
axes, read by a reader model (the experiment's `activation` settings)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scaffold.activations import (
    ActivationReader,
    ActivationsUnavailable,
    Axis,
    Projection,
    load_axis,
    open_reader,
)
from scaffold.activations.details import ActivationDetails, ContextKind
from scaffold.activations.discovery import find_axis_files
from scaffold.config import ActivationSpec, AxisFile, PersonaSpec, ProbeSpec
from scaffold.config._activation import axis_file
from scaffold.errors import ConfigError
from scaffold.registry import scorer
from scaffold.trackers.replies import NO_QUESTION
from scaffold.trackers.scoring import IdentityScore, Record, ScorerContext

log = logging.getLogger(__name__)

RETIRED_ENV = ("SCAFFOLD_ACTIVATION_MODEL", "SCAFFOLD_ACTIVATION_AXES")
"""Environment variables that once chose the reader and axes; no longer read (a warning says
so when one is set): the experiment's `activation` section is the one source."""


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


class ActivationRecord(BaseModel):
    """What the activation scorer reads with (the manifest's `scorers.activation`)."""

    model_config = ConfigDict(extra="forbid")

    reader: str
    """The reader model as configured."""
    reader_file: str | None = None
    """Its GGUF file or Hugging Face repository (None until it loaded: nothing read yet)."""
    reader_sha256: str | None = None
    """GGUF sha256, or an hf/ reader's sha256 over its weight files (None until it loaded)."""
    layer: int | None = None
    """The configured layer; None: each axis's own scoring layer (`axes[].layer`)."""
    source: Literal["experiment", "search"]
    """`experiment`: the files in `activation.axes`; `search`: found in the axes cache or
    the shipped axes for the reader's weights (listed as found)."""
    axes: list[AxisFile] = Field(default_factory=list)
    """The axis files (path, sha256 of the file, kind, persona, model, layers)."""


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
        settings: reader model, axis files (empty: search) and layer; default the embedded
            model with the searched axes.
        reader: a reader to use instead of loading one (tests, benchmarks).
        axes: (assistant axis, persona axes by persona name) instead of the settings' files
            or the search.
        record: receives the scorer's `ActivationRecord` (as JSON data) whenever it learns
            more (its reader loaded, axes found), for the run's manifest.

    Raises:
        ConfigError: a configured axis file is gone or changed into something else since the
            settings were checked.
    """

    name = "activation"
    version = "1"

    def __init__(self, settings: ActivationSpec | None = None,
                 reader: ActivationReader | None = None,
                 axes: tuple[Axis | None, dict[str, Axis]] | None = None,
                 record: Record | None = None):
        self.settings = settings or ActivationSpec()
        self.reader_model = self.settings.reader
        self._reader = reader
        self._given = axes
        self._record = record
        try:
            configured = self.settings.axis_files()
        except ValueError as exc:  # changed on disk since the experiment loaded
            raise ConfigError("activation settings", [f"activation.{exc}"]) from None
        self._files: dict[str, AxisFile] = {f.path: f for f in configured}
        self._axes: dict[str, tuple[Axis | None, Axis | None]] = {}
        self._lock = threading.Lock()
        self._report()

    def record(self) -> ActivationRecord:
        """The reader and axis files used so far (configured ones from the start)."""
        identity = self._reader.identity if self._reader is not None else None
        return ActivationRecord(
            reader=self.reader_model, layer=self.settings.layer,
            reader_file=identity.file if identity else None,
            reader_sha256=identity.sha256 if identity else None,
            source="experiment" if self.settings.axes else "search",
            axes=list(self._files.values()))

    def _report(self) -> None:
        if self._record is not None:
            self._record(self.name, self.record().model_dump(mode="json"))

    def reader(self) -> ActivationReader:
        """The reader, loaded on first use."""
        with self._lock:
            loaded = self._reader is None
            if self._reader is None:
                self._reader = open_reader(self.reader_model)
            reader = self._reader
        if loaded:
            self._report()
        return reader

    def axes(self, persona: PersonaSpec) -> tuple[Axis | None, Axis | None]:
        """(assistant axis, persona axis) for the reader's model.

        Raises:
            ActivationsUnavailable: no axis for this model, or the configured ones belong to
                other weights or lack the configured layer.
        """
        reader = self.reader()
        with self._lock:
            found = self._axes.get(persona.name)
            if found is None:
                found = self._find(reader, persona)
                self._check(found)
                self._axes[persona.name] = found
        if found == (None, None):
            where = ("in activation.axes" if self.settings.axes else
                     "in the axes cache or the shipped axes")
            raise ActivationsUnavailable(
                f"no axis for {reader.identity.name} (GGUF sha256 {reader.identity.sha256[:12]}"
                f"...) {where}: build one with `scaffold axis build` and name it in the "
                f"experiment's activation.axes")
        return found

    def _find(self, reader: ActivationReader, persona: PersonaSpec
              ) -> tuple[Axis | None, Axis | None]:
        """The axes for a persona: given, configured, or searched (recording the files)."""
        if self._given is not None:
            return self._given[0], self._given[1].get(persona.name)
        sha = reader.identity.sha256
        if self.settings.axes:
            paths = [Path(f.path) for f in self._files.values()
                     if f.kind == "assistant" or f.persona == persona.name]
            wrong = [f for f in self._files.values() if f.model_sha256 != sha]
            if wrong:
                raise ActivationsUnavailable(
                    f"activation.axes: {wrong[0].path} was built on {wrong[0].model} "
                    f"({wrong[0].model_sha256[:12]}...), not on the reader {reader.identity.name}"
                    f" ({sha[:12]}...): its projections would mean nothing")
        else:
            paths = [p for p in find_axis_files(sha, persona.name) if p is not None]
        axes = [load_axis(p) for p in paths]
        new = [axis_file(p) for p in paths if str(p) not in self._files]
        if new:
            self._files.update({f.path: f for f in new})
            self._report()
        assistant = next((a for a in axes if a.meta.kind == "assistant"), None)
        own = next((a for a in axes if a.meta.kind == "persona"), None)
        return assistant, own

    def _check(self, found: tuple[Axis | None, Axis | None]) -> None:
        layer = self.settings.layer
        for axis in (a for a in found if a is not None):
            if layer is not None and layer not in axis.meta.layers:
                raise ActivationsUnavailable(
                    f"activation.layer: {layer} is not among the layers of the {axis.meta.name}"
                    f" axis ({axis.meta.layers})")

    def measure(self, text: str, probe: ProbeSpec | None, persona: PersonaSpec,
                model_input: list[dict[str, Any]] | None = None) -> ActivationDetails:
        """Read the text and place it on the axes. Blocking; call it off the event loop."""
        assistant, own = self.axes(persona)
        reader = self.reader()
        messages, kind = reading_context(persona, probe, model_input)
        chosen = self.settings.layer
        layers = sorted({chosen if chosen is not None else a.meta.layer
                         for a in (assistant, own) if a is not None})
        reading = reader.read(messages, text, layers)

        def place(axis: Axis | None) -> Projection | None:
            if axis is None:
                return None
            layer = axis.meta.layer if chosen is None else chosen
            return axis.project(reading.means[layer], layer)

        on_assistant, on_persona = place(assistant), place(own)
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
    """Factory for the registry: the context's `activation` settings (the reader loads on the
    first score); warns when a retired environment variable is set, since it is ignored."""
    ctx = ctx or ScorerContext()
    for name in RETIRED_ENV:
        if os.environ.get(name):
            log.warning("%s is set but no longer read: the activation scorer reads with %s "
                        "and %s, from the experiment's `activation` section (rescore: --reader, "
                        "--axis, --layer)", name, ctx.activation.reader,
                        "its axes" if ctx.activation.axes else "the searched axes")
    return ActivationScorer(ctx.activation, record=ctx.record)
