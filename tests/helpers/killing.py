"""Kill -9 a `scaffold run` subprocess part-way, then resume it to the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def kill_then_resume(config: Path, runs: Path, kill_after_lines: int) -> Path:
    """Start `scaffold run CONFIG`, SIGKILL it once its event log has `kill_after_lines` lines
    (or let it finish if it never gets there), run it again to the end, return the run dir.

    Raises:
        AssertionError: the resumed run did not finish.
    """
    proc = subprocess.Popen([sys.executable, "-m", "scaffold.cli", "run", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    events_path = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(runs.glob("*/*/events.jsonl"))
        if found and sum(1 for _ in found[0].open("rb")) >= kill_after_lines:
            events_path = found[0]
            break
        time.sleep(0.01)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    rerun = subprocess.run([sys.executable, "-m", "scaffold.cli", "run", str(config)],
                           capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    return (events_path or next(runs.glob("*/*/events.jsonl"))).parent
