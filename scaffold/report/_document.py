"""The report's content and order, written through a DocumentWriter (HTML or Markdown)."""

from __future__ import annotations

from scaffold.metrics import (
    INDEX,
    NEVER_HELD_BELOW,
    AgentMetrics,
    ReportMetrics,
    RunLog,
    RunMetrics,
)
from scaffold.report._answers import answer_tables
from scaffold.report._plots import (
    condition_figure,
    context_figure,
    identity_figure,
    plot_style,
    survival_figure,
)
from scaffold.report._tables import (
    TARGET_NAMES,
    agent_deltas,
    agent_summary,
    agreement_table,
    condition_deltas,
    conditions_table,
    memory_scorers,
    memory_table,
    outcomes_table,
    slug,
    survival_rows,
)
from scaffold.report._writers import DocumentWriter

SECTIONS = (("Conditions", "conditions"), ("Half-life survival", "half-life"),
            ("Event deltas", "event-deltas"), ("Runs", "runs"))


def write_document(doc: DocumentWriter, metrics: ReportMetrics, logs: list[RunLog]) -> str:
    """Write the whole report and return the rendered document."""
    s = metrics.settings
    doc.paragraph(f"Source: {metrics.source} · {len(metrics.runs)} run(s) · smoothing window "
                  f"{s.smooth_steps} steps (centred) · {round(100 * s.confidence)}% bootstrap "
                  f"intervals ({s.resamples} resamples, seed {s.seed}), given only where at "
                  f"least {s.min_n} agents share a step. Computed from events.jsonl only.")
    doc.paragraph("Targets: 'replies' are the agent's own messages, scored as they were "
                  "written; 'probes' are identity questions asked on a copy of its context and "
                  "discarded; memory texts are scored in each run's memory table. 'index' is "
                  "the identity index: " + metrics.index_definition)
    if metrics.skipped:
        doc.paragraph(f"Left out: {len(metrics.skipped)} run(s) with a damaged event log. "
                      + " ".join(metrics.skipped))
    doc.links([(title, anchor) for title, anchor in SECTIONS])
    with plot_style():
        _conditions(doc, metrics)
        doc.heading(2, "Runs", "runs")
        doc.links([(r.run_id, f"run-{slug(r.run_id)}") for r in metrics.runs])
        events = {log.run_id: log.events for log in logs}
        for run in metrics.runs:
            _run(doc, run, events.get(run.run_id, []))
    return doc.render()


def _series(metrics: ReportMetrics) -> list[tuple[str, str]]:
    """(target, scorer) pairs present in any condition: replies first, the index first."""
    pairs = [("message", n) for c in metrics.conditions for n in c.replies]
    pairs += [("probe", n) for c in metrics.conditions for n in c.scorers]
    return sorted(dict.fromkeys(pairs), key=lambda p: (p[0] != "message", p[1] != INDEX))


def _conditions(doc: DocumentWriter, metrics: ReportMetrics) -> None:
    doc.heading(2, "Conditions", "conditions")
    doc.paragraph("A condition is an agent's memory condition together with its model; the "
                  "curves average agents (runs, seeds) of one condition step by step.")
    few = [c for c in metrics.conditions if c.too_few]
    if few:
        doc.paragraph(
            f"Too few seeds: {len(few)} condition(s) have fewer than {metrics.settings.min_n} "
            "agents (" + ", ".join(f"{c.condition} | {c.model}: n={len(c.agents)}" for c in few)
            + "). Their means come without intervals; read their per-agent values instead.")
    doc.table(conditions_table(metrics))
    for target, scorer in _series(metrics):
        name = f"{TARGET_NAMES[target]}-{scorer}"
        doc.figure(condition_figure(metrics, scorer, target), f"conditions-{name}",
                   f"mean {scorer} score on {TARGET_NAMES[target]} by condition")
    doc.heading(3, "Per agent", "per-agent")
    doc.paragraph("Each agent's (seed's) own numbers behind the condition means.")
    doc.table(outcomes_table(metrics))
    doc.heading(2, "Half-life survival", "half-life")
    doc.paragraph(f"Half-life: first step where the smoothed score falls below half its "
                  f"initial value. Agents that never got there are censored at their last "
                  f"scored step (Kaplan-Meier). Agents whose initial score was below "
                  f"{NEVER_HELD_BELOW} never held the persona: they are neither survivors nor "
                  f"censored, are left out of the survival curves and counted as 'never held'.")
    for target, scorer in _series(metrics):
        name = f"{TARGET_NAMES[target]}-{scorer}"
        doc.figure(survival_figure(metrics, scorer, target), f"survival-{name}",
                   f"{scorer} half-life survival on {TARGET_NAMES[target]} by condition")
    doc.table(survival_rows(metrics))
    doc.heading(2, "Event deltas", "event-deltas")
    doc.paragraph("Score of the probe round right after a memory event minus the round right "
                  "before it, averaged per kind of event (probe rounds only).")
    doc.table(condition_deltas(metrics.conditions))


def _run(doc: DocumentWriter, run: RunMetrics, events: list) -> None:
    key = slug(run.run_id)
    doc.heading(2, f"Run {run.run_id}", f"run-{key}")
    doc.paragraph(f"experiment {run.experiment or '-'} · status {run.status} · {run.path}")
    doc.heading(3, "Scorer agreement", f"agreement-{key}")
    if run.agreement:
        doc.paragraph("Scores thresholded at 0.5 on the same (round, probe, sample).")
        doc.table(agreement_table(run))
    else:
        doc.paragraph("One scorer only: nothing to compare.")
    answers = answer_tables(run.run_id, events)
    for agent in run.agents:
        _agent(doc, run.run_id, agent)
        doc.heading(4, "Probe answers", f"answers-{key}-{slug(agent.agent_id)}")
        if agent.agent_id in answers:
            doc.answers(answers[agent.agent_id])
        else:
            doc.paragraph("no probe answers")


def _agent(doc: DocumentWriter, run_id: str, agent: AgentMetrics) -> None:
    key = f"{slug(run_id)}-{slug(agent.agent_id)}"
    doc.heading(3, f"Agent {agent.agent_id} · {agent.condition} · {agent.model}",
                f"agent-{key}")
    doc.table(agent_summary(agent))
    doc.heading(4, "Identity curves", f"identity-{key}")
    doc.paragraph("Large markers are probe rounds (click one for the answers behind it); small "
                  "green dots are the agent's replies. Vertical markers are memory events "
                  "(click for the event; kind* marks a memory plugin's own kind); red marks "
                  "breaks in probe answers.")
    doc.figure(identity_figure(run_id, agent), f"{run_id}-{agent.agent_id}-identity",
               f"identity curves of {agent.agent_id}")
    doc.heading(4, "Event deltas", f"deltas-{key}")
    doc.table(agent_deltas(run_id, agent))
    doc.heading(4, "Memory text scores", f"memory-{key}")
    doc.paragraph("Does the memory text (summaries, notes, core edits) still speak as the "
                  "persona? Scores of the text itself, per scorer.")
    doc.table(memory_table(run_id, agent, memory_scorers(agent)))
    doc.heading(4, "Token shares", f"tokens-{key}")
    doc.figure(context_figure(agent), f"{run_id}-{agent.agent_id}-context",
               f"context share per section of {agent.agent_id}")
