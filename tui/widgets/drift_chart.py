"""The identity-drift chart: score lines over steps, memory events as markers, breaks in red."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from tui._render import LOW_SCORE
from tui.state import Marker, marker_label

PALETTE = ("cyan", "green", "yellow", "blue", "orange", "white", "magenta", "gray")
"""Line colours; red is kept for breaks and failed memory operations."""
MARKER_ROW = 1.08
"""Height of the memory-event labels, above the scores."""


@dataclass(frozen=True)
class ChartLine:
    """One curve: a scorer of the selected agent, or one agent's identity score."""

    label: str
    steps: tuple[int, ...]
    values: tuple[float, ...]


class DriftChart(PlotextPlot):
    """Redraws only when what it shows changed."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self._shown: object = None
        self._last = 1

    def render(self) -> RenderResult:
        """The plot, with as many ticks as fit: plotext drops the labels that collide in an
        order that changes from process to process, so they must never collide."""
        rows = self.size.height - 4  # the frame, x tick labels and the x label take four
        self.plt.yticks([0, 0.25, 0.5, 0.75, 1] if rows >= 9 else [0, 0.5, 1] if rows >= 3
                        else [0, 1])
        self.plt.xticks(_ticks(self._last, most=max(2, (self.size.width - 6) // 6)))
        return super().render()

    def show(self, lines: list[ChartLine], markers: list[Marker], breaks: list[int]) -> None:
        """Draw `lines` with memory `markers` (S summarize, W summary rewrite, R retrieve,
        C core edit, N note, T truncate, B over budget, E reflection, A/U/D fact added/
        updated/deleted, Z sleep-time rewrite, M/O/K memory file edited/opened/closed, `*kind`
        for a plugin's own kinds; red
        when the operation failed) and red `breaks`."""
        key = (tuple(lines), tuple(markers), tuple(breaks))
        if key == self._shown:
            return
        self._shown = key
        plt = self.plt
        plt.clear_data()
        last = max([1, *(s for line in lines for s in line.steps),
                    *(m.step for m in markers), *breaks])
        self._last = last
        plt.xlim(0, last + 0.5)
        plt.ylim(0, MARKER_ROW + 0.04)
        plt.xlabel("step")
        plt.hline(LOW_SCORE, "gray")
        for i, line in enumerate(lines):
            plt.plot(list(line.steps), list(line.values), label=line.label,
                     color=PALETTE[i % len(PALETTE)], marker="braille")
        for step, (labels, failed) in sorted(_group(markers).items()):
            plt.text(labels, step, MARKER_ROW, color="red" if failed else "yellow")
        for step in breaks:
            plt.vline(step, "red")
            plt.text("break", step, 0.03, color="red")
        self.refresh()


def _group(markers: list[Marker]) -> dict[int, tuple[str, bool]]:
    """Per step, the labels of its memory events (each once: built-in letters together, then
    plugins' `*kind` labels) and whether any failed."""
    labels: dict[int, list[str]] = defaultdict(list)
    failed: dict[int, bool] = defaultdict(bool)
    for m in markers:
        label = marker_label(m.kind)
        if label not in labels[m.step]:
            labels[m.step].append(label)
        failed[m.step] |= not m.ok
    return {step: (_join(found), failed[step]) for step, found in labels.items()}


def _join(labels: list[str]) -> str:
    letters = "".join(x for x in labels if len(x) == 1)
    return " ".join([letters] * bool(letters) + [x for x in labels if len(x) > 1])


def _ticks(last: int, most: int = 10) -> list[int]:
    """Whole steps from 0 to `last`, at most `most` of them."""
    every = max(1, -(-last // most))
    return list(range(0, last + 1, every))
