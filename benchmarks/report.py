"""`scaffold report` on hundreds of runs: time per run of each stage against parsing the logs.

Run: .venv/bin/python benchmarks/report.py [--runs 128] [--jobs 1,0] [--source DIR] [--quick]

The input is a study's shipped event logs (default: docs/studies/selfchat-drift/results, 32
runs), copied into a temporary directory as many times as it takes to reach `--runs` runs (each
copy under new run ids). Stages, each timed on its own: reading the event logs into typed events
(`load_runs`), the metrics (`report_metrics`: curves, bootstrap intervals, survival, deltas), the
JSON the `--format json` report prints, and the Markdown report with its PNG figures, once per
`--jobs` value (0: one worker per CPU) without the figure cache, then once more with every
figure from the cache (a report rebuilt from unchanged runs). The baseline, measured in the
same run, is the bare cost of the input: `json.loads` of every line of every events.jsonl.
Reports drawn with different `--jobs` and from the cache are checked to be byte-identical.
Peak memory (RSS) is that of this process; figure workers are counted separately. The last
line is ``ratio: X`` (Markdown report with the last `--jobs` value / baseline, per run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scaffold.metrics import MetricsSettings, load_runs, report_metrics  # noqa: E402
from scaffold.report import write_report  # noqa: E402
from scaffold.report._render import default_jobs  # noqa: E402

SELFCHAT = ROOT / "docs/studies/selfchat-drift/results"


def replicate(source: Path, target: Path, runs: int) -> int:
    """Copy the run directories of `source` into `target` until there are `runs` of them, each
    copy under a new run id (in the directory name, the manifest and every event)."""
    originals = sorted(p for p in source.iterdir() if (p / "events.jsonl").is_file())
    made = 0
    for copy in range(-(-runs // len(originals))):
        for run in originals:
            if made == runs:
                return made
            new = f"{run.name}-c{copy}" if copy else run.name
            (target / new).mkdir(parents=True)
            for name in ("events.jsonl", "manifest.json"):
                if (run / name).is_file():
                    text = (run / name).read_text(encoding="utf-8")
                    (target / new / name).write_text(text.replace(run.name, new),
                                                     encoding="utf-8")
            made += 1
    return made


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def raw_parse(path: Path) -> int:
    """The baseline: every line of every event log through json.loads."""
    lines = 0
    for log in sorted(path.glob("*/events.jsonl")):
        with log.open(encoding="utf-8") as handle:
            for line in handle:
                json.loads(line)
                lines += 1
    return lines


def digest(path: Path) -> str:
    """One hash over report.md (its directory name masked) and every PNG it links."""
    h = hashlib.sha256((path / "report.md").read_bytes().replace(str(path).encode(), b"DIR"))
    for png in sorted(path.glob("report-*.png")):
        h.update(png.name.encode() + png.read_bytes())
    return h.hexdigest()[:16]


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SELFCHAT)
    parser.add_argument("--runs", type=int, default=128)
    parser.add_argument("--jobs", default="1,0", help="comma-separated; 0 = one per CPU")
    parser.add_argument("--agent", action="append", default=None,
                        help="report only this agent (default for the self-chat logs: persona)")
    parser.add_argument("--quick", action="store_true", help="16 runs")
    args = parser.parse_args()
    runs = 16 if args.quick else args.runs
    agents = args.agent if args.agent is not None else (
        ["persona"] if args.source == SELFCHAT else [])
    settings = MetricsSettings(agents=agents)
    jobs = [int(j) for j in args.jobs.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "runs"
        n = replicate(args.source, base, runs)
        t_raw, lines = timed(lambda: raw_parse(base))
        t_load, logs = timed(lambda: load_runs(base, []))
        t_metrics, metrics = timed(lambda: report_metrics(logs, base, settings, []))
        t_json, _ = timed(lambda: metrics.model_dump_json(indent=2))
        del logs, metrics
        print(f"{n} runs, {lines} events, from {args.source}; {default_jobs()} CPU(s)")
        rows = [("raw json.loads (baseline)", t_raw), ("load_runs", t_load),
                ("report_metrics", t_metrics), ("metrics JSON", t_json)]
        digests, t_md = {}, {}
        for j in jobs:
            target = Path(tmp) / f"md-jobs{j}" / "runs"
            shutil.copytree(base, target)
            t, files = timed(lambda: write_report(target, "md", settings, [], j or None,
                                                  cache=False))
            digests[j], t_md[j] = digest(target), t
            rows.append((f"markdown + {len(files) - 1} PNGs, jobs {j or default_jobs()}", t))
        # a report rebuilt from unchanged runs: every figure from the cache
        os.environ["SCAFFOLD_CACHE_DIR"] = str(Path(tmp) / "cache")
        for name in ("fill", "cached"):
            target = Path(tmp) / f"md-{name}" / "runs"
            shutil.copytree(base, target)
            t, files = timed(lambda: write_report(target, "md", settings, [], None))
        digests["cached"] = digest(target)
        rows.append((f"markdown + {len(files) - 1} PNGs, from the cache", t))
        for name, t in rows:
            print(f"{name:<40} {t:8.2f} s  {1000 * t / n:8.1f} ms/run  "
                  f"{t / t_raw:8.1f} x baseline")
        print(f"peak RSS: {peak_mb():.0f} MB (this process), "
              f"{peak_mb(resource.RUSAGE_CHILDREN):.0f} MB (largest figure worker)")
        same = len(set(digests.values())) == 1
        print(f"reports identical across jobs {jobs} and from the cache: {same} "
              f"({', '.join(digests.values())})")
        if not same:
            sys.exit(1)
        print(f"ratio: {t_md[jobs[-1]] / t_raw:.1f}")


if __name__ == "__main__":
    main()
