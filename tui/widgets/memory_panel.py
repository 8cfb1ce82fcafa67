"""The memory panel: token shares, summary, core blocks, retrieved memories, the memory stream
and reflections, facts with their history, sleep-time rewrites, memory files, plugins' kinds."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from scaffold.metrics import MemoryContents
from tui._render import token_bar, token_legend
from tui.state import AgentView

_TEXT_CHARS = 600
_LINE_CHARS = 160
_SHOWN = 5
"""Memories, reflections and fact changes listed (the newest)."""
_LOADED_STYLE = {"always": "green", "open": "cyan", "closed": "dim", "deleted": "red"}


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
    parts += _contents(agent.contents)
    for kind, (step, backend, text) in reversed(agent.other.items()):
        parts += _section(f"{backend} · {kind} · step {step}", text)
    return Group(*parts)


def _section(title: str, text: str) -> list[RenderableType]:
    if not text:
        return []
    body = text if len(text) <= _TEXT_CHARS else text[:_TEXT_CHARS - 1] + "…"
    return [Text(title, style="bold underline"), Text(body)]


def _cut(text: str, chars: int = _LINE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[:chars - 1] + "…"


def _contents(c: MemoryContents) -> list[RenderableType]:
    """The sections of the memory designs that report their contents."""
    return [*_stream(c), *_facts(c), *_rewrites(c), *_files(c)]


def _stream(c: MemoryContents) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if c.reflections:
        lines = Text()
        for r in list(c.reflections.values())[-_SHOWN:][::-1]:
            lines.append(f"[{r.importance}] ", style="bold magenta")
            lines.append(_cut(r.text) + "\n")
            if r.question:
                lines.append(f"   asked: {_cut(r.question, 80)}\n", style="dim")
            for cite in r.cites:
                src = c.stream.get(cite) or c.reflections.get(cite)
                what = f"[{src.importance}] {_cut(src.text, 80)}" if src else "(not kept)"
                lines.append(f"   ← {cite} {what}\n", style="dim")
        parts += [Text(f"reflections · {len(c.reflections)} kept", style="bold underline"),
                  lines]
    if c.stream:
        lines = Text()
        for m in list(c.stream.values())[-_SHOWN:][::-1]:
            lines.append(f"[{'-' if m.importance is None else m.importance:>2}] ",
                         style="bold yellow")
            lines.append(f"step {m.step} · {_cut(m.text)}\n")
        parts += [Text("memory stream · importance", style="bold underline"), lines]
    return parts


def _facts(c: MemoryContents) -> list[RenderableType]:
    if not c.facts:
        return []
    live = Text()
    for f in c.facts.values():
        if f.live:
            live.append(f"• {_cut(f.text)}\n")
    changes = sorted(((ch, f.id) for f in c.facts.values() for ch in f.history),
                     key=lambda pair: pair[0].seq)[-_SHOWN:]
    history = Text()
    for ch, fid in reversed(changes):
        style = {"ADD": "green", "UPDATE": "yellow", "DELETE": "red"}[ch.op]
        history.append(f"{ch.op:<6} ", style=f"bold {style}")
        history.append(f"step {ch.step} {fid}: ")
        if ch.op == "UPDATE":
            history.append(_cut(ch.old, 70), style="strike dim")
            history.append(" → " + _cut(ch.new, 70) + "\n")
        elif ch.op == "DELETE":
            history.append(_cut(ch.old, 140) + "\n", style="strike dim")
        else:
            history.append(_cut(ch.new, 140) + "\n")
    return [Text(f"facts · {sum(f.live for f in c.facts.values())} live", style="bold underline"),
            live or Text("(none live)", style="dim"),
            Text("fact history", style="bold underline"), history]


def _rewrites(c: MemoryContents) -> list[RenderableType]:
    if not c.rewrites:
        return []
    latest = {r.block: r for r in c.rewrites}
    body = Text()
    for block, r in latest.items():
        body.append(f"{block} · step {r.step} · {r.trigger} · ", style="bold")
        if r.status != "ok":
            body.append(f"failed ({r.reason}), kept\n", style="red")
        elif not r.changed:
            body.append("unchanged\n", style="dim")
        else:
            body.append("rewritten\n", style="yellow")
            body.append(_cut(r.old, 300) + "\n", style="strike dim")
            body.append(_cut(r.new, 300) + "\n")
    return [Text(f"sleep-time rewrites · {len(c.rewrites)} kept", style="bold underline"), body]


def _files(c: MemoryContents) -> list[RenderableType]:
    if not c.files:
        return []
    body = Text()
    for f in c.files.values():
        body.append(f"{f.path} ", style="bold")
        body.append(f"· {f.loaded}", style=_LOADED_STYLE.get(f.loaded, ""))
        if f.edits:
            e = f.edits[-1]
            body.append(f" · {e.op} at step {e.step}", style="dim")
        body.append("\n")
        if f.loaded in ("always", "open") and f.text:  # in context: what the model sees
            body.append(_cut(f.text, 300) + "\n")
    return [Text("memory files", style="bold underline"), body]
