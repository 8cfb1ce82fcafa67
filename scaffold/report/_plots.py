"""Report figures: identity curves, condition means, survival, context shares (SVG or PNG)."""

from __future__ import annotations

import io
import re
from typing import Any

from scaffold.metrics import AgentMetrics, Breaks, MemoryRecord, ReportMetrics, ScorerMetrics
from scaffold.report._tables import TARGET_NAMES, memory_anchor, round_anchor

KIND_COLORS = {"summarize": "tab:blue", "summary_rewrite": "tab:cyan", "truncate": "tab:orange",
               "retrieve": "tab:green", "core_edit": "tab:purple", "note": "tab:brown",
               "budget": "darkred"}
TRIGGERS = {"periodic": (0.0, "o", "tab:gray"), "before_memory": (-0.15, "v", "tab:olive"),
            "after_memory": (0.15, "^", "tab:blue"), "end": (0.0, "s", "black"),
            "manual": (0.0, "D", "tab:pink"), "reprobe": (0.0, "P", "tab:pink")}
"""Per trigger: x offset (so before/after rounds of one step stay apart), marker, colour."""
SECTIONS = ("persona", "core", "summary", "retrieved", "notes", "messages")
UNMARKED_KINDS = frozenset({"insert"})
"""Memory kinds not drawn as markers: they change no context and come every turn."""
OTHER_KIND_COLORS = ("tab:olive", "tab:pink", "tab:gray", "goldenrod", "teal", "slateblue")
"""Colours of memory kinds Scaffold does not know (plugins' own), in order of their names."""
MAX_MARKER_LABELS = 30
_RC: dict[str, Any] = {"svg.hashsalt": "scaffold", "svg.fonttype": "none", "font.size": 8}


def plot_style() -> Any:
    """Context manager with the report's matplotlib settings; build and save figures in it."""
    import matplotlib

    return matplotlib.rc_context(_RC)  # type: ignore[arg-type]  # keys typed as Literal


def _new_figure(rows: int = 1, height: float = 2.6) -> Any:
    # A bare Figure on an Agg canvas: no pyplot, so no global backend or figure registry.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 0.4 + height * rows), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def identity_figure(run_id: str, agent: AgentMetrics,
                    labels: dict[str, str] | None = None) -> Any | None:
    """One panel per scorer (and the index): probe round scores (linked to their answers) and
    reply scores, smoothed curves, memory events as labelled vertical markers, breaks shaded,
    half-life marked; None if no curves. `labels`: how to name a scorer's panel."""
    names = list(dict.fromkeys([*agent.scorers, *agent.replies]))
    if not names:
        return None
    fig = _new_figure(len(names))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    last = max((p.step for s in [*agent.scorers.values(), *agent.replies.values()]
                for p in s.curve), default=agent.steps)
    for ax, name in zip(axes, names, strict=True):
        _memory_markers(ax, run_id, agent.memory)
        _break_spans(ax, agent.breaks, max(last, agent.steps))
        if name in agent.replies:
            _reply_curve(ax, agent.replies[name])
        if name in agent.scorers:
            _curve(ax, run_id, agent.scorers[name])
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel((labels or {}).get(name, name).replace(" (", "\n("))
        _integer_steps(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6)
    fig.suptitle(f"{agent.agent_id}: identity score by step ({agent.condition}, "
                 f"{agent.model})", fontsize=9)
    axes[-1].set_xlabel("step")
    return fig


def _reply_curve(ax: Any, metrics: ScorerMetrics) -> None:
    """Reply scores as small dots with their smoothed line (drawn under the probe rounds)."""
    curve = metrics.curve
    ax.plot([p.step for p in curve], [p.smoothed for p in curve], color="tab:green", lw=1.0,
            ls="--", label=f"replies smoothed ({metrics.smooth_steps} steps)")
    ax.scatter([p.step for p in curve], [p.value for p in curve], s=7, color="tab:green",
               alpha=0.6, zorder=2, label="reply")
    hl = metrics.half_life
    if not hl.censored and hl.step is not None:
        ax.axvline(hl.step, color="tab:green", ls=":", lw=1, label=f"reply half-life {hl.step}")


def _curve(ax: Any, run_id: str, metrics: ScorerMetrics) -> None:
    curve = metrics.curve
    xs = [p.step + TRIGGERS.get(p.trigger, (0.0,))[0] for p in curve]
    ax.plot(xs, [p.smoothed for p in curve], color="tab:red", lw=1.2,
            label=f"probes smoothed ({metrics.smooth_steps} steps)")
    for trigger, (offset, marker, color) in TRIGGERS.items():
        points = [p for p in curve if p.trigger == trigger]
        if not points:
            continue
        sc = ax.scatter([p.step + offset for p in points], [p.value for p in points], s=22,
                        marker=marker, color=color, zorder=3, label=trigger)
        sc.set_urls(["#" + round_anchor(run_id, p.round_id) for p in points])
    hl = metrics.half_life
    if not hl.censored and hl.step is not None:
        ax.axvline(hl.step, color="black", ls=":", lw=1, label=f"half-life {hl.step}")


def kind_style(kind: str, others: list[str]) -> tuple[str, str]:
    """Colour and legend name of a memory event kind: built-in kinds by name; a plugin's own
    kinds (`others`, sorted) each get their own colour and are named `kind*` in the legend."""
    if kind in KIND_COLORS:
        return KIND_COLORS[kind], kind
    return OTHER_KIND_COLORS[others.index(kind) % len(OTHER_KIND_COLORS)], f"{kind}*"


def _memory_markers(ax: Any, run_id: str, memory: list[MemoryRecord]) -> None:
    marked = [m for m in memory if m.kind not in UNMARKED_KINDS]
    others = sorted({m.kind for m in marked} - set(KIND_COLORS))
    seen: set[str] = set()
    for m in marked:
        color, name = kind_style(m.kind, others)
        label = name if m.kind not in seen else None
        seen.add(m.kind)
        line = ax.axvline(m.step, color=color, lw=1.4, alpha=0.45, label=label,
                          ls="-" if m.status == "ok" else "--")
        line.set_url("#" + memory_anchor(run_id, m.seq))
        if len(marked) <= MAX_MARKER_LABELS:
            ax.text(m.step, 1.02, name + ("" if m.status == "ok" else " (failed)"),
                    transform=ax.get_xaxis_transform(), rotation=90, fontsize=5.5,
                    color=color, ha="center", va="bottom")


def _break_spans(ax: Any, breaks: Breaks, last: int) -> None:
    for i, ep in enumerate(breaks.episodes):
        end = ep.recovery_step if ep.recovery_step is not None else last
        ax.axvspan(ep.break_step, max(end, ep.break_step + 0.3), color="red", alpha=0.1)
        ax.axvline(ep.break_step, color="red", lw=1.6,
                   label=f"break (on {breaks.scorer})" if i == 0 else None)




def condition_figure(metrics: ReportMetrics, scorer: str, target: str = "probe",
                     label: str | None = None) -> Any | None:
    """Mean score by step per condition, each agent's (seed's) value as a dot, and the
    bootstrap interval band where there are enough agents for one."""
    series = [(c, c.series(target)[scorer]) for c in metrics.conditions
              if scorer in c.series(target)]
    if not series:
        return None
    fig = _new_figure(height=3.2)
    ax = fig.subplots()
    for c, s in series:
        steps = [p.step for p in s.curve]
        note = "" if not c.too_few else ", too few for an interval"
        line, = ax.plot(steps, [p.mean for p in s.curve], lw=1.5,
                        label=f"{c.condition} | {c.model} (n={s.n_agents}{note})")
        banded = [p for p in s.curve if p.low is not None and p.high is not None]
        ax.fill_between([p.step for p in banded], [p.low for p in banded],
                        [p.high for p in banded], color=line.get_color(), alpha=0.2)
        ax.scatter([p.step for p in s.curve for _ in p.values],
                   [v for p in s.curve for v in p.values], s=5, color=line.get_color(),
                   alpha=0.5)
    pct = round(100 * metrics.settings.confidence)
    what = TARGET_NAMES[target] + (" (latest carried forward)" if target == "memory" else "")
    label = label or scorer
    ax.set(title=f"{label} on {what}: mean by condition, dots per agent ({pct}% bootstrap "
                 f"interval where n >= {metrics.settings.min_n})",
           xlabel="step", ylabel=scorer, ylim=(-0.05, 1.05))
    _integer_steps(ax)
    ax.legend(fontsize=7)
    return fig


def activation_figure(metrics: ReportMetrics, target: str, axis: str) -> Any | None:
    """Mean activation z by step per condition on one axis and target, each agent's value as
    a dot, the bootstrap interval band where there are enough agents for one; 0 is the
    default assistant's mean in the axis file."""
    series = [(c, a) for c in metrics.conditions for a in c.activation_curves
              if a.target == target and a.axis == axis]
    if not series:
        return None
    fig = _new_figure(height=3.2)
    ax = fig.subplots()
    ax.axhline(0.0, color="black", lw=0.8, ls=":")
    for c, a in series:
        line, = ax.plot([p.step for p in a.z], [p.mean for p in a.z], lw=1.5,
                        label=f"{c.condition} | {c.model} (n={a.n_agents})")
        banded = [p for p in a.z if p.low is not None and p.high is not None]
        ax.fill_between([p.step for p in banded], [p.low for p in banded],
                        [p.high for p in banded], color=line.get_color(), alpha=0.2)
        ax.scatter([p.step for p in a.z for _ in p.values], [v for p in a.z for v in p.values],
                   s=5, color=line.get_color(), alpha=0.5)
    what = TARGET_NAMES[target]
    ax.set(title=f"{axis} axis on {what}: mean z by condition, dots per agent "
                 f"({round(100 * metrics.settings.confidence)}% bootstrap interval where "
                 f"n >= {metrics.settings.min_n})",
           xlabel="step", ylabel="z (0 = default assistant)")
    _integer_steps(ax)
    ax.legend(fontsize=7)
    return fig


def survival_figure(metrics: ReportMetrics, scorer: str, target: str = "probe",
                    label: str | None = None) -> Any | None:
    """Kaplan-Meier curve of the persona half-life per condition ('+' marks censoring); agents
    that never held the persona are left out and counted in the legend."""
    series = [(c, c.series(target)[scorer]) for c in metrics.conditions
              if scorer in c.series(target) and c.series(target)[scorer].survival]
    if not series:
        return None
    fig = _new_figure(height=3.0)
    ax = fig.subplots()
    end = max((r.step for _, s in series for r in s.survival), default=0)
    for c, s in series:
        # drawn on to the last step any condition was followed, at its final level
        steps = [0, *(r.step for r in s.survival), end]
        surv = [1.0, *(r.survival for r in s.survival)]
        surv.append(surv[-1])
        held = f", {s.never_held} never held" if s.never_held else ""
        line, = ax.step(steps, surv, where="post",
                        label=f"{c.condition} | {c.model} (n={s.n_agents}{held})")
        cens = [r for r in s.survival if r.censored]
        ax.plot([r.step for r in cens], [r.survival for r in cens], "+", ms=9,
                color=line.get_color())
    what = TARGET_NAMES[target]
    ax.set(title=f"{label or scorer} on {what}: fraction of agents whose persona has not "
                 "halved",
           xlabel="step", ylabel="surviving", ylim=(-0.05, 1.05))
    _integer_steps(ax)
    ax.legend(fontsize=7)
    return fig


def context_figure(agent: AgentMetrics) -> Any | None:
    """Share of the context each section takes, by step (stacked area)."""
    points = [p for p in agent.context if sum(p.sections.values()) > 0]
    if not points:
        return None
    names = [s for s in SECTIONS if any(p.sections.get(s) for p in points)]
    names += sorted({k for p in points for k in p.sections} - set(SECTIONS))
    shares = [[p.sections.get(n, 0) / sum(p.sections.values()) for p in points] for n in names]
    fig = _new_figure(height=2.4)
    ax = fig.subplots()
    ax.stackplot([p.step for p in points], shares, labels=names, alpha=0.85)
    ax.set(title=f"{agent.agent_id}: context share per section", xlabel="step",
           ylabel="share of tokens", ylim=(0, 1))
    _integer_steps(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    return fig


def _integer_steps(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def raw_svg(fig: Any) -> str:
    """The figure as SVG text, from the `<svg` element on (no XML prolog, no date: the same
    events give the same page)."""
    buf = io.StringIO()
    with plot_style():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def prefix_svg(svg: str, prefix: str) -> str:
    """Inline SVG: ids prefixed so several figures can share one page, and in-page links
    opened in place (matplotlib marks every link target=_blank)."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'(url\(#|href="#)([^")]+)',
                 lambda m: m.group(1) + (f"{prefix}-{m.group(2)}" if m.group(2) in ids
                                         else m.group(2)), svg)
    svg = re.sub(r'<a xlink:href="(#[^"]*)" target="_blank">',
                 r'<a href="\1" xlink:href="\1">', svg)
    return svg


def png_bytes(fig: Any) -> bytes:
    """The figure as a PNG file's bytes."""
    buf = io.BytesIO()
    with plot_style():
        fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()
