"""Validating experiment data: field-path error messages, task file paths, CLI overrides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scaffold.config._activation import resolve_axis_paths
from scaffold.config._experiment import ExperimentSpec
from scaffold.config._routing import unroutable_models
from scaffold.errors import ConfigError


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem: `field.path: message`."""
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        if ":" in msg.split(" ")[0] and loc == ():  # model-level error that names its own path
            lines.append(msg)
            continue
        lines.append(f"{_path(loc)}: {msg}" if loc else msg)
    return lines


def _unexpanded_sources(data: dict[str, Any]) -> list[str]:
    """`personas` entries still naming an external set: scaffold.loading expands those."""
    personas = data.get("personas")
    if not isinstance(personas, dict):
        return []
    return [f"personas.{key}: names an external persona set (from: ...), which only an "
            "experiment file loader expands: use scaffold.loading.load_experiment or "
            "experiment_from_data" for key, entry in personas.items()
            if isinstance(entry, dict) and "from" in entry]


TASK_FILES = (("coding", "problems"), ("reading", "document"), ("selfchat", "openers"))
"""Task settings that name a file: resolved against the config's directory when loading."""


def _resolve_task_files(data: dict[str, Any], source: str,
                        base_dir: str | Path | None) -> dict[str, Any]:
    """Make task file paths absolute (relative to the config file) and check they exist."""
    task = data.get("task")
    if not isinstance(task, dict):
        return data
    task = dict(task)
    problems = []
    for section, key in TASK_FILES:
        settings = task.get(section)
        if not isinstance(settings, dict) or not isinstance(settings.get(key), str):
            continue
        path = Path(settings[key]).expanduser()
        if not path.is_absolute():
            path = (Path(base_dir) if base_dir else Path.cwd()) / path
        if not path.is_file():
            problems.append(f"task.{section}.{key}: file not found: {path}")
        task[section] = {**settings, key: str(path.resolve())}
    problems += _pick_opener(task)
    if problems:
        raise ConfigError(source, problems)
    return {**data, "task": task}


def _pick_opener(task: dict[str, Any]) -> list[str]:
    """Set `selfchat.opener` from entry `opener_index` of the `openers` file; problems found."""
    settings = task.get("selfchat")
    if not isinstance(settings, dict) or not isinstance(settings.get("openers"), str):
        return []
    path = Path(settings["openers"])
    if not path.is_file():
        return []  # already reported as file not found
    try:
        lines = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"task.selfchat.openers: cannot read {path}: {exc}"]
    if not isinstance(lines, list) or not lines or not all(isinstance(x, str) for x in lines):
        return [f"task.selfchat.openers: {path} must hold a non-empty JSON list of strings"]
    index = settings.get("opener_index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        return []  # the spec's own validation names the bad type
    if not 0 <= index < len(lines):
        return [f"task.selfchat.opener_index: {index} is out of range: {path} holds "
                f"{len(lines)} openers (0-{len(lines) - 1})"]
    task["selfchat"] = {**settings, "opener": lines[index]}
    return []


def parse_experiment(data: Any, source: str = "<config>",
                     base_dir: str | Path | None = None) -> ExperimentSpec:
    """Validate already-loaded data whose personas are all written out (scaffold.loading
    expands entries that name an external persona set before calling this).

    Args:
        data: the parsed experiment document.
        source: where it came from, for messages.
        base_dir: the directory relative task and axis file paths resolve against
            (default: CWD).

    Raises:
        ConfigError: with one field-path line per problem, including model names that no
            model plugin or litellm provider can route.
    """
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "an empty document"
        raise ConfigError(source, [f"(top level): expected a mapping of fields, got {kind}"])
    unexpanded = _unexpanded_sources(data)
    if unexpanded:
        raise ConfigError(source, unexpanded)
    data = resolve_axis_paths(_resolve_task_files(data, source, base_dir), base_dir)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, format_validation_error(exc)) from None
    unroutable = unroutable_models(spec)
    if unroutable:
        raise ConfigError(source, unroutable)
    if spec.sweep is not None:
        from scaffold.config._sweep import expand_sweep

        expand_sweep(spec, source)  # every combination must be valid too
    return spec


def apply_overrides(
    spec: ExperimentSpec,
    *,
    steps: int | None = None,
    model: str | None = None,
    seed: int | None = None,
    out: str | None = None,
    no_probes: bool = False,
    memory: str | None = None,
) -> ExperimentSpec:
    """Return a copy with CLI overrides applied and re-validated.

    Raises:
        ConfigError: an override makes the spec invalid.
    """
    data = spec.model_dump(mode="python")
    if steps is not None:
        data["steps"] = steps
    if seed is not None:
        data["seed"] = seed
    if out is not None:
        data["out"] = out
    if model is not None:
        data["model"] = model
        for agent in data["agents"]:
            agent["model"] = None
    if no_probes:
        data["probes"]["enabled"] = False
    if memory is not None:
        for agent in data["agents"]:
            agent["memory"]["condition"] = memory
            agent["memory"]["backends"] = []
    return parse_experiment(data, "command-line overrides")
