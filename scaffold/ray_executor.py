"""Ray executor: the same runs as Ray tasks (one run per task), same run directories."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from scaffold.config import ExperimentSpec
from scaffold.errors import ScaffoldError
from scaffold.runner import RunResult, run_dir_for


def _run_task(spec_data: dict[str, Any], run_dir: str, retries: int) -> dict[str, Any]:
    """Executed inside a Ray worker: one run, resumed on failure up to `retries` times."""
    from scaffold.config import parse_experiment
    from scaffold.limits import ModelLimits
    from scaffold.runner import Run

    spec = parse_experiment(spec_data, "ray task")
    limits = ModelLimits(spec.execution)
    result = RunResult(Path(run_dir), "failed")
    for _attempt in range(1 + retries):
        try:
            result = asyncio.run(Run(spec, Path(run_dir), None, limits).execute())
        except ScaffoldError as exc:  # a damaged run directory, a bad fork: this run only
            result = RunResult(Path(run_dir), "failed", error=str(exc))
            break
        if result.status == "done":
            break
    return {"run_dir": str(result.run_dir), "status": result.status,
            "skipped": result.skipped, "error": result.error}


def task_resources(spec: ExperimentSpec) -> dict[str, Any]:
    """Ray resources for one run: a CPU, plus ~1 GB of memory per embedded local model."""
    local = sum(1 for a in spec.agents if spec.agent_model(a).startswith("local/"))
    options: dict[str, Any] = {"num_cpus": 1}
    if local:
        options["memory"] = local * 1_000_000_000
    return options


class RayExecutor:
    """Runs specs as Ray tasks. Run directories must be on a path every node shares; share
    memory across nodes with Chroma in server mode (`vector.chroma_url`) and models with a
    server every node reaches (`endpoints:`, or an API). Keys are read from each node's own
    environment; scaffold never ships them to the cluster.

    Args:
        specs: the runs.
        address: a Ray cluster address (None starts a local Ray).
    """

    def __init__(self, specs: list[ExperimentSpec], address: str | None = None):
        self.specs = specs
        self.address = address

    def run_all(self) -> list[RunResult]:
        """Submit every run and wait for all; results in spec order."""
        try:
            import ray
        except ImportError:
            raise ScaffoldError("--executor ray needs Ray: pip install 'scaffold-persona[ray]' "
                                "(or pip install ray)") from None
        started = not ray.is_initialized()
        if started:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     ignore_reinit_error=True)
        try:
            remote = ray.remote(_run_task)
            refs = [remote.options(**task_resources(s)).remote(
                s.model_dump(mode="json"), str(run_dir_for(s).resolve()), s.execution.retries)
                for s in self.specs]
            return [RunResult(Path(r["run_dir"]), r["status"], r["skipped"], r["error"])
                    for r in ray.get(refs)]
        finally:
            if started:
                ray.shutdown()
