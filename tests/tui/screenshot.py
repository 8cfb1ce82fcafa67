"""Writes the README's picture of the TUI: `python -m tests.tui.screenshot [docs/tui.svg]`.

The same seeded scripted run and screen as the main snapshot test: two JFK agents, the one on
window memory selected as it breaks at step 8.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from scaffold.config import parse_experiment
from tests.helpers import run_spec
from tests.tui.conftest import SNAPSHOT_SIZE, attach_app, read_to_the_end, two_agent_data


async def _shoot(experiment_dir: Path, target: Path) -> None:
    app = attach_app(experiment_dir)
    async with app.run_test(size=SNAPSHOT_SIZE) as pilot:
        await read_to_the_end(pilot)
        await pilot.press("down")
        app.tick()
        await pilot.pause()
        app.save_screenshot(target.name, str(target.parent))


def main(target: str = "docs/tui.svg") -> None:
    """Run the seeded experiment in a temporary directory and save the screen as SVG."""
    path = Path(target).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = run_spec(parse_experiment(two_agent_data(Path(tmp) / "runs")))
        asyncio.run(_shoot(run_dir.parent, path))
    print(f"wrote {target}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
