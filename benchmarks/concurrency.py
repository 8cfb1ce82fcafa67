"""Concurrency: N agents (one run each) against a loopback OpenAI-compatible server with fixed
latency; achieved steps/s vs ideal (every agent one call per step, all in flight at once).

Prints `ratio: X` last: achieved / ideal in the steady state (between 10% and 90% of all steps,
so one-off start-up — imports in worker processes, opening 64 run directories — is not counted;
the whole-run ratio is printed above it). Target >= 0.9.

Above it, the same run measures this machine's ceiling: the bare litellm loop replays exactly
the calls scaffold made (from the runs' cassettes, with the timeout scaffold's client sends),
with the same concurrency over the same number of processes and nothing else, and scaffold's
steady rate is printed as a fraction of it (target >= 0.9). The load average before each half
is printed too: the machine may be shared.
When that ceiling is itself well below the ideal, the machine's CPU (litellm costs a few ms per
call), not scaffold's scheduling, is what limits the ratio; more cores and `--workers` raise both.

`--workers N` spreads the runs over N processes (execution.workers; default: one per CPU). The
server runs in its own process. The model name is a real one (pointed at the loopback server)
because litellm's lookups for unknown names are slow and would be measured.
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

Queue = multiprocessing.Queue  # type: ignore[type-arg]


def serve(latency: float, queue: Queue) -> None:
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


def steady_rate(marks: list[float]) -> float:
    """Completions per second between 10% and 90% of all completions."""
    marks = sorted(marks)
    lo, hi = len(marks) // 10, len(marks) * 9 // 10
    if hi - lo < 2 or lo == 0:
        return len(marks) / (marks[-1] - marks[0]) if len(marks) > 1 else 0.0
    return (hi - lo) / (marks[hi - 1] - marks[lo - 1])


def bare_worker(cassettes: list[str], start_at: float, queue: Queue) -> None:
    """Replay each cassette's calls in order, all cassettes at once, with plain
    litellm.acompletion; report each call's completion time."""
    import scaffold  # noqa: F401  (litellm settings: offline cost map)
    from scaffold.models import load_cassette

    import litellm

    from scaffold.gc_tuning import settle_for_runs

    from scaffold.config import RetrySpec

    runs = [load_cassette(Path(p)) for p in cassettes]
    timeout = RetrySpec().timeout_s
    settle_for_runs()  # the same collector settings as scaffold's runs: the best-case loop
    marks: list[float] = []

    async def replay(entries: list) -> None:  # type: ignore[type-arg]
        for entry in entries:
            await litellm.acompletion(model=entry.model, messages=entry.messages,
                                      num_retries=0, timeout=timeout, **entry.params)
            marks.append(time.perf_counter())

    async def main() -> None:
        first = runs[0][0]
        await litellm.acompletion(model=first.model, messages=first.messages, num_retries=0,
                                  timeout=timeout, **first.params)  # imports, client pool
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
        await asyncio.gather(*(replay(entries) for entries in runs))

    asyncio.run(main())
    queue.put(marks)


def bare_rate(cassettes: list[Path], workers: int) -> float:
    """Steady calls/s of the bare litellm loop over `workers` processes (a shared start time,
    so every process has imported and warmed up before the first measured call)."""
    queue: Queue = multiprocessing.Queue()
    start_at = time.perf_counter() + 15.0
    shares = [[str(p) for p in cassettes[i::workers]] for i in range(workers)]
    procs = [multiprocessing.Process(target=bare_worker, args=(share, start_at, queue))
             for share in shares if share]
    for proc in procs:
        proc.start()
    marks = [mark for _ in procs for mark in queue.get(timeout=600)]
    for proc in procs:
        proc.join()
    return steady_rate(marks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    queue: Queue = multiprocessing.Queue()
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
        loads = [os.getloadavg()[0]]
        marks: list[float] = []
        start = time.perf_counter()
        results = asyncio.run(LocalExecutor(
            specs, progress=lambda *_: marks.append(time.perf_counter())).run_all())
        wall = time.perf_counter() - start
        loads.append(os.getloadavg()[0])
        bare = bare_rate(sorted(Path(tmp).rglob("cassette.jsonl")), args.workers)
    proc.terminate()
    done = sum(r.status == "done" for r in results)
    achieved = args.agents * args.steps / wall
    ideal = args.agents / args.latency
    steady = steady_rate(marks)
    print(f"agents: {args.agents}  steps each: {args.steps}  latency: {args.latency * 1000:.0f} ms"
          f"  workers: {args.workers}  CPUs: {os.cpu_count()}  runs done: {done}/{len(results)}")
    print(f"load average before scaffold's half: {loads[0]:.1f}, before the bare half: "
          f"{loads[1]:.1f}")
    print(f"wall: {wall:.1f} s  achieved: {achieved:.1f} steps/s  ideal: {ideal:.1f} steps/s")
    print(f"whole-run ratio (with start-up): {achieved / ideal:.2f}")
    print(f"bare litellm loop, same calls and processes: {bare:.1f} calls/s "
          f"(machine ceiling: {bare / ideal:.2f} of ideal)")
    print(f"scaffold vs bare litellm loop: {steady / bare:.2f}")
    print(f"steady state: {steady:.1f} steps/s")
    print(f"ratio: {steady / ideal:.2f}")


if __name__ == "__main__":
    main()
