"""The embedded model at full speed: per-owner KV state against the same run from a cold cache.

Runs the JFK example (`examples/jfk.yaml`, fewer steps by default) on the embedded model twice
in this process, and prints, each measured in this run:

- wall time with per-agent KV state vs the same run with the cache cleared before every call
  (target <= 0.5);
- tokens/s through scaffold vs raw llama-cpp-python replaying the same requests from the
  run's cassette in one plain `Llama` with the same thread counts (target >= 0.95): over the
  model calls' latency (litellm, the provider, KV state handling and llama.cpp: the target
  figure) and over the whole run's wall time (which also holds scoring, memory and the step
  loop, none of which the raw replay does);
- one probe round's model time vs one agent step's model time (target <= 0.5 with 3 probes),
  with llama.cpp's own split of both into prompt evaluation and decoding;
- the fraction of prompt tokens whose KV state was reused rather than evaluated again.

Both runs must produce the same agent replies (KV state changes speed, not results); the
script says so. Prints `ratio: X` last (the wall-time ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scaffold  # noqa: E402,F401
from scaffold.loading import load_experiment  # noqa: E402
from scaffold.models import load_cassette, local  # noqa: E402
from scaffold.runner import Run, run_dir_for  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jfk.yaml"


def run_example(out: Path, steps: int, kv_state: bool) -> tuple[float, Path]:
    """One run of the example; returns (wall seconds, run directory)."""
    spec = load_experiment(EXAMPLE)
    local_spec = spec.local.model_copy(update={"kv_state": kv_state})
    spec = spec.model_copy(update={"steps": steps, "out": str(out), "local": local_spec})
    run_dir = run_dir_for(spec)
    start = time.perf_counter()
    asyncio.run(Run(spec, run_dir).execute())
    return time.perf_counter() - start, run_dir


def events(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    """The run's events of one kind, as dicts."""
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e.get("type") == kind]


def agent_replies(run_dir: Path) -> list[str]:
    """The agent's replies, in order."""
    return [e["content"] for e in events(run_dir, "message") if e["role"] == "assistant"]


def model_tokens(run_dir: Path) -> int:
    """Prompt plus completion tokens over every model call of the run."""
    return sum(e["prompt_tokens"] + e["completion_tokens"] for e in events(run_dir, "model_call"))


def model_seconds(run_dir: Path) -> float:
    """Latency summed over every model call of the run."""
    return sum(e["latency_s"] for e in events(run_dir, "model_call"))


def raw_replay(run_dir: Path, n_threads: int | None) -> tuple[float, int]:
    """The run's requests through one plain llama-cpp-python `Llama` (its own prefix cache),
    with the thread counts scaffold's loaded copy uses."""
    from llama_cpp import Llama

    generation, batch = local.thread_counts(n_threads)
    llama = Llama(model_path=str(local.default_model_path()), n_ctx=local.DEFAULT_N_CTX,
                  n_threads=generation, n_threads_batch=batch, seed=local.DEFAULT_SEED,
                  verbose=False)
    tokens = 0
    start = time.perf_counter()
    for entry in load_cassette(run_dir / "cassette.jsonl"):
        params = local.sampling_params(entry.params)
        result = llama.create_chat_completion(messages=local.chat_messages(entry.messages),
                                              **params)
        usage = result["usage"]
        tokens += usage["prompt_tokens"] + usage["completion_tokens"]
    elapsed = time.perf_counter() - start
    llama.close()
    return elapsed, tokens


def probe_vs_step(run_dir: Path) -> tuple[float, float, int]:
    """(mean model seconds of a probe round, mean model seconds of an agent call, probes per
    round)."""
    calls = events(run_dir, "model_call")
    agent = [c["latency_s"] for c in calls if c["purpose"] == "agent"]
    probe = [c["latency_s"] for c in calls if c["purpose"] == "probe"]
    rounds = {p["round_id"] for p in events(run_dir, "probe")}
    per_round = len(probe) / max(1, len(rounds))
    return sum(probe) / max(1, len(rounds)), sum(agent) / max(1, len(agent)), round(per_round)


def phase_line(name: str, times: Any, per: float) -> str:
    """llama.cpp's prompt-evaluation and decoding time of one kind of call, per `per` calls."""
    n = max(1.0, per)
    return (f"  {name}: prompt eval {times.prompt_ms / n / 1000:.2f} s "
            f"({times.prompt_tokens / n:.0f} tokens), decode {times.decode_ms / n / 1000:.2f} s "
            f"({times.decode_tokens / n:.0f} tokens)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    local.default_model_path()
    with tempfile.TemporaryDirectory() as tmp:
        cold_s, cold_dir = run_example(Path(tmp) / "cold", args.steps, kv_state=False)
        stats = local.state_stats()
        before = (stats.prompt_tokens, stats.reused_tokens)
        stats.phases.clear()
        warm_s, warm_dir = run_example(Path(tmp) / "warm", args.steps, kv_state=True)
        sent = stats.prompt_tokens - before[0]
        reused = stats.reused_tokens - before[1]
        phases = {k: v for k, v in stats.phases.items()}
        raw_s, raw_tokens = raw_replay(warm_dir, load_experiment(EXAMPLE).local.n_threads)
        tokens = model_tokens(warm_dir)
        model_tps, wall_tps = tokens / model_seconds(warm_dir), tokens / warm_s
        round_s, step_s, per_round = probe_vs_step(warm_dir)
        rounds = len({p["round_id"] for p in events(warm_dir, "probe")})
        same = agent_replies(cold_dir) == agent_replies(warm_dir)
    print(f"steps: {args.steps}")
    print(f"agent replies identical with and without KV state: {same} (llama.cpp's numerics "
          "depend on how evaluation is split into batches, so they may differ)")
    print(f"cold cache: {cold_s:.1f} s   KV state: {warm_s:.1f} s")
    raw_tps = raw_tokens / raw_s
    generation, batch = local.thread_counts(load_experiment(EXAMPLE).local.n_threads)
    print(f"threads: {generation} generating, {batch} evaluating prompts (both sides)")
    print(f"tokens/s over model calls: scaffold {model_tps:.1f}, raw llama-cpp-python "
          f"{raw_tps:.1f}  ratio {model_tps / raw_tps:.2f} (target >= 0.95)")
    print(f"tokens/s over the whole run's wall time (with scoring, memory, the step loop): "
          f"scaffold {wall_tps:.1f}  ratio {wall_tps / raw_tps:.2f}")
    print(f"probe round ({per_round} probes): {round_s:.2f} s of model time, agent step "
          f"{step_s:.2f} s  ratio {round_s / step_s:.2f} (target <= 0.5); llama.cpp's split:")
    agent = phases.get("agent")
    if agent is not None:
        print(phase_line("agent step", agent, agent.calls))
    if "probe" in phases:
        print(phase_line("probe round", phases["probe"], rounds))
    print(f"prompt tokens sent {sent}, reused {reused}: {reused / max(1, sent):.0%} reused")
    print(f"ratio: {warm_s / cold_s:.2f}")


if __name__ == "__main__":
    main()
