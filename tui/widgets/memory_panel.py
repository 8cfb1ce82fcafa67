"""The memory panel: token shares, summary, core blocks, retrieved memories, plugins' own kinds."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui._render import token_bar, token_legend
from tui.state import AgentView

_TEXT_CHARS = 600


class MemoryPanel(VerticalScroll):
    """What the selected agent's memory holds now, as its events tell."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self._shown: tuple[str, int, int] | None = None

    def compose(self) -> ComposeResult:
        """One static body, replaced when the agent's memory changes."""
        yield Static(Text("no agent yet", style="dim"))

    def show(self, agent: AgentView | None) -> None:
        """Render `agent`'s memory (only when it changed)."""
        width = max(10, self.size.width - 4)
        key = (agent.key, agent.version, width) if agent else None
        if key == self._shown:
            return
        self._shown = key
        self.query_one(Static).update(_body(agent, width) if agent else
                                      Text("no agent yet", style="dim"))


def _body(agent: AgentView, width: int) -> RenderableType:
    parts: list[RenderableType] = [
        token_bar(agent.sections, agent.budget_tokens, width),
        token_legend(agent.sections, agent.total_tokens, agent.budget_tokens),
    ]
    parts += _section("summary", agent.summary)
    for block, text in agent.core.items():
        parts += _section(f"core · {block}", text)
    for step, text in reversed(agent.retrieved):
        parts += _section(f"retrieved · step {step}", text)
    for step, text in reversed(agent.notes):
        parts += _section(f"note · step {step}", text)
    for kind, (step, backend, text) in reversed(agent.other.items()):
        parts += _section(f"{backend} · {kind} · step {step}", text)
    return Group(*parts)


def _section(title: str, text: str) -> list[RenderableType]:
    if not text:
        return []
    body = text if len(text) <= _TEXT_CHARS else text[:_TEXT_CHARS - 1] + "…"
    return [Text(title, style="bold underline"), Text(body)]
