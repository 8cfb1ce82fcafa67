"""Probes never perturb the run, by a test that can fail: every agent request is compared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.helpers import events_of, make_spec, message_view, run_spec

from scaffold import runner
from scaffold.config import ExperimentSpec, ProbeSpec, apply_overrides
from scaffold.messages import Message
from scaffold.trackers.probes import ProbeTracker

PERTURBED = ("agent", "summarizer", "notes")


def request_trail(run_dir: Path) -> list[tuple[str, int, str]]:
    """Every call the run made for itself (not for a measurement), by purpose, step and hash."""
    return [(c.purpose, c.step, c.request_hash) for c in events_of(run_dir, "model_call")
            if c.purpose in PERTURBED]


def context_hash_spec(tmp_path: Path, model: str = "scripted/context-hash") -> ExperimentSpec:
    agent = {"id": "jfk", "persona": "jfk",
             "memory": {"condition": "notes", "budget_tokens": 400,
                        "window": {"threshold": 0.75, "keep_last": 4}},
             "generation": {"temperature": 0.0, "max_tokens": 64}}
    return make_spec(tmp_path, model=model, steps=10, agents=[agent],
                     probes={"every": 2, "samples": 2, "generic": False})


class QuestionLeak(ProbeTracker):
    """A broken probe: its question stays in the agent's window."""

    async def _ask(self, agent: Any, probe: ProbeSpec, context: list[dict[str, Any]],
                   round_id: str, trigger: str, sample: int) -> None:
        await super()._ask(agent, probe, context, round_id, trigger, sample)
        if probe.id == "who" and sample == 0 and trigger == "periodic":
            agent.stack.window.add(Message(id=f"leak-{round_id}", role="user",
                                           content=probe.question, author="probe",
                                           step=agent.step))


class SystemPromptEdit(ProbeTracker):
    """A broken probe: it leaves a mark on the persona text of the system prompt."""

    async def round(self, agent: Any, trigger: str) -> str:
        round_id = await super().round(agent, trigger)
        if trigger == "periodic":
            agent.stack.identity += " "
        return round_id


def with_tracker(monkeypatch: pytest.MonkeyPatch, cls: type[ProbeTracker]) -> None:
    """Runs build `cls` in place of the probe tracker."""
    build = runner.build_trackers

    def build_trackers(spec: ExperimentSpec, client: Any = None, **kw: Any) -> list[Any]:
        trackers = build(spec, client, **kw)
        return [cls(t.schedule, t.scorers, t.seed) if isinstance(t, ProbeTracker) else t
                for t in trackers]

    monkeypatch.setattr(runner, "build_trackers", build_trackers)


def test_probes_leave_every_request_unchanged(tmp_path: Path) -> None:
    spec = context_hash_spec(tmp_path)
    probed = run_spec(spec, tmp_path / "probed")
    bare = run_spec(apply_overrides(spec, no_probes=True), tmp_path / "bare")
    assert events_of(probed, "probe") and not events_of(bare, "probe")
    assert {e.kind for e in events_of(probed, "memory")} >= {"truncate", "note"}
    assert request_trail(probed) == request_trail(bare)
    assert message_view(probed) == message_view(bare)


@pytest.mark.parametrize("broken", [QuestionLeak, SystemPromptEdit])
def test_a_perturbing_probe_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      broken: type[ProbeTracker]) -> None:
    spec = context_hash_spec(tmp_path)
    bare = run_spec(apply_overrides(spec, no_probes=True), tmp_path / "bare")
    with_tracker(monkeypatch, broken)
    perturbed = run_spec(spec, tmp_path / "perturbed")
    assert request_trail(perturbed) != request_trail(bare)
    assert message_view(perturbed) != message_view(bare)


def test_a_last_message_model_misses_what_context_hash_catches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the comparison runs on scripted/context-hash: the template model reads only the
    last user message, so a system-prompt edit leaves its replies as they were."""
    spec = context_hash_spec(tmp_path, model="scripted/default")
    bare = run_spec(apply_overrides(spec, no_probes=True), tmp_path / "bare")
    with_tracker(monkeypatch, SystemPromptEdit)
    perturbed = run_spec(spec, tmp_path / "perturbed")
    assert message_view(perturbed) == message_view(bare)
    assert request_trail(perturbed) != request_trail(bare)
