"""Report tables of memory contents (stream, reflections, facts, block rewrites, files) and
of activation deltas across memory events."""

from __future__ import annotations

from scaffold.metrics import (
    ActivationKindDelta,
    AgentMetrics,
    ConditionMetrics,
    FactView,
    FileView,
    MemoryContents,
    ReaderSetting,
)
from scaffold.report._tables import Cell, Table, fmt, memory_anchor, round_anchor

NONE = "(none)"


def _event_cell(run_id: str, seq: int) -> Cell:
    return Cell(f"#{seq}", href="#" + memory_anchor(run_id, seq))


def stream_table(run_id: str, contents: MemoryContents) -> Table:
    """The memory stream: every stored observation with the importance it was given."""
    table = Table(["memory", "step", "importance", "text", "event"])
    for item in contents.stream.values():
        table.rows.append([Cell(item.id), Cell(str(item.step)),
                           Cell("-" if item.importance is None else str(item.importance)),
                           Cell(item.text), _event_cell(run_id, item.seq)])
    return table


def reflections_table(run_id: str, contents: MemoryContents) -> Table:
    """Reflections with the question they answer and the memories they were drawn from."""
    table = Table(["reflection", "step", "importance", "question", "text", "drawn from",
                   "event"])
    for item in contents.reflections.values():
        sources = [_source(contents, c) for c in item.cites]
        table.rows.append([Cell(item.id), Cell(str(item.step)),
                           Cell("-" if item.importance is None else str(item.importance)),
                           Cell(item.question), Cell(item.text),
                           Cell("\n".join(sources) or "-"), _event_cell(run_id, item.seq)])
    return table


def _source(contents: MemoryContents, memory_id: str) -> str:
    item = contents.stream.get(memory_id) or contents.reflections.get(memory_id)
    if item is None:
        return memory_id
    return f"{memory_id} (step {item.step}, importance {item.importance}): {item.text}"


def facts_table(run_id: str, contents: MemoryContents) -> Table:
    """The fact table: each fact's text now, whether it is live, and every change."""
    table = Table(["fact", "status", "text now", "history"])
    for fact in contents.facts.values():
        table.rows.append([Cell(fact.id), Cell("live" if fact.live else "deleted"),
                           Cell(fact.text if fact.live else f"(was: {fact.text})"),
                           Cell(_history(fact))])
    return table


def _history(fact: FactView) -> str:
    lines = []
    for c in fact.history:
        change = {"ADD": f"+ {c.new}", "DELETE": f"- {c.old}"}.get(c.op, f"{c.old} → {c.new}")
        lines.append(f"step {c.step} #{c.seq} {c.op}: {change}")
    return "\n".join(lines)


def rewrites_table(run_id: str, contents: MemoryContents) -> Table:
    """Sleep-time rewrites of core blocks: old and new text of each block."""
    table = Table(["event", "step", "block", "trigger", "status", "old", "new"])
    for r in contents.rewrites:
        status = r.status if r.changed or r.status != "ok" else "unchanged"
        if r.reason:
            status += f" ({r.reason})"
        table.rows.append([_event_cell(run_id, r.seq), Cell(str(r.step)), Cell(r.block),
                           Cell(r.trigger), Cell(status), Cell(r.old), Cell(r.new)])
    return table


def files_table(run_id: str, contents: MemoryContents) -> Table:
    """Memory files at the end: loaded (always, open, closed, deleted), text, edits."""
    table = Table(["file", "loaded", "text", "edits"])
    for view in contents.files.values():
        table.rows.append([Cell(view.path), Cell(view.loaded), Cell(view.text or NONE),
                           Cell(_edits(view) or "-")])
    return table


def _edits(view: FileView) -> str:
    out = []
    for e in view.edits:
        old = NONE if e.old is None else e.old
        new = NONE if e.new is None else e.new
        out.append(f"step {e.step} #{e.seq} {e.op}: {old} → {new}")
    return "\n".join(out)


def activation_table(run_id: str, agent: AgentMetrics) -> Table:
    """Per memory event, target and axis: projection and z before, after, and the delta."""
    table = Table(["memory event", "step", "kind", "target", "axis", "before", "after",
                   "Δ projection", "Δ z", "shared with"])
    for d in agent.activation_deltas:
        table.rows.append([
            _event_cell(run_id, d.memory_seq), Cell(str(d.step)), Cell(d.kind),
            Cell("probes" if d.target == "probe" else "replies"), Cell(d.axis),
            _ref(run_id, d.target, d.before_ref, d.before_projection, d.before_z),
            _ref(run_id, d.target, d.after_ref, d.after_projection, d.after_z),
            Cell(fmt(d.delta_projection, 3)), Cell(fmt(d.delta_z, 3)),
            Cell(f"{d.events_between} other event(s)" if d.events_between else "-"),
        ])
    return table


def _ref(run_id: str, target: str, ref: str | None, proj: float | None,
         z: float | None) -> Cell:
    if ref is None:
        return Cell("-")
    text = f"{fmt(proj, 3)} (z {fmt(z)})"
    if target == "probe":
        return Cell(text, href="#" + round_anchor(run_id, ref), title=ref)
    return Cell(text, title=ref)


def condition_activation_table(conditions: list[ConditionMetrics]) -> Table:
    """Per condition, target, axis and memory event kind: mean projection and z deltas."""
    table = Table(["condition", "model", "target", "axis", "event kind", "agents", "events",
                   "mean Δ projection", "interval", "mean Δ z", "z interval"])
    for c in conditions:
        for k in c.activation_deltas:
            table.rows.append([Cell(c.condition), Cell(c.model),
                               Cell("probes" if k.target == "probe" else "replies"),
                               Cell(k.axis), Cell(k.kind), Cell(str(k.n_agents)),
                               Cell(str(k.n_events)), Cell(fmt(k.mean_projection, 3)),
                               Cell(_interval(k, k.low, k.high)), Cell(fmt(k.mean_z, 3)),
                               Cell(_interval(k, k.z_low, k.z_high))])
    return table


def _interval(k: ActivationKindDelta, low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return k.interval
    return f"[{low:.3f}, {high:.3f}]" + (" no spread" if k.interval == "no spread" else "")


MAX_LISTED_RUNS = 6
"""More runs than this share a reader setting: the table gives their number."""


def readers_table(readers: list[ReaderSetting]) -> Table:
    """What the activation scores were read with: reader, its weights, layer, axis files, and
    the runs (or rescore passes) that used each setting."""
    table = Table(["scored by", "reader", "reader sha256 / revision", "layer", "axes", "runs"])
    for r in readers:
        runs = ", ".join(r.runs) if len(r.runs) <= MAX_LISTED_RUNS else f"{len(r.runs)} runs"
        table.rows.append([Cell(r.source), Cell(r.reader), Cell(r.reader_sha256 or "-"),
                           Cell("each axis's own" if r.layer is None else str(r.layer)),
                           Cell("\n".join(r.axes) or "-"), Cell(runs)])
    return table
