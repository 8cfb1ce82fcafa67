"""The main screen: agents, drift chart, memory, transcript, probe rounds and the event log."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header

from tui.messages import AgentSelected, FilterChanged
from scaffold.metrics import INDEX
from tui.state import ACTIVATION, AgentView, Curves, Dashboard, Marker
from tui.widgets import (
    AgentsTable,
    ChartLine,
    DriftChart,
    EventLog,
    FilterBar,
    MemoryPanel,
    ProbeLog,
    Transcript,
)

ALL_AGENTS_LINES = 8
"""Most agents drawn at once on the all-agents chart (the first ones the filter shows)."""


class MainScreen(Screen[None]):
    """Holds what is selected and filtered; `sync` redraws from the dashboard."""

    def __init__(self, board: Dashboard, blink: bool = True) -> None:
        super().__init__()
        self.board = board
        self.blink = blink
        self.selected: str | None = None
        self.filter_text = ""
        self.chart_all = False
        self.ready = False
        """True once the panes are mounted (redraws before that are skipped)."""

    def compose(self) -> ComposeResult:
        """Three rows of two panes between the header and the footer."""
        yield Header()
        with Grid(id="panes"):
            with Vertical(id="agents-pane"):
                yield FilterBar(id="filter", blink=self.blink)
                yield AgentsTable(id="agents")
            yield EventLog(id="log", max_lines=self.board.limits.log)
            yield DriftChart(id="chart")
            yield MemoryPanel(id="memory")
            yield Transcript(id="transcript", max_lines=self.board.limits.transcript)
            yield ProbeLog(id="probes", max_lines=self.board.limits.probes * 8)
        yield Footer()

    def on_mount(self) -> None:
        """Titles on the pane borders; the table has the focus."""
        self.query_one("#agents-pane").border_title = "agents"
        self.query_one(EventLog).border_title = "events"
        self.query_one(AgentsTable).focus()
        self.ready = True
        self.sync()

    @property
    def agent(self) -> AgentView | None:
        """The selected agent, if any."""
        return self.board.agents.get(self.selected) if self.selected else None

    def sync(self) -> None:
        """Redraw every pane from the dashboard (each pane skips work when nothing changed)."""
        if not self.ready:  # the panes are not there yet: the first redraw is in on_mount
            return
        table = self.query_one(AgentsTable)
        table.sync(self.board, self.filter_text)
        if self.selected not in self.board.agents or self.selected not in table.shown_keys:
            self.selected = table.selected_key
        log = self.query_one(EventLog)
        log.show_runs = len(self.board.runs) > 1
        log.show(self.board.log, "log")
        self._sync_agent()

    def _sync_agent(self) -> None:
        agent = self.agent
        name = agent.agent_id if agent else "no agent selected"
        chart = self.query_one(DriftChart)
        if self.chart_all:
            chart.border_title = "identity drift · all agents (a: selected agent)"
            chart.show(*self._all_lines())
        else:
            chart.border_title = f"identity drift · {name} (a: all agents)"
            chart.show(*_agent_lines(agent))
        self.query_one(MemoryPanel).border_title = f"memory · {name}"
        self.query_one(MemoryPanel).show(agent)
        transcript = self.query_one(Transcript)
        transcript.border_title = f"transcript · {name}"
        transcript.show(agent.transcript if agent else None, self.selected)
        probes = self.query_one(ProbeLog)
        probes.border_title = f"probe rounds · {name}"
        probes.show(agent.probes if agent else None, self.selected)

    def _all_lines(self) -> tuple[list[ChartLine], list[Marker], list[int]]:
        table = self.query_one(AgentsTable)
        lines: list[ChartLine] = []
        breaks: list[int] = []
        for key in table.shown_keys[:ALL_AGENTS_LINES]:
            curves = self.board.agents[key].curves()
            scorer = curves.identity
            if scorer:
                points = curves.by_scorer[scorer]
                lines.append(ChartLine(f"{self.board.agents[key].agent_id} {scorer}",
                                       tuple(p.step for p in points),
                                       tuple(p.value for p in points)))
            breaks += _break_steps(curves)
        return lines, [], sorted(set(breaks))

    def on_agent_selected(self, message: AgentSelected) -> None:
        """Show the newly selected agent at once."""
        if message.key != self.selected:
            self.selected = message.key
            if self.ready:
                self._sync_agent()

    def on_filter_changed(self, message: FilterChanged) -> None:
        """Refilter the table at once."""
        self.filter_text = message.text
        self.sync()

    def toggle_chart(self) -> None:
        """Switch the chart between the selected agent's scorers and every agent."""
        self.chart_all = not self.chart_all
        if self.ready:
            self._sync_agent()


def _agent_lines(agent: AgentView | None) -> tuple[list[ChartLine], list[Marker], list[int]]:
    """Each scorer and the index on probe rounds, and the index and the activation on replies
    (smoothed: one reply alone is noisy); breaks in probe answers and in replies."""
    if agent is None:
        return [], [], []
    curves = agent.curves()
    lines = [ChartLine(agent.label(scorer), tuple(p.step for p in points),
                       tuple(p.value for p in points))
             for scorer, points in curves.by_scorer.items()]
    for scorer in (INDEX, ACTIVATION):  # the activation read on every reply, beside the index
        said = curves.replies.get(scorer)
        if said:
            lines.append(ChartLine(f"{agent.label(scorer)} · replies",
                                   tuple(p.step for p in said), tuple(p.smoothed for p in said)))
    return lines, list(agent.markers), _break_steps(curves)


def _break_steps(curves: Curves) -> list[int]:
    """Steps where a break began, in probe answers or in replies."""
    return sorted({e.break_step for b in (curves.breaks, curves.reply_breaks)
                   for e in b.episodes})
