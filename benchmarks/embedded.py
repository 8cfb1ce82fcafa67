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
- what decoding a round's answers together would give: llama.cpp decode steps carrying one
  token for each of 1, 2, 3, 4, 8 and 16 sequences, timed on a throwaway context of the same
  model in this run (each sequence attending to a context as long as the probes'), as ratios
  to a 1-sequence step; from them and the run's answer lengths, the round's model time with
  its answers decoded together (prompt evaluation as measured) vs an agent step, and the
  ideal floor (the round's prompt evaluation plus its longest answer at one sequence's
  per-token time: extra sequences free);
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


BATCH_ROWS = (1, 2, 3, 4, 8, 16)


def decode_step_seconds(context_tokens: int, repeats: int = 3, steps: int = 12
                        ) -> dict[int, float]:
    """Median seconds of a llama.cpp decode step carrying one token for each of `rows`
    sequences (every row with logits, as sampling needs), by rows: a throwaway context on the
    loaded model's weights with a KV stream per sequence and the generating thread count, each
    sequence holding a copy of a `context_tokens`-long context. Row counts are alternated."""
    import statistics

    import llama_cpp
    from llama_cpp import _internals

    llama = local._load(local.default_model_path()).llama
    main = llama.context_params
    params = llama_cpp.llama_context_default_params()
    params.n_seq_max, params.kv_unified = max(BATCH_ROWS), False
    params.n_ctx = max(BATCH_ROWS) * -(-(context_tokens + steps + 1) // 256) * 256
    params.n_threads = params.n_threads_batch = main.n_threads
    params.flash_attn_type = main.flash_attn_type
    ctx = _internals.LlamaContext(model=llama._model, params=params, verbose=False)
    batch = _internals.LlamaBatch(n_tokens=max(512, context_tokens), embd=0, n_seq_max=1,
                                  verbose=False)
    words = llama.tokenize(b" the President spoke from the White House in 1962", add_bos=False)
    context = (words * (context_tokens // len(words) + 1))[:context_tokens]
    batch.set_batch(context, n_past=0, logits_all=False)
    ctx.decode(batch)
    times: dict[int, list[float]] = {rows: [] for rows in BATCH_ROWS}
    for _ in range(repeats):
        for rows in BATCH_ROWS:
            for seq in range(rows):
                llama_cpp.llama_memory_seq_rm(ctx.memory, seq, context_tokens, -1)
                if seq:
                    llama_cpp.llama_memory_seq_rm(ctx.memory, seq, -1, -1)
                    llama_cpp.llama_memory_seq_cp(ctx.memory, 0, seq, -1, -1)
            start = time.perf_counter()
            for step in range(steps):
                b = batch.batch
                b.n_tokens = rows
                for seq in range(rows):
                    b.token[seq], b.pos[seq], b.n_seq_id[seq] = words[step % len(words)], \
                        context_tokens + step, 1
                    b.seq_id[seq][0], b.logits[seq] = seq, True
                ctx.decode(batch)
            times[rows].append((time.perf_counter() - start) / steps)
    ctx.close()
    batch.close()
    return {rows: statistics.median(t) for rows, t in times.items()}


def step_cost(step_s: dict[int, float], rows: int) -> float:
    """A decode step's seconds for `rows` sequences, from the nearest measured row count at
    or above it (beyond the largest: in proportion)."""
    top = max(step_s)
    if rows > top:
        return step_s[top] * rows / top
    return step_s[min(r for r in step_s if r >= rows)]


def round_answer_lengths(run_dir: Path) -> list[list[int]]:
    """Each probe round's answer lengths in tokens."""
    tokens = {c["request_hash"]: c["completion_tokens"] for c in events(run_dir, "model_call")
              if c["purpose"] == "probe"}
    rounds: dict[str, list[int]] = {}
    for probe in events(run_dir, "probe"):
        rounds.setdefault(probe["round_id"], []).append(tokens.get(probe["request_hash"], 0))
    return list(rounds.values())


def batched_lines(run_dir: Path, phases: dict[str, Any], step_s: dict[int, float]
                  ) -> list[str]:
    """The round with its answers decoded together, estimated, and the ideal floor, each
    against an agent step's llama.cpp time in this run."""
    probe, agent = phases.get("probe"), phases.get("agent")
    lengths = round_answer_lengths(run_dir)
    if probe is None or agent is None or not probe.decode_tokens or not lengths:
        return ["(no probe rounds to compare)"]
    one = step_s[1]
    lines = ["decode step with n sequences vs 1 sequence (" + f"{one * 1000:.0f} ms): " + ", ".join(
        f"{rows}: {step_s[rows] / one:.2f}" for rows in BATCH_ROWS)]
    per_token = probe.decode_ms / probe.decode_tokens / 1000
    prompt_s = probe.prompt_ms / len(lengths) / 1000
    agent_s = (agent.prompt_ms + agent.decode_ms) / max(1, agent.calls) / 1000
    sequential = prompt_s + probe.decode_ms / len(lengths) / 1000
    together = floor = 0.0
    for answers in lengths:
        live = [sum(1 for n in answers if n > step) for step in range(max(answers))]
        together += sum(step_cost(step_s, n) for n in live) / one * per_token
        floor += max(answers) * per_token
    together = prompt_s + together / len(lengths)
    floor = prompt_s + floor / len(lengths)
    lines += [
        f"llama.cpp time: agent step {agent_s:.2f} s; probe round {sequential:.2f} s decoded "
        f"one answer after another  ratio {sequential / agent_s:.2f}",
        f"  decoded together (estimated from the step costs above): {together:.2f} s  ratio "
        f"{together / agent_s:.2f}; batched vs sequential {together / sequential:.2f}",
        f"  ideal floor (prompt evaluation {prompt_s:.2f} s + the longest answer at "
        f"{per_token * 1000:.0f} ms a token): {floor:.2f} s  ratio {floor / agent_s:.2f}"]
    return lines


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
        probe_calls = [c for c in events(warm_dir, "model_call") if c["purpose"] == "probe"]
        context = sum(c["prompt_tokens"] for c in probe_calls) // max(1, len(probe_calls))
        decode_s = decode_step_seconds(max(context, 64))
        batched = batched_lines(warm_dir, phases, decode_s)
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
    print("\n".join(batched))
    print(f"prompt tokens sent {sent}, reused {reused}: {reused / max(1, sent):.0%} reused")
    print(f"ratio: {warm_s / cold_s:.2f}")


if __name__ == "__main__":
    main()
