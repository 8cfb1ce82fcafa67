"""Report figures mark a memory plugin's own event kinds, each in its own colour, by name."""

from __future__ import annotations

from matplotlib.colors import to_hex

from scaffold.metrics import MemoryRecord
from scaffold.report._plots import KIND_COLORS, _memory_markers, _new_figure, plot_style


def record(seq: int, step: int, kind: str, status: str = "ok") -> MemoryRecord:
    return MemoryRecord(seq=seq, step=step, kind=kind, status=status, backend="keyword",
                        author="system", tokens_before=0, tokens_after=0, text="")


def test_plugin_kinds_get_their_own_marker_colour_and_name() -> None:
    memory = [record(1, 2, "summarize"), record(2, 3, "unpin"), record(3, 4, "insert"),
              record(4, 5, "rebalance", "failed"), record(5, 6, "unpin")]
    with plot_style():
        ax = _new_figure().subplots()
        _memory_markers(ax, "run-1", memory)
        lines = ax.get_lines()
        texts = [t.get_text() for t in ax.texts]
    assert [line.get_xdata()[0] for line in lines] == [2, 3, 5, 6]  # inserts are not marked
    assert [line.get_label() for line in lines][:3] == ["summarize", "unpin*", "rebalance*"]
    assert texts == ["summarize", "unpin*", "rebalance* (failed)", "unpin*"]
    colours = [to_hex(line.get_color()) for line in lines]
    assert colours[0] == to_hex(KIND_COLORS["summarize"])
    assert colours[1] == colours[3] != colours[2]  # one colour per plugin kind
    assert len({colours[0], colours[1], colours[2]}) == 3
    assert lines[2].get_linestyle() == "--"  # failed
