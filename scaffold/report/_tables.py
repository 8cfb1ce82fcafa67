"""Report tables as plain data (cells with optional links), rendered to HTML or Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scaffold.metrics import (
    AgentMetrics,
    Breaks,
    ConditionMetrics,
    ConditionScorer,
    Drift,
    HalfLife,
    Level,
    ReportMetrics,
    RunMetrics,
    ScorerMetrics,
    TARGET_FIELDS,
)


@dataclass(frozen=True)
class Cell:
    """One table cell: text, optionally a link, an anchor id, or a hover title."""

    text: str
    href: str | None = None
    id: str | None = None
    title: str | None = None


@dataclass
class Table:
    """Headers and rows of cells."""

    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def slug(text: str) -> str:
    """A string safe inside an HTML id and a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def round_anchor(run_id: str, round_id: str) -> str:
    """Anchor id of a probe round's answers."""
    return f"round-{slug(run_id)}-{slug(round_id)}"


def memory_anchor(run_id: str, seq: int) -> str:
    """Anchor id of a memory event's row."""
    return f"mem-{slug(run_id)}-{seq}"


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a table; '-' for missing."""
    return "-" if value is None else f"{value:.{digits}f}"


TARGET_NAMES = {"probe": "probes", "message": "replies", "memory": "memory texts"}
"""How tables name the target of a series."""


def series(c: ConditionMetrics) -> list[tuple[str, str, ConditionScorer]]:
    """(target name, scorer, aggregate) of a condition: replies, probes, memory texts."""
    return [(TARGET_NAMES[target], n, s) for target in TARGET_FIELDS
            for n, s in c.series(target).items()]


def conditions_table(metrics: ReportMetrics) -> Table:
    """One row per condition, target and scorer: agents, never held, breaks, median
    half-life."""
    table = Table(["condition", "model", "target", "scorer", "agents", "seeds", "never held",
                   "broke", "median half-life", "drift: last - first", "level: mean of agents"])
    for c in metrics.conditions:
        seeds = ", ".join(map(str, c.seeds)) or "-"
        if c.too_few:
            seeds += f" (n={len(c.agents)} < {metrics.settings.min_n}: no intervals)"
        if not c.scorers and not c.replies:  # nothing was scored
            table.rows.append([Cell(c.condition), Cell(c.model), Cell("-"), Cell("-"),
                               Cell(str(len(c.agents))), Cell(seeds), Cell("-"), Cell("-"),
                               Cell("-"), Cell("-"), Cell("-")])
        for target, name, s in series(c):
            median = str(s.median_half_life) if s.median_half_life is not None else "not reached"
            broke = {"replies": str(c.reply_broke), "probes": str(c.broke)}.get(target, "-")
            table.rows.append([Cell(c.condition), Cell(c.model), Cell(target), Cell(name),
                               Cell(str(s.n_agents)), Cell(seeds), Cell(str(s.never_held)),
                               Cell(broke), Cell(median), Cell(drift_text(s.drift)),
                               Cell(level_text(s.level))])
    return table


def _estimate(value: float, low: float | None, high: float | None, interval: str,
              spec: str) -> str:
    """`value [low, high]` for a bootstrap interval, else `value (interval kind)`."""
    if low is not None and high is not None and interval == "bootstrap":
        return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"
    return f"{value:{spec}} ({interval})"


def level_text(level: Level | None) -> str:
    """`0.62 [0.51, 0.73], n 8`; the interval kind when none is given."""
    if level is None:
        return "-"
    return f"{_estimate(level.mean, level.low, level.high, level.interval, '.2f')}, n {level.n}"


def drift_text(drift: Drift | None) -> str:
    """`-0.32 [-0.45, -0.20], p 0.003, n 32`; the interval kind when none is given."""
    if drift is None:
        return "-"
    text = _estimate(drift.mean_change, drift.low, drift.high, drift.interval, "+.2f")
    if drift.p_value is not None:
        text += f", p {drift.p_value:.3g}"
    return f"{text}, n {drift.n}"


def outcomes_table(metrics: ReportMetrics) -> Table:
    """Per condition, target and scorer: every agent's (seed's) own numbers."""
    table = Table(["condition", "model", "target", "scorer", "agent", "seed", "initial", "mean",
                   "half-life", "outcome"])
    for c in metrics.conditions:
        for target, name, s in series(c):
            for o in s.per_agent:
                table.rows.append([Cell(c.condition), Cell(c.model), Cell(target), Cell(name),
                                   Cell(o.agent), Cell(_opt(o.seed, "-")), Cell(fmt(o.initial)),
                                   Cell(fmt(o.mean)), Cell(_opt(o.half_life, "-")),
                                   Cell(o.outcome)])
    return table


def survival_rows(metrics: ReportMetrics) -> Table:
    """Kaplan-Meier rows per condition, target and scorer."""
    table = Table(["condition", "model", "target", "scorer", "step", "at risk", "halved",
                   "censored", "surviving"])
    for c in metrics.conditions:
        for target, name, s in series(c):
            for r in s.survival:
                table.rows.append([Cell(c.condition), Cell(c.model), Cell(target), Cell(name),
                                   Cell(str(r.step)), Cell(str(r.at_risk)), Cell(str(r.events)),
                                   Cell(str(r.censored)), Cell(fmt(r.survival))])
    return table


def condition_deltas(conditions: list[ConditionMetrics]) -> Table:
    """Mean event delta per condition, scorer and memory event kind (probe rounds)."""
    table = Table(["condition", "model", "scorer", "event kind", "mean delta", "n"])
    for c in conditions:
        for name, s in c.scorers.items():
            for k in s.delta_by_kind:
                table.rows.append([Cell(c.condition), Cell(c.model), Cell(name), Cell(k.kind),
                                   Cell(fmt(k.mean, 3)), Cell(str(k.n))])
    return table


def _half(hl: HalfLife) -> str:
    if hl.never_held:
        return "never held"
    return f"censored (> {hl.observed_until})" if hl.censored else str(hl.step)


def agent_summary(agent: AgentMetrics) -> Table:
    """Per target and scorer: points, initial score, half-life, break and recovery."""
    table = Table(["target", "scorer", "points", "initial", "half-life", "break step",
                   "recovered at", "steps to recover"])
    for target, by_scorer, b in (("replies", agent.replies, agent.reply_breaks),
                                 ("probes", agent.scorers, agent.breaks)):
        for name, s in by_scorer.items():
            table.rows.append(_summary_row(target, name, s, b))
    return table


def _summary_row(target: str, name: str, s: ScorerMetrics, b: Breaks) -> list[Cell]:
    hl = s.half_life
    judged = name == b.scorer
    return [
        Cell(target), Cell(name), Cell(str(len(s.curve))), Cell(fmt(hl.initial)),
        Cell(_half(hl)),
        Cell(_opt(b.break_step, "never") if judged else ""),
        Cell(_opt(b.recovery_step, "never" if b.break_step is not None else "-")
             if judged else ""),
        Cell(_opt(b.steps_to_recover, "-") if judged else ""),
    ]


def _opt(value: int | None, missing: str) -> str:
    return missing if value is None else str(value)


def agent_deltas(run_id: str, agent: AgentMetrics) -> Table:
    """Per probed memory event and scorer: before, after, delta, linked to the rounds."""
    table = Table(["memory event", "step", "kind", "status", "scorer", "before", "after",
                   "delta"])
    for name, s in agent.scorers.items():
        for d in s.event_deltas:
            table.rows.append([
                Cell(f"#{d.memory_seq}", href="#" + memory_anchor(run_id, d.memory_seq)),
                Cell(str(d.step)), Cell(d.kind), Cell(d.status), Cell(name),
                _round_cell(run_id, d.before_round, d.before),
                _round_cell(run_id, d.after_round, d.after), Cell(fmt(d.delta, 3)),
            ])
    return table


def _round_cell(run_id: str, round_id: str | None, value: float | None) -> Cell:
    if round_id is None:
        return Cell("-")
    return Cell(fmt(value), href="#" + round_anchor(run_id, round_id), title=round_id)


def agreement_table(run: RunMetrics) -> Table:
    """Raw agreement and Cohen's kappa per pair of scorers."""
    table = Table(["scorer A", "scorer B", "answers", "agreement", "kappa"])
    for a in run.agreement:
        agree = "-" if a.agreement is None else f"{100 * a.agreement:.0f}%"
        table.rows.append([Cell(a.scorer_a), Cell(a.scorer_b), Cell(str(a.n)), Cell(agree),
                           Cell(fmt(a.kappa))])
    return table


def memory_table(run_id: str, agent: AgentMetrics, scorers: list[str]) -> Table:
    """Memory events with the scores of their own text."""
    table = Table(["seq", "step", "kind", "status", "author", "tokens", *scorers, "text"])
    for m in agent.memory:
        table.rows.append([
            Cell(f"#{m.seq}", id=memory_anchor(run_id, m.seq)), Cell(str(m.step)),
            Cell(m.kind), Cell(m.status), Cell(m.author),
            Cell(f"{m.tokens_before}→{m.tokens_after}"),
            *(Cell(fmt(m.scores.get(s))) for s in scorers), Cell(m.text),
        ])
    return table


def memory_scorers(agent: AgentMetrics) -> list[str]:
    """Scorers that scored any of the agent's memory texts, in order of appearance."""
    return list(dict.fromkeys(s for m in agent.memory for s in m.scores))


def contrasts_table(metrics: ReportMetrics) -> Table:
    """Each condition against the reference: difference of agent means, its interval, the
    Holm-adjusted permutation p-value, and whether the difference is within noise."""
    table = Table(["condition", "model", "target", "scorer", "n", "mean", "reference",
                   "difference", "p (Holm)", "reading"])
    for k in metrics.contrasts:
        difference = f"{k.difference:+.3f}"
        if k.low is not None and k.high is not None and k.interval != "too few":
            difference += f" [{k.low:+.3f}, {k.high:+.3f}]"
        p = "-" if k.p_holm is None else f"{k.p_holm:.3g} (raw {k.p_value:.3g})"
        reading = ("too few" if k.within_noise is None
                   else "within noise" if k.within_noise else "differs")
        table.rows.append([Cell(k.condition), Cell(k.model), Cell(TARGET_NAMES[k.target]),
                           Cell(k.scorer), Cell(str(k.n)), Cell(fmt(k.mean, 3)),
                           Cell(f"{k.reference} {k.reference_mean:.3f} (n {k.n_reference})"),
                           Cell(difference), Cell(p), Cell(reading)])
    return table
