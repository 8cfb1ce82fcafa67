"""The local executor: concurrent runs, shared model limits, failed runs retried."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from scaffold.config import ExecutionSpec, expand_sweep, parse_experiment
from scaffold.executors import LocalExecutor
from scaffold.limits import ModelLimits
from tests.helpers import message_view, spec_dict


def test_model_slots_cap_calls_in_flight() -> None:
    limits = ModelLimits(ExecutionSpec(model_concurrency={"openai/x": 2}))
    in_flight, peak = 0, 0

    async def call() -> None:
        nonlocal in_flight, peak
        async with limits.slot("openai/x"):
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            in_flight -= 1

    async def main() -> None:
        await asyncio.gather(*(call() for _ in range(10)))

    asyncio.run(main())
    assert peak == 2
    assert limits.capacity("local/qwen2.5-0.5b-instruct") == 1
    assert limits.capacity("openai/other") == 8


def test_concurrent_runs_match_sequential(tmp_path: Path) -> None:
    sweep = {"memory": ["window", "summary"], "seed": [0, 1]}
    concurrent = parse_experiment(spec_dict(out=str(tmp_path / "a"), steps=5, sweep=sweep,
                                            execution={"concurrency": 4}))
    sequential = parse_experiment(spec_dict(out=str(tmp_path / "b"), steps=5, sweep=sweep))
    seen: list[tuple[str, int]] = []
    one_by_one: list[tuple[str, int]] = []
    results = asyncio.run(LocalExecutor(expand_sweep(concurrent),
                                        progress=lambda r, s, t: seen.append((r, s))).run_all())
    reference = asyncio.run(LocalExecutor(
        expand_sweep(sequential), progress=lambda r, s, t: one_by_one.append((r, s))).run_all())
    assert [r.status for r in results] == ["done"] * 4
    for a, b in zip(results, reference):
        assert message_view(a.run_dir) == message_view(b.run_dir)
    assert len({run for run, _ in seen[:5]}) > 1  # runs interleave
    assert len({run for run, _ in one_by_one[:5]}) == 1  # concurrency 1: one after another


def test_failed_run_is_retried_and_others_finish(tmp_path: Path) -> None:
    flaky = tmp_path / "flaky.yaml"
    flaky.write_text("fail_first: 3\n", encoding="utf-8")
    data = spec_dict(out=str(tmp_path / "runs"), steps=3,
                     sweep={"model": [f"scripted/{flaky}", "scripted/default"]},
                     retry={"attempts": 2, "initial_wait_s": 0, "max_wait_s": 0},
                     execution={"concurrency": 2, "retries": 3})
    results = asyncio.run(LocalExecutor(expand_sweep(parse_experiment(data))).run_all())
    assert [r.status for r in results] == ["done", "done"]
    manifest = json.loads((results[0].run_dir / "manifest.json").read_text())
    assert manifest["resumes"] >= 1 and manifest["failures"]
    assert all("RateLimitError" in f["error"] for f in manifest["failures"])
    starts = [json.loads(line) for line in (results[0].run_dir / "events.jsonl").open()
              if '"run_start"' in line]
    assert any(s["previous_failure"] and "RateLimitError" in s["previous_failure"]
               for s in starts)
    assert message_view(results[0].run_dir)


def test_a_damaged_run_directory_fails_that_run_only(tmp_path: Path) -> None:
    data = spec_dict(out=str(tmp_path / "runs"), steps=3, sweep={"seed": [0, 1]},
                     execution={"concurrency": 2})
    specs = expand_sweep(parse_experiment(data))
    first = asyncio.run(LocalExecutor(specs[:1]).run_all())[0]
    (first.run_dir / "manifest.json").write_text("{broken", encoding="utf-8")

    results = asyncio.run(LocalExecutor(specs).run_all())

    assert [r.status for r in results] == ["failed", "done"]
    assert "manifest.json is corrupt" in (results[0].error or "")
    assert "https://" not in (results[0].error or "")  # the reason, not pydantic's footer
    steps = [json.loads(line)["step"] for line in (results[1].run_dir / "events.jsonl").open()
             if '"type": "message"' in line or '"type":"message"' in line]
    assert steps and max(steps) == 3


def test_worker_processes_run_the_same_runs_with_split_limits(tmp_path: Path) -> None:
    from scaffold._workers import partition, plan_workers, split_execution

    sweep = {"memory": ["window", "summary"], "seed": [0, 1, 2]}
    spread = expand_sweep(parse_experiment(spec_dict(
        out=str(tmp_path / "a"), steps=4, sweep=sweep,
        execution={"concurrency": 6, "workers": 2, "requests_per_minute": {"x": 90}})))
    alone = expand_sweep(parse_experiment(spec_dict(out=str(tmp_path / "b"), steps=4,
                                                    sweep=sweep)))
    seen: list[tuple[str, int]] = []
    results = asyncio.run(LocalExecutor(
        spread, progress=lambda r, s, t: seen.append((r, s))).run_all())
    reference = asyncio.run(LocalExecutor(alone).run_all())
    assert [r.status for r in results] == ["done"] * 6
    assert [r.run_dir.name for r in results] == [r.run_dir.name for r in reference]
    for a, b in zip(results, reference):
        assert message_view(a.run_dir) == message_view(b.run_dir)
    assert sorted(seen) == sorted((r.run_dir.name, s) for r in results for s in range(1, 5))
    share = split_execution(spread[0].execution, 2)
    assert (share.concurrency, share.requests_per_minute, share.workers) == (3, {"x": 45}, 1)
    assert partition(spread, 4) == [[0, 4], [1, 5], [2], [3]]
    groups, few = plan_workers(spread[:2], 16)  # two runs start two processes, not sixteen
    assert len(groups) == 2 and (few.concurrency, few.requests_per_minute) == (3, {"x": 45})
