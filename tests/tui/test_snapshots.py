"""SVG snapshots of the screen (textual==8.2.8, seeded scripted run, cursor blink off).

Regenerate after an intended change with `pytest tests/tui --snapshot-update`, then look at
the SVGs under tests/tui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.tui.conftest import (
    SNAPSHOT_SIZE,
    SyntheticRun,
    attach_app,
    read_to_the_end,
    settle,
)
from tui import ScaffoldApp


def _shot(snap_compare: Any, path: Path, keys: tuple[str, ...],
          size: tuple[int, int] = SNAPSHOT_SIZE, to_the_end: bool = True) -> bool:
    """Attach to `path`, read it (to the runs' end), press `keys`, compare the screen."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await (read_to_the_end(pilot) if to_the_end else settle(pilot))
        await pilot.press(*keys)
        assert isinstance(pilot.app, ScaffoldApp)
        pilot.app.tick()

    return bool(snap_compare(attach_app(path), terminal_size=size, run_before=run_before))


def test_main_screen_on_the_agent_that_breaks(snap_compare: Any, finished_run: Path) -> None:
    """Two agents; the selected one (window memory) breaks at step 8: red break line, scores
    at 0, its transcript and probe rounds in assistant voice; truncations marked T."""
    assert _shot(snap_compare, finished_run.parent, ("down",))


def test_main_screen_all_agents_chart(snap_compare: Any, finished_run: Path) -> None:
    """`a`: one identity line per agent; the summary agent holds, the window agent drops."""
    assert _shot(snap_compare, finished_run.parent, ("a",))


def test_inject_dialog(snap_compare: Any, synthetic: SyntheticRun) -> None:
    """`i` over a live run: the dialog names the agent; the typed text is shown."""
    assert _shot(snap_compare, synthetic.run_dir, ("i", *"Are you an AI?"), size=(100, 30),
                 to_the_end=False)
