"""Concurrency: N agents (one run each) against a loopback OpenAI-compatible server with fixed
latency; achieved steps/s vs ideal (every agent one call per step, all in flight at once).

Prints `ratio: X` last: achieved / ideal in the steady state (between 10% and 90% of all steps,
so one-off start-up — imports in worker processes, opening 64 run directories — is not counted;
the whole-run ratio is printed above it). Target >= 0.9. `--workers N` spreads the runs over N
processes (execution.workers). The server runs in its own process so it does not share this
process's interpreter lock. The model name is a real one (pointed at
the loopback server) because litellm's lookups for unknown names are slow and would be measured.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import spec_dict  # noqa: E402
from tests.helpers.fault_server import FaultServer  # noqa: E402

from scaffold.config import expand_sweep, parse_experiment  # noqa: E402
from scaffold.executors import LocalExecutor  # noqa: E402


def serve(latency: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Run the loopback server until killed; report its base URL."""
    with FaultServer(fault_rate=0.0, latency_s=latency) as server:
        queue.put(server.base_url)
        while True:
            time.sleep(3600)


def warm_up(model: str) -> None:
    """One-off costs that are not throughput: imports (litellm ~4 s, LangGraph ~1 s) and the
    tokenizer load of the first token count."""
    import agents.persona.graph  # noqa: F401
    import scaffold.checkpoints  # noqa: F401
    from memory import TokenCounter

    TokenCounter(model).text("warm up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    proc = multiprocessing.Process(target=serve, args=(args.latency, queue), daemon=True)
    proc.start()
    base_url = queue.get(timeout=30)
    os.environ.update(OPENAI_BASE_URL=base_url, OPENAI_API_BASE=base_url,
                      OPENAI_API_KEY="sk-bench-not-a-real-key")
    with tempfile.TemporaryDirectory() as tmp:
        data = spec_dict(out=tmp, steps=args.steps, model="openai/gpt-4o-mini",
                         probes={"enabled": False},
                         sweep={"seed": list(range(args.agents))},
                         execution={"concurrency": args.agents, "workers": args.workers,
                                    "default_model_concurrency": args.agents})
        data["agents"][0]["memory"] = {"condition": "window", "budget_tokens": 4000}
        specs = expand_sweep(parse_experiment(data))
        warm_up(specs[0].model)
        marks: list[float] = []
        start = time.perf_counter()
        results = asyncio.run(LocalExecutor(
            specs, progress=lambda *_: marks.append(time.perf_counter())).run_all())
        wall = time.perf_counter() - start
    proc.terminate()
    done = sum(r.status == "done" for r in results)
    achieved = args.agents * args.steps / wall
    ideal = args.agents / args.latency
    lo, hi = len(marks) // 10, len(marks) * 9 // 10
    steady = (hi - lo) / (marks[hi - 1] - marks[lo - 1]) if hi > lo > 0 else achieved
    print(f"agents: {args.agents}  steps each: {args.steps}  latency: {args.latency * 1000:.0f} ms"
          f"  workers: {args.workers}  runs done: {done}/{len(results)}")
    print(f"wall: {wall:.1f} s  achieved: {achieved:.1f} steps/s  ideal: {ideal:.1f} steps/s")
    print(f"whole-run ratio (with start-up): {achieved / ideal:.2f}")
    print(f"steady state: {steady:.1f} steps/s")
    print(f"ratio: {steady / ideal:.2f}")


if __name__ == "__main__":
    main()
