"""The report's content and order, written through a DocumentWriter (HTML or Markdown)."""

from __future__ import annotations

from typing import Any

from scaffold.events import Event, RunStart
from scaffold.metrics import (
    INDEX,
    NEVER_HELD_BELOW,
    TARGET_FIELDS,
    AgentMetrics,
    ReportMetrics,
    RunLog,
    RunMetrics,
    axis_label,
    memory_contents,
)
from scaffold.report._answers import answer_tables
from scaffold.report._memory_tables import (
    activation_table,
    condition_activation_table,
    facts_table,
    files_table,
    reflections_table,
    readers_table,
    rewrites_table,
    stream_table,
)
from scaffold.report._plots import (
    activation_figure,
    condition_figure,
    context_figure,
    identity_figure,
    survival_figure,
)
from scaffold.report._render import FigureJob
from scaffold.report._tables import (
    TARGET_NAMES,
    agent_deltas,
    agent_summary,
    agreement_table,
    condition_deltas,
    conditions_table,
    contrasts_table,
    memory_scorers,
    memory_table,
    outcomes_table,
    slug,
    survival_rows,
)
from scaffold.report._writers import DocumentWriter

SECTIONS = (("Conditions", "conditions"), ("Half-life survival", "half-life"),
            ("Event deltas", "event-deltas"), ("Runs", "runs"))


def write_document(doc: DocumentWriter, metrics: ReportMetrics, logs: list[RunLog],
                   runs: bool = True) -> str:
    """Write the whole report and return the rendered document; `runs=False` leaves out the
    per-run sections (for studies of many runs: the rest is computed from the same runs)."""
    s = metrics.settings
    doc.paragraph(f"Source: {metrics.source} · {len(metrics.runs)} run(s) · smoothing window "
                  f"{s.smooth_steps} steps (centred) · {round(100 * s.confidence)}% bootstrap "
                  f"intervals ({s.resamples} resamples, seed {s.seed}), given only where at "
                  f"least {s.min_n} agents share a step. Computed from events.jsonl only.")
    doc.paragraph("Targets: 'replies' are the agent's own messages, scored as they were "
                  "written; 'probes' are identity questions asked on a copy of its context and "
                  "discarded; 'memory texts' are the texts its memory wrote (summaries, notes, "
                  "facts, core edits, reflections, files), one point per text; a condition's "
                  "memory-text curve carries each agent's latest text forward to the next (the "
                  "memory it holds at each step), from its first text on. 'index' is "
                  "the identity index: " + metrics.index_definition)
    if metrics.skipped:
        doc.paragraph(f"Left out: {len(metrics.skipped)} run(s) with a damaged event log. "
                      + " ".join(metrics.skipped))
    doc.links([(title, anchor) for title, anchor in SECTIONS if runs or anchor != "runs"])
    labels = {"activation": axis_label([e for log in logs for e in log.events])}
    _conditions(doc, metrics, labels)
    if not runs:
        doc.paragraph(f"Per-run sections (identity curves, memory tables and probe answers of "
                      f"each of the {len(metrics.runs)} runs) are left out of this report; "
                      "`scaffold report` without `--no-runs` writes them.")
        return doc.render()
    doc.heading(2, "Runs", "runs")
    doc.links([(r.run_id, f"run-{slug(r.run_id)}") for r in metrics.runs])
    events = {log.run_id: log.events for log in logs}
    for run in metrics.runs:
        _run(doc, run, events.get(run.run_id, []), labels)
    return doc.render()


def _series(metrics: ReportMetrics) -> list[tuple[str, str]]:
    """(target, scorer) pairs present in any condition: replies, probes, memory texts; the
    index first in each."""
    pairs = [(target, n) for target in TARGET_FIELDS for c in metrics.conditions
             for n in c.series(target)]
    order = list(TARGET_FIELDS)
    return sorted(dict.fromkeys(pairs), key=lambda p: (order.index(p[0]), p[1] != INDEX))


def _conditions(doc: DocumentWriter, metrics: ReportMetrics, labels: dict[str, str]) -> None:
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
    # what the condition figures read (conditions, settings) and nothing else: each job
    # pickles it to a worker, and the figure cache keys it
    shared = metrics.model_copy(update={"runs": [], "source": "", "skipped": [],
                                        "activation_readers": []})
    for target, scorer in _series(metrics):
        name = f"{TARGET_NAMES[target]}-{scorer}"
        label = labels.get(scorer, scorer)
        doc.figure(FigureJob(condition_figure, (shared, scorer, target, label)),
                   f"conditions-{name}",
                   f"mean {label} score on {TARGET_NAMES[target]} by condition")
    if any(c.activation_curves for c in metrics.conditions):
        _activation_curves(doc, metrics, shared)
    if metrics.contrasts:
        _contrasts(doc, metrics)
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
        label = labels.get(scorer, scorer)
        doc.figure(FigureJob(survival_figure, (shared, scorer, target, label)),
                   f"survival-{name}",
                   f"{label} half-life survival on {TARGET_NAMES[target]} by condition")
    doc.table(survival_rows(metrics))
    doc.heading(2, "Event deltas", "event-deltas")
    doc.paragraph("Score of the probe round right after a memory event minus the round right "
                  "before it, averaged per kind of event (probe rounds only).")
    doc.table(condition_deltas(metrics.conditions))
    if any(c.activation_deltas for c in metrics.conditions):
        _activation_deltas(doc, metrics, labels)


def _contrasts(doc: DocumentWriter, metrics: ReportMetrics) -> None:
    s = metrics.settings
    refs = list(dict.fromkeys(k.reference for k in metrics.contrasts))
    against = refs[0] if len(refs) == 1 else "the reference condition"
    doc.heading(3, f"Against {against}", "contrasts")
    doc.paragraph(
        f"Each condition against {against} (`--reference` names another; grouped by "
        "condition and more, each group is compared with the group of the same other parts "
        "in the reference condition), per target and scorer: the difference of the "
        "conditions' means of their "
        "agents' own means (each agent's mean over its points; on memory texts, over its "
        f"texts), with a {round(100 * s.confidence)}% percentile bootstrap interval (each "
        "side resampled on its own) and a two-sided permutation p-value (agents exchanged "
        "between the two conditions), Holm-adjusted over the conditions compared on the same "
        "target and scorer. 'within noise': the interval contains 0 or the adjusted p is "
        f"at least {1 - s.confidence:.2g}; 'too few': either side has fewer than {s.min_n} "
        "agents (no interval, no test). Agents are seeds here, so n is the number of seeds "
        "(times personas when they are pooled).")
    doc.table(contrasts_table(metrics))


def _activation_curves(doc: DocumentWriter, metrics: ReportMetrics,
                       shared: ReportMetrics) -> None:
    doc.heading(3, "Activation by step", "activation-curves")
    doc.paragraph(
        "z of the activation reading on each axis (the raw projection measured from the "
        "default assistant's mean in the axis file, in its standard deviations; 0 is the "
        "default assistant), per condition: on probes, each round's mean over its probes; on "
        "replies, each reply. Each agent counts once per step; the band is the "
        f"{round(100 * metrics.settings.confidence)}% bootstrap interval of the mean where "
        f"at least {metrics.settings.min_n} agents share the step. On the assistant axis "
        "lower z is further from the assistant; on a persona axis higher z is nearer the "
        "persona. Raw projections are in the JSON report (`activation_curves`).")
    if metrics.activation_readers:
        doc.paragraph("Read with (from each run's manifest.json, or the score details where "
                      "the manifest does not record it):")
        doc.table(readers_table(metrics.activation_readers))
    pairs = sorted({(a.target, a.axis) for c in metrics.conditions
                    for a in c.activation_curves}, key=lambda p: (p[0] != "message", p[1]))
    for target, axis in pairs:
        doc.figure(FigureJob(activation_figure, (shared, target, axis)),
                   f"activation-{TARGET_NAMES[target]}-{axis}",
                   f"activation z on the {axis} axis on {TARGET_NAMES[target]} by condition")


def _activation_deltas(doc: DocumentWriter, metrics: ReportMetrics,
                       labels: dict[str, str]) -> None:
    doc.heading(3, f"Activation deltas: {labels['activation']}", "activation-deltas")
    doc.paragraph(
        "Raw projection onto the axis (and its z against the axis file's default "
        "distribution) after minus before each memory event: on probes, the rounds right "
        "before and after the event (mean over a round's probes); on replies, the agent's "
        "last reply before the event and its first reply after it, counted only when no other "
        "memory event of the agent lies between those two replies. Each agent's mean delta per "
        "kind, then the mean over agents with a "
        f"{round(100 * metrics.settings.confidence)}% bootstrap interval where at least "
        f"{metrics.settings.min_n} agents share the kind. Signs: the assistant axis is "
        "'default minus roles', so a positive delta moved the reading towards the default "
        "assistant (away from a role; the [0,1] activation value falls); a persona axis is "
        "'persona minus default', so a positive delta moved it towards the persona. z is "
        "measured from the default assistant's mean in the axis file. The model reading the "
        "text may not be the model that wrote it.")
    doc.table(condition_activation_table(metrics.conditions))


def _run(doc: DocumentWriter, run: RunMetrics, events: list[Event],
         labels: dict[str, str]) -> None:
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
    spec = next((e.spec for e in events if isinstance(e, RunStart)), {})
    for agent in run.agents:
        _agent(doc, run.run_id, agent, labels)
        _contents(doc, run.run_id, agent, events, spec)
        doc.heading(4, "Probe answers", f"answers-{key}-{slug(agent.agent_id)}")
        if agent.agent_id in answers:
            doc.answers(answers[agent.agent_id])
        else:
            doc.paragraph("no probe answers")


def _agent(doc: DocumentWriter, run_id: str, agent: AgentMetrics,
           labels: dict[str, str]) -> None:
    key = f"{slug(run_id)}-{slug(agent.agent_id)}"
    doc.heading(3, f"Agent {agent.agent_id} · {agent.condition} · {agent.model}",
                f"agent-{key}")
    doc.table(agent_summary(agent))
    doc.heading(4, "Identity curves", f"identity-{key}")
    doc.paragraph("Large markers are probe rounds (click one for the answers behind it); small "
                  "green dots are the agent's replies. Vertical markers are memory events "
                  "(click for the event; kind* marks a memory plugin's own kind); red marks "
                  "breaks in probe answers.")
    doc.figure(FigureJob(identity_figure, (run_id, agent, labels)),
               f"{run_id}-{agent.agent_id}-identity",
               f"identity curves of {agent.agent_id}")
    doc.heading(4, "Event deltas", f"deltas-{key}")
    doc.table(agent_deltas(run_id, agent))
    if agent.activation_deltas:
        doc.heading(4, f"Activation deltas: {labels['activation']}", f"activation-{key}")
        doc.paragraph("Raw projection (z) read before and after each memory event, and the "
                      "change; 'shared with' counts other memory events between the two "
                      "replies, which share the reply delta.")
        doc.table(activation_table(run_id, agent))
    doc.heading(4, "Memory text scores", f"memory-{key}")
    doc.paragraph("Does the memory text (summaries, notes, core edits) still speak as the "
                  "persona? Scores of the text itself, per scorer.")
    doc.table(memory_table(run_id, agent, memory_scorers(agent)))
    doc.heading(4, "Token shares", f"tokens-{key}")
    doc.figure(FigureJob(context_figure, (agent,)), f"{run_id}-{agent.agent_id}-context",
               f"context share per section of {agent.agent_id}")


def _contents(doc: DocumentWriter, run_id: str, agent: AgentMetrics, events: list[Event],
              spec: dict[str, Any]) -> None:
    """What the agent's memory held at the end, as its memory events tell (only the designs
    that report these contents: memory stream, facts, sleep-time rewrites, files)."""
    contents = memory_contents(events, spec, agent.agent_id)
    if contents.empty:
        return
    key = f"{slug(run_id)}-{slug(agent.agent_id)}"
    doc.heading(4, "Memory contents", f"contents-{key}")
    doc.paragraph("Rebuilt from the memory events: the state at the end of the run, and the "
                  "changes that led to it (#n links to the memory event).")
    if contents.stream:
        doc.paragraph("Memory stream: observations with the importance (1-10) the importance "
                      "rater gave each.")
        doc.table(stream_table(run_id, contents))
    if contents.reflections:
        doc.paragraph("Reflections, with the memories each was drawn from.")
        doc.table(reflections_table(run_id, contents))
    if contents.facts:
        doc.paragraph("Fact table: each fact now and its history (ADD, UPDATE old → new, "
                      "DELETE).")
        doc.table(facts_table(run_id, contents))
    if contents.rewrites:
        doc.paragraph("Core blocks rewritten by the sleep-time agent: old and new text.")
        doc.table(rewrites_table(run_id, contents))
    if contents.files:
        doc.paragraph("Memory files at the end: always loaded, open (in context), closed or "
                      "deleted; text and edits.")
        doc.table(files_table(run_id, contents))
