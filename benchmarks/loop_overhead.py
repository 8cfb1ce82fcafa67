"""Loop overhead: N scripted steps through scaffold vs a bare litellm.completion loop.

The bare loop replays exactly the requests scaffold made (read from the run's cassette), so
both sides make the same model calls; the ratio is what scaffold's bookkeeping costs (LangGraph,
checkpoints, memory accounting, events, cassette). Prints `ratio: X` last (target <= 1.3).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import make_spec  # noqa: E402

import scaffold  # noqa: E402,F401
from scaffold.models import ensure_provider, load_cassette  # noqa: E402
from scaffold.runner import Run, run_dir_for  # noqa: E402


def scaffold_loop(steps: int, out: Path) -> tuple[float, Path]:
    spec = make_spec(out, steps=steps, probes={"enabled": False})
    run_dir = run_dir_for(spec)
    start = time.perf_counter()
    asyncio.run(Run(spec, run_dir).execute())
    return time.perf_counter() - start, run_dir


def bare_loop(run_dir: Path) -> tuple[float, int]:
    import litellm

    entries = load_cassette(run_dir / "cassette.jsonl")
    persona = {"name": "John F. Kennedy", "anchors": ["I am John F. Kennedy."]}
    for entry in entries[:1]:
        ensure_provider(entry.model)
    start = time.perf_counter()
    for entry in entries:
        meta = {"purpose": entry.purpose, "agent_id": entry.agent_id, "step": entry.step,
                "sample": 0, "persona": persona}
        litellm.completion(model=entry.model, messages=entry.messages, num_retries=0,
                           metadata={"scaffold": meta}, **entry.params)
    return time.perf_counter() - start, len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ensure_provider("scripted/default")
        _, warm_dir = scaffold_loop(5, Path(tmp) / "warm-up")  # imports and caches, both sides
        bare_loop(warm_dir)
        scaffold_s, run_dir = scaffold_loop(args.steps, Path(tmp))
        bare_s, calls = bare_loop(run_dir)
    print(f"steps: {args.steps}  model calls: {calls}")
    print(f"scaffold: {scaffold_s:.2f} s ({scaffold_s / args.steps * 1000:.2f} ms/step)")
    print(f"bare litellm loop: {bare_s:.2f} s ({bare_s / args.steps * 1000:.2f} ms/step)")
    print(f"ratio: {scaffold_s / bare_s:.2f}")


if __name__ == "__main__":
    main()
