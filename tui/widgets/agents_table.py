"""The agents table: one row per agent with step, the run's status, scores and a sparkline."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from scaffold.metrics import INDEX
from tui._render import score_text, sparkline
from tui.messages import AgentSelected
from tui.state import AgentView, Dashboard

_FIXED = ("agent", "persona", "memory", "step")
REPLIES = "replies"
"""Column of the reply index (smoothed over the last replies)."""
_SCORES = (INDEX, REPLIES)
"""The identity index on probe rounds and on replies, before each scorer's latest round."""


def matches(agent: AgentView, text: str) -> bool:
    """Whether an agent passes the filter (its run, id, persona, memory or status)."""
    if not text:
        return True
    hay = " ".join((agent.run.run_id, agent.agent_id, agent.persona, agent.condition,
                    agent.run.display_status)).lower()
    return text.lower() in hay


class AgentsTable(DataTable[Text]):
    """Agents of every followed run; rows are updated in place, only when they changed."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._columns: tuple[str, ...] = ()
        self._keys: list[str] = []
        self._seen: dict[str, tuple[int, str]] = {}

    @property
    def shown_keys(self) -> list[str]:
        """Keys of the agents shown, in row order."""
        return list(self._keys)

    @property
    def selected_key(self) -> str | None:
        """Key of the agent under the cursor, or None while the table is empty."""
        if not self._keys:
            return None
        return self._keys[min(max(self.cursor_row, 0), len(self._keys) - 1)]

    def sync(self, board: Dashboard, text: str) -> None:
        """Show the agents that pass the filter, with their current numbers."""
        columns = (("run",) if len(board.runs) > 1 else ()) + _FIXED + ("status",) + _SCORES \
            + tuple(board.scorers) + ("curve",)
        wanted = [a for a in board.agents.values() if matches(a, text)]
        keys = [a.key for a in wanted]
        if columns != self._columns:
            self.clear(columns=True)
            for name in columns:
                self.add_column(name, key=name)
            self._columns, self._keys = columns, []
        if keys[:len(self._keys)] != self._keys:
            self._rebuild(wanted)
        for agent in wanted[len(self._keys):]:
            self._add_row(agent)
        for agent in wanted:
            stamp = (agent.version, agent.run.display_status)
            if self._seen.get(agent.key) != stamp:
                self._seen[agent.key] = stamp
                for name, cell in zip(self._columns, self._cells(agent), strict=True):
                    self.update_cell(agent.key, name, cell)

    def _rebuild(self, wanted: list[AgentView]) -> None:
        """Rows again from scratch (the filter changed), keeping the cursor on its agent."""
        selected = self.selected_key
        self.clear()
        self._keys, self._seen = [], {}
        for agent in wanted:
            self._add_row(agent)
        if selected in self._keys:
            self.move_cursor(row=self._keys.index(selected))

    def _add_row(self, agent: AgentView) -> None:
        self.add_row(*self._cells(agent), key=agent.key)
        self._keys.append(agent.key)
        self._seen[agent.key] = (agent.version, agent.run.display_status)

    def _cells(self, agent: AgentView) -> list[Text]:
        curves = agent.curves()
        identity = curves.identity
        status = agent.run.display_status
        values = {
            "run": Text(agent.run.run_id),
            "agent": Text(agent.agent_id, style="bold"),
            "persona": Text(agent.persona),
            "memory": Text(agent.condition),
            "step": Text(str(agent.step), justify="right"),
            "curve": sparkline([p.value for p in curves.by_scorer.get(identity, [])]
                               if identity else []),
            INDEX: score_text(curves.latest(INDEX)),
            REPLIES: score_text(curves.latest_reply()),
            "status": Text(status, style=_STATUS_STYLES.get(status, "yellow")),
        }
        return [values[name] if name in values else score_text(curves.latest(name))
                for name in self._columns]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Tell the screen which agent is selected now."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(AgentSelected(str(event.row_key.value)))


_STATUS_STYLES = {"running": "green", "done": "bold", "failed": "bold red",
                  "interrupted": "red", "paused": "bold yellow"}
