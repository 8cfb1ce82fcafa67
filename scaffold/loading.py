"""Experiment files: read safely, persona sets expanded, validated, checked to measure something.

This sits above `scaffold.config` (the models) and `scaffold.personas` (the data-set readers,
which build config models), so neither imports the other's loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scaffold.config import ExperimentSpec, expand_sweep, parse_experiment, read_yaml_file
from scaffold.errors import ConfigError
from scaffold.personas import PersonaSourceError, expand_personas

__all__ = ["experiment_from_data", "load_experiment", "measures_nothing"]

UNMEASURED = (
    "probes: this experiment measures nothing: no probe question is asked (probes.enabled is "
    "false, or no probed agent has a question) and probes.scorers is empty, so no answer is "
    "recorded and nothing is scored. Turn probes on and list scorers (probes: {enabled: true, "
    "scorers: [rules, break, embedding]}), or pass --no-probes to run unmeasured on purpose")


def experiment_from_data(data: Any, source: str = "<config>",
                         base_dir: str | Path | None = None) -> ExperimentSpec:
    """Validate a parsed experiment document, expanding `personas` entries that name an
    external set (`{from: <path>, format: ...}`) into personas keyed `<entry>/<persona>`.

    Args:
        data: the parsed experiment document.
        source: where it came from, for messages.
        base_dir: the directory relative paths (persona sets, task files) resolve against
            (default: the working directory).

    Raises:
        ConfigError: with one field-path line per problem.
    """
    if isinstance(data, dict) and isinstance(data.get("personas"), dict):
        base = Path(base_dir) if base_dir else Path.cwd()
        try:
            data = {**data, "personas": expand_personas(data["personas"], base)}
        except PersonaSourceError as exc:
            raise ConfigError(source, exc.problems) from None
    return parse_experiment(data, source, base_dir)


def measures_nothing(spec: ExperimentSpec) -> bool:
    """True when a run of `spec` records no probe answer and scores nothing: no scorer is
    listed, and probes are off or no probed agent has a question to ask."""
    if spec.probes.scorers:
        return False
    if not spec.probes.enabled:
        return True
    return not any(agent.probe and (spec.probes.generic or spec.personas[agent.persona].probes)
                   for agent in spec.agents)


def load_experiment(path: str | Path, *, unmeasured_ok: bool = False) -> ExperimentSpec:
    """Read and validate an experiment file (YAML or JSON).

    Args:
        path: the file; relative paths inside it resolve against its directory.
        unmeasured_ok: accept an experiment that measures nothing (the CLI's --no-probes says
            so explicitly); otherwise such a file, or any run of its sweep, is an error.

    Raises:
        ConfigError: the file is missing, too large, not YAML, invalid, or measures nothing.
    """
    p = Path(path)
    spec = experiment_from_data(read_yaml_file(p), str(p), base_dir=p.resolve().parent)
    if not unmeasured_ok:
        unmeasured = [v for v in expand_sweep(spec, str(p)) if measures_nothing(v)]
        if unmeasured:
            raise ConfigError(str(p), [UNMEASURED if unmeasured[0] is spec else
                                       f"sweep: {len(unmeasured)} run(s): {UNMEASURED}"])
    return spec
