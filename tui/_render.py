"""Small Rich renderings shared by the widgets: sparklines, score cells, the token-share bar."""

from __future__ import annotations

from rich.text import Text

from scaffold.metrics import BREAK_THRESHOLD as LOW_SCORE

SECTION_STYLES = {"persona": "magenta", "core": "blue", "summary": "green",
                  "retrieved": "yellow", "notes": "cyan", "messages": "white"}
"""Context sections in the order the memory panel's bar draws them."""
_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 12) -> Text:
    """The last `width` values (each in [0, 1]) as bar characters; red where low."""
    text = Text()
    for v in values[-width:]:
        v = min(1.0, max(0.0, v))
        text.append(_BARS[round(v * (len(_BARS) - 1))], "red" if v < LOW_SCORE else "green")
    return text


def score_text(value: float | None) -> Text:
    """A score cell: two decimals, red when low, '-' when there is none yet."""
    if value is None:
        return Text("-", style="dim", justify="right")
    return Text(f"{value:.2f}", style="bold red" if value < LOW_SCORE else "",
                justify="right")


def token_bar(sections: dict[str, int], budget: int, width: int) -> Text:
    """One line of blocks, one colour per context section, scaled to the budget."""
    total = max(budget, sum(sections.values()), 1)
    text = Text()
    used = 0
    for name, style in SECTION_STYLES.items():
        cells = round(sections.get(name, 0) * width / total)
        cells = min(cells, width - used)
        text.append("█" * cells, style)
        used += cells
    text.append("░" * (width - used), "dim")
    return text


def token_legend(sections: dict[str, int], total: int, budget: int) -> Text:
    """Tokens per section, coloured like the bar, then the total against the budget."""
    text = Text()
    for name, style in SECTION_STYLES.items():
        text.append("■ ", style)
        text.append(f"{name} {sections.get(name, 0)}  ")
    text.append(f"= {total}/{budget} tokens", "bold")
    return text


def one_line(text: str, limit: int) -> str:
    """The text on one line (whitespace runs collapsed), cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
