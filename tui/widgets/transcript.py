"""The selected agent's conversation, and its probe rounds apart from it (they are measurements)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from scaffold.events import MessageEvent
from tui._render import one_line, score_text
from tui.state import RoundView
from tui.widgets._stream_log import StreamLog

_ROLE_STYLES = {"user": "bold cyan", "assistant": "bold green", "tool": "dim",
                "system": "dim"}
_ANSWER_CHARS = 160


class Transcript(StreamLog[MessageEvent]):
    """Messages as they are written: step, author, text."""

    def render_item(self, item: MessageEvent) -> RenderableType:
        """`[step] author: content`, coloured by role."""
        text = Text(f"{item.step:>3} ", style="dim")
        text.append(f"{item.author}: ", _ROLE_STYLES.get(item.role, "bold"))
        text.append(item.content or _tool_calls(item),
                    "dim" if item.role in ("tool", "system") else "")
        return text


def _tool_calls(item: MessageEvent) -> str:
    names = [str(c.get("name") or c.get("function", {}).get("name", "?"))
             for c in item.tool_calls or []]
    return f"(calls {', '.join(names)})" if names else ""


class ProbeLog(StreamLog[RoundView]):
    """One entry per probe round: step, trigger, mean score per scorer, then each answer."""

    def render_item(self, item: RoundView) -> RenderableType:
        """Round header with scores, then one line per probe."""
        text = Text(f"{item.step:>3} ", style="dim")
        text.append(item.trigger, "bold")
        for scorer in sorted(item.scores):
            text.append(f"  {scorer} ")
            text.append_text(score_text(item.mean(scorer)))
        for probe_id, answer in item.answers:
            text.append(f"\n    {probe_id}: ", "cyan")
            text.append(one_line(answer, _ANSWER_CHARS))
        return text
