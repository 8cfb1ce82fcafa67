"""Long-run flatness and memory: 10,000 scripted steps through scaffold.

Prints the median step time at steps 9,900-10,000 over steps 100-200 (`flatness ratio`, target
<= 1.1) and the RSS growth from step 200 to the end (`rss growth MB`, target <= 100). The last
line is `ratio: X` (flatness).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import make_spec  # noqa: E402

from scaffold.runner import Run, run_dir_for  # noqa: E402


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc)."""
    with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--probe-every", type=int, default=50)
    args = parser.parse_args()
    steps = args.steps
    times: dict[int, float] = {}
    rss: dict[int, float] = {}
    last = [time.perf_counter()]

    def on_step(done: int, total: int) -> None:
        now = time.perf_counter()
        times[done] = now - last[0]
        last[0] = now
        if done in (200, steps):
            rss[done] = rss_mb()

    with tempfile.TemporaryDirectory() as tmp:
        spec = make_spec(Path(tmp), steps=steps, probes={"every": args.probe_every,
                                                         "scorers": ["rules", "break"]})
        asyncio.run(Run(spec, run_dir_for(spec)).execute(on_step))
    lo, hi = steps // 100, steps // 50
    early = statistics.median(times[s] for s in range(lo, hi + 1))
    late = statistics.median(times[s] for s in range(steps - lo, steps + 1))
    print(f"steps: {steps}  median step early ({lo}-{hi}): {early * 1000:.2f} ms  "
          f"late ({steps - lo}-{steps}): {late * 1000:.2f} ms")
    print(f"rss at step 200: {rss.get(200, 0):.0f} MB  at end: {rss.get(steps, 0):.0f} MB  "
          f"rss growth MB: {rss.get(steps, 0) - rss.get(200, 0):.1f}")
    print(f"ratio: {late / early:.2f}")


if __name__ == "__main__":
    main()
