"""Activation readings from `activation` score events: raw projection and z per axis, and
their change across each memory event (after minus before), per agent and per condition."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean
from typing import Any, Literal, cast

from scaffold.events import Event, MemoryEvent, ScoreEvent
from scaffold.metrics._answers import replies, score_samples
from scaffold.metrics._models import (
    ActivationCurve,
    ActivationDelta,
    ActivationKindDelta,
    ActivationPoint,
    AgentMetrics,
    MeanPoint,
    MetricsSettings,
)

SCORER = "activation"
"""The activation scorer's name (scaffold.activations.details.SCORER)."""

Interval = Literal["bootstrap", "too few", "no spread"]
Reading = dict[str, tuple[float, float]]
"""One scored text's position per axis name: (projection, z)."""


def reading(raw: str | None) -> Reading:
    """The axes of one activation score's `raw` details: axis -> (projection, z); empty when
    the score carries none (activations unavailable, or not an activation score)."""
    from scaffold.activations.details import activation_details

    details = activation_details(raw)
    if details is None:
        return {}
    out = {details.axis: (details.projection, details.z)}
    for p in (details.assistant, details.persona):
        if p is not None:
            out[p.axis] = (p.projection, p.z)
    return out


def axis_label(events: list[Event]) -> str:
    """How reports and the TUI name the activation series: the axes its values come from,
    e.g. `activation (assistant axis)`; plain `activation` when no score says."""
    from scaffold.activations.details import activation_details

    axes = []
    for e in events:
        if isinstance(e, ScoreEvent) and e.scorer == SCORER:
            details = activation_details(e.raw)
            if details is not None and details.axis not in axes:
                axes.append(details.axis)
    return f"{SCORER} ({', '.join(axes)} axis)" if axes else SCORER


def _mean_reading(per_probe: dict[str, list[Reading]]) -> Reading:
    """Mean over samples per probe, then over probes (each probe weighted equally)."""
    probe_means: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for samples in per_probe.values():
        for axis in {a for r in samples for a in r}:
            got = [r[axis] for r in samples if axis in r]
            probe_means[axis].append((mean(p for p, _ in got), mean(z for _, z in got)))
    return {axis: (mean(p for p, _ in v), mean(z for _, z in v))
            for axis, v in probe_means.items()}


def round_readings(events: list[Event], agent_id: str) -> dict[str, Reading]:
    """Per probe round of the agent: its mean reading (the latest score of each answer)."""
    samples = score_samples(events)
    latest: dict[tuple[str, str, int], Reading] = {}
    for e in events:
        if isinstance(e, ScoreEvent) and e.scorer == SCORER and e.agent_id == agent_id \
                and e.seq in samples:
            latest[(str(e.round_id), str(e.probe_id), samples[e.seq])] = reading(e.raw)
    by_round: dict[str, dict[str, list[Reading]]] = defaultdict(lambda: defaultdict(list))
    for (round_id, probe, _), r in latest.items():
        if r:
            by_round[round_id][probe].append(r)
    return {round_id: _mean_reading(probes) for round_id, probes in by_round.items()}


def reply_readings(events: list[Event], agent_id: str) -> dict[str, Reading]:
    """Per assistant reply of the agent (by message id): its reading (the latest score)."""
    out: dict[str, Reading] = {}
    for e in events:
        if isinstance(e, ScoreEvent) and e.scorer == SCORER and e.target == "message" \
                and e.agent_id == agent_id and e.message_id:
            out[e.message_id] = reading(e.raw)
    return {k: v for k, v in out.items() if v}


def _delta(memory: MemoryEvent, target: str, before: tuple[str, Reading] | None,
           after: tuple[str, Reading] | None, between: int) -> list[ActivationDelta]:
    axes = list(dict.fromkeys([*(before[1] if before else {}), *(after[1] if after else {})]))
    out = []
    for axis in axes:
        b = before[1].get(axis) if before else None
        a = after[1].get(axis) if after else None
        out.append(ActivationDelta(
            memory_seq=memory.seq, step=memory.step, kind=memory.kind, status=memory.status,
            target=target, axis=axis, before_ref=before[0] if before else None,
            after_ref=after[0] if after else None,
            before_projection=b[0] if b else None, after_projection=a[0] if a else None,
            delta_projection=a[0] - b[0] if a and b else None,
            before_z=b[1] if b else None, after_z=a[1] if a else None,
            delta_z=a[1] - b[1] if a and b else None, events_between=between))
    return out


def activation_deltas(events: list[Event], agent_id: str,
                      brackets: dict[int, tuple[str | None, str | None]]
                      ) -> list[ActivationDelta]:
    """Projection and z after minus before each memory event of the agent: on the probe
    rounds that bracket it (`bracket_rounds`), and on the last reply before it and the first
    reply after it (`events_between`: other memory events of the agent between those two
    replies, which share the delta)."""
    rounds = round_readings(events, agent_id)
    said = reply_readings(events, agent_id)
    if not rounds and not said:
        return []
    memory = [e for e in events if isinstance(e, MemoryEvent) and e.agent_id == agent_id
              and e.kind != "insert"]
    order = [(r.seq, r.round_id) for (a, _), r in replies(events).items()
             if a == agent_id and r.round_id in said]
    out: list[ActivationDelta] = []
    for m in memory:
        if m.seq in brackets:
            b_id, a_id = brackets[m.seq]
            out += _delta(m, "probe", (b_id, rounds[b_id]) if b_id in rounds else None,
                          (a_id, rounds[a_id]) if a_id in rounds else None, 0)
        before = next((mid for seq, mid in reversed(order) if seq < m.seq), None)
        after = next(((seq, mid) for seq, mid in order if seq > m.seq), None)
        if before is None and after is None:
            continue
        low = next((seq for seq, mid in order if mid == before), 0)
        high = after[0] if after else events[-1].seq + 1
        between = sum(1 for x in memory if low < x.seq < high) - 1
        out += _delta(m, "message", (before, said[before]) if before else None,
                      (after[1], said[after[1]]) if after else None, between)
    return out


def condition_activation(agents: list[AgentMetrics], settings: MetricsSettings
                         ) -> list[ActivationKindDelta]:
    """Per target, axis and memory event kind: each agent's mean delta, then the mean over
    agents with a bootstrap interval (agents are the independent units, not events). Reply
    deltas shared with other memory events (`events_between` > 0) are left out: they cannot
    be told apart."""
    from scaffold.metrics._conditions import bootstrap_interval

    groups: dict[tuple[str, str, str], dict[str, list[ActivationDelta]]] = defaultdict(
        lambda: defaultdict(list))
    for agent in agents:
        for d in agent.activation_deltas:
            if d.delta_projection is not None and not d.events_between:
                kind = d.kind if d.status == "ok" else f"{d.kind}:failed"
                groups[(d.target, d.axis, kind)][f"{agent.run_id}/{agent.agent_id}"].append(d)
    out = []
    for i, ((target, axis, kind), per_agent) in enumerate(sorted(groups.items())):
        proj = [mean(_num(d.delta_projection) for d in ds) for ds in per_agent.values()]
        z = [mean(_num(d.delta_z) for d in ds) for ds in per_agent.values()]
        low, high, interval = bootstrap_interval(proj, settings, key=1000 + i)
        z_low, z_high, _ = bootstrap_interval(z, settings, key=2000 + i)
        out.append(ActivationKindDelta(
            target=target, axis=axis, kind=kind, n_agents=len(proj),
            n_events=sum(len(ds) for ds in per_agent.values()), mean_projection=mean(proj),
            low=low, high=high, mean_z=mean(z), z_low=z_low, z_high=z_high,
            interval=cast(Interval, interval)))
    return out


def activation_points(events: list[Event], agent_id: str) -> list[ActivationPoint]:
    """Every activation reading of the agent by step and axis: each probe round's mean (over
    its probes, each probe weighted equally) and each reply's (the latest score of each)."""
    steps: dict[tuple[str, str], int] = {}
    for e in events:
        if isinstance(e, ScoreEvent) and e.scorer == SCORER and e.agent_id == agent_id:
            ref = e.round_id if e.target == "probe" else e.message_id
            if ref:
                steps.setdefault((e.target, ref), e.step)
    out = []
    for target, readings in (("probe", round_readings(events, agent_id)),
                             ("message", reply_readings(events, agent_id))):
        for ref, r in readings.items():
            for axis, (projection, z) in r.items():
                out.append(ActivationPoint(target=target, axis=axis,  # type: ignore[arg-type]
                                           step=steps[(target, ref)], ref=ref,
                                           projection=projection, z=z))
    return sorted(out, key=lambda p: (p.target != "message", p.axis, p.step))


KEY_BASE = 100_000
"""Bootstrap keys of the activation curves: apart from the score curves' (their step)."""


def _mean_by_step(per_agent: list[dict[int, list[float]]], settings: MetricsSettings,
                  key: int) -> list[MeanPoint]:
    """Mean by step across agents (each agent once per step: the mean of its values there)."""
    from scaffold.metrics._conditions import bootstrap_interval

    by_step: dict[int, list[float]] = defaultdict(list)
    for steps in per_agent:
        for step, vals in steps.items():
            by_step[step].append(mean(vals))
    out = []
    for step, vals in sorted(by_step.items()):
        low, high, kind = bootstrap_interval(vals, settings, key=key + step)
        out.append(MeanPoint(step=step, mean=mean(vals), low=low, high=high, n=len(vals),
                             values=vals, interval=cast(Interval, kind)))
    return out


def condition_activation_curves(agents: list[AgentMetrics], settings: MetricsSettings
                                ) -> list[ActivationCurve]:
    """Per target and axis: z and raw projection by step over the condition's agents, with
    bootstrap intervals (seeded apart from every other interval of the report)."""
    series: dict[tuple[str, str], list[tuple[dict[int, list[float]], dict[int, list[float]]]]]
    series = defaultdict(list)
    for agent in agents:
        mine: dict[tuple[str, str], tuple[dict[int, list[float]], dict[int, list[float]]]] = {}
        for p in agent.activation:
            z, proj = mine.setdefault((p.target, p.axis), (defaultdict(list), defaultdict(list)))
            z[p.step].append(p.z)
            proj[p.step].append(p.projection)
        for series_key, value in mine.items():
            series[series_key].append(value)
    out = []
    for i, ((target, axis), per_agent) in enumerate(sorted(series.items())):
        seed_key = KEY_BASE * (2 * i + 1)
        out.append(ActivationCurve(
            target=target, axis=axis, n_agents=len(per_agent),  # type: ignore[arg-type]
            z=_mean_by_step([z for z, _ in per_agent], settings, seed_key),
            projection=_mean_by_step([p for _, p in per_agent], settings, seed_key + KEY_BASE)))
    return out


def _num(value: Any) -> float:
    return float(value)
