"""Loop overhead: scaffold's step loop vs a bare litellm loop making the same calls.

Two measurements, each against a baseline measured in the same run:

1. Realistic latency (printed last): one agent against a loopback OpenAI-compatible server
   that answers in `--latency-ms` (50 ms by default, the fast end of real models), scaffold vs
   a bare `litellm.acompletion` loop replaying exactly the requests scaffold made (read from
   the run's cassette, with the same timeout) against the same server, one call at a time as
   scaffold makes them, alternated `--repeats` times (median printed). Target <= 1.05. Each
   side's CPU per step (this process, all threads) and the load average are printed too: on
   a shared machine a side's wall time grows with its CPU times the load, so the CPU
   difference is the figure scaffold controls. `--breakdown` adds one more scaffold run that
   splits scaffold's own CPU per step by what it is for (checkpoints, events, cassette,
   memory accounting; the rest is LangGraph's loop, the nodes and asyncio).
2. Scripted (`--scripted-steps`): the in-process scripted model, whose calls take ~2 ms, vs a
   bare `litellm.acompletion` loop replaying the run's calls. This isolates what scaffold's bookkeeping costs (LangGraph,
   checkpoints, memory accounting, events, cassette) when the model is nearly free; a user's
   model is never that fast, so it is reported, not the target.

Prints `ratio: X` last (the realistic-latency ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import make_spec, spec_dict  # noqa: E402
from tests.helpers.fault_server import FaultServer  # noqa: E402

import scaffold  # noqa: E402,F401
from scaffold.models import ensure_provider, load_cassette  # noqa: E402
from scaffold.config import RetrySpec  # noqa: E402
from scaffold.config import parse_experiment  # noqa: E402
from scaffold.runner import Run, run_dir_for  # noqa: E402

REMOTE_MODEL = "openai/gpt-4o-mini"
"""A name litellm knows (its lookups for unknown names are slow), served by the loopback."""


def scaffold_loop(steps: int, out: Path) -> tuple[float, float, Path]:
    """Scaffold's loop on the scripted model (summary memory, no probes): wall and CPU
    seconds, and the run directory."""
    spec = make_spec(out, steps=steps, probes={"enabled": False})
    run_dir = run_dir_for(spec)
    cpu, start = time.process_time(), time.perf_counter()
    asyncio.run(Run(spec, run_dir).execute())
    return time.perf_counter() - start, time.process_time() - cpu, run_dir


def bare_loop(run_dir: Path) -> tuple[float, float, int]:
    """The run's scripted calls, in order, through plain `litellm.acompletion` (the path
    scaffold's client takes), with the metadata the scripted provider answers from: wall and
    CPU seconds, and the call count."""
    import litellm

    entries = load_cassette(run_dir / "cassette.jsonl")
    persona = {"name": "John F. Kennedy", "anchors": ["I am John F. Kennedy."]}
    timeout = RetrySpec().timeout_s
    for entry in entries[:1]:
        ensure_provider(entry.model)

    async def replay() -> tuple[float, float]:
        cpu, start = time.process_time(), time.perf_counter()
        for entry in entries:
            meta = {"purpose": entry.purpose, "agent_id": entry.agent_id, "step": entry.step,
                    "sample": 0, "persona": persona}
            await litellm.acompletion(model=entry.model, messages=entry.messages,
                                      num_retries=0, timeout=timeout,
                                      metadata={"scaffold": meta}, **entry.params)
        return time.perf_counter() - start, time.process_time() - cpu

    wall, cpu = asyncio.run(replay())
    return wall, cpu, len(entries)


def serve(latency_s: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Run the loopback server in its own process until killed; report its base URL."""
    import time as _time

    with FaultServer(fault_rate=0.0, latency_s=latency_s) as server:
        queue.put(server.base_url)
        while True:
            _time.sleep(3600)


def remote_loop(steps: int, out: Path) -> tuple[float, float, Path]:
    """Scaffold's loop against the loopback server (window memory, no probes): wall and CPU
    seconds, and the run directory."""
    data = spec_dict(out=str(out), steps=steps, model=REMOTE_MODEL, probes={"enabled": False})
    data["agents"][0]["memory"] = {"condition": "window", "budget_tokens": 4000}
    spec = parse_experiment(data)
    run_dir = run_dir_for(spec)
    cpu, start = time.process_time(), time.perf_counter()
    asyncio.run(Run(spec, run_dir).execute())
    return time.perf_counter() - start, time.process_time() - cpu, run_dir


def bare_async_loop(run_dir: Path) -> tuple[float, float, int]:
    """The run's requests, in order, through plain `litellm.acompletion` with the timeout
    scaffold's client sends (its retry default): wall and CPU seconds, and the call count."""
    import litellm

    entries = load_cassette(run_dir / "cassette.jsonl")
    timeout = RetrySpec().timeout_s

    async def replay() -> tuple[float, float]:
        first = entries[0]
        await litellm.acompletion(model=first.model, messages=first.messages, num_retries=0,
                                  timeout=timeout, **first.params)  # client pool, imports
        cpu, start = time.process_time(), time.perf_counter()
        for entry in entries:
            await litellm.acompletion(model=entry.model, messages=entry.messages,
                                      num_retries=0, timeout=timeout, **entry.params)
        return time.perf_counter() - start, time.process_time() - cpu

    wall, cpu = asyncio.run(replay())
    return wall, cpu, len(entries)


def load() -> str:
    """The 1-minute load average and the CPU count."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def breakdown(steps: int, tmp: Path) -> None:
    """One more scaffold run, with its fixed per-step pieces timed in place (the wrappers
    cost a little CPU themselves), and the bare replay of its calls."""
    from _step_cpu import measured

    with measured() as spent:
        wall, cpu, run_dir = remote_loop(steps, tmp / "remote-breakdown")
    _, bare_cpu, _ = bare_async_loop(run_dir)
    own = (cpu - bare_cpu) / steps * 1000
    print(f"scaffold's own CPU per step ({load()}): {own:.2f} ms "
          f"(scaffold {cpu / steps * 1000:.2f} - bare {bare_cpu / steps * 1000:.2f})")
    pieces = 0.0
    for label, seconds in spent.most_common():
        pieces += seconds / steps * 1000
        print(f"  {seconds / steps * 1000:6.2f} ms  {label}")
    print(f"  {own - pieces:6.2f} ms  the rest: LangGraph's loop (one superstep per act), "
          "the nodes, the step loop, asyncio")


def realistic(steps: int, latency_ms: float, tmp: Path, repeats: int,
              with_breakdown: bool = False) -> float:
    """Scaffold vs the bare loop against a server answering in `latency_ms`, alternated
    `repeats` times (so that a machine whose load drifts slows both sides alike); returns the
    median of the repeats' ratios."""
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    proc = multiprocessing.Process(target=serve, args=(latency_ms / 1000, queue), daemon=True)
    proc.start()
    base_url = queue.get(timeout=30)
    os.environ.update(OPENAI_BASE_URL=base_url, OPENAI_API_BASE=base_url,
                      OPENAI_API_KEY="sk-bench-not-a-real-key")
    ratios, extra_cpu = [], []
    try:
        remote_loop(3, tmp / "remote-warm-up")
        for i in range(repeats):
            scaffold_s, scaffold_cpu, run_dir = remote_loop(steps, tmp / f"remote-{i}")
            bare_s, bare_cpu, calls = bare_async_loop(run_dir)
            ratios.append(scaffold_s / bare_s)
            extra_cpu.append((scaffold_cpu - bare_cpu) / steps * 1000)
            print(f"server latency {latency_ms:.0f} ms, {steps} steps, {calls} model calls "
                  f"(ideal {calls * latency_ms / 1000:.2f} s), repeat {i + 1}/{repeats}, "
                  f"{load()}")
            print(f"  scaffold: {scaffold_s:.2f} s ({scaffold_s / steps * 1000:.1f} ms/step, "
                  f"CPU {scaffold_cpu / steps * 1000:.1f} ms/step)")
            print(f"  bare litellm.acompletion loop: {bare_s:.2f} s "
                  f"({bare_s / steps * 1000:.1f} ms/step, CPU {bare_cpu / steps * 1000:.1f} "
                  "ms/step)")
            print(f"  scaffold / bare: {ratios[-1]:.3f}")
        if with_breakdown:
            breakdown(steps, tmp)
    finally:
        proc.terminate()
    median = statistics.median(ratios)
    print(f"scaffold's own CPU per step, median of {repeats}: "
          f"{statistics.median(extra_cpu):.2f} ms")
    print(f"scaffold / bare, median of {repeats}: {median:.3f} (target <= 1.05)")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100, help="steps against the server")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--scripted-steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3,
                        help="scaffold and bare runs against the server, alternated")
    parser.add_argument("--breakdown", action="store_true",
                        help="split scaffold's own CPU per step by what it is for")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ensure_provider("scripted/default")
        _, _, warm_dir = scaffold_loop(5, Path(tmp) / "warm-up")  # imports, caches
        bare_loop(warm_dir)
        steps = args.scripted_steps
        scaffold_s, scaffold_cpu, run_dir = scaffold_loop(steps, Path(tmp) / "scripted")
        bare_s, bare_cpu, calls = bare_loop(run_dir)
        print(f"scripted model, {steps} steps, {calls} model calls, {load()}")
        print(f"  scaffold: {scaffold_s:.2f} s ({scaffold_s / steps * 1000:.2f} ms/step, "
              f"CPU {scaffold_cpu / steps * 1000:.2f} ms/step)")
        print(f"  bare litellm.acompletion loop: {bare_s:.2f} s "
              f"({bare_s / steps * 1000:.2f} ms/step, CPU {bare_cpu / steps * 1000:.2f} "
              "ms/step)")
        print(f"  scaffold / bare: {scaffold_s / bare_s:.2f} (bookkeeping with a ~free model)")
        ratio = realistic(args.steps, args.latency_ms, Path(tmp), args.repeats,
                          args.breakdown)
    print(f"ratio: {ratio:.3f}")


if __name__ == "__main__":
    main()
