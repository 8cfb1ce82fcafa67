"""Loading experiment files: YAML, validation, CLI overrides, field-path error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scaffold.config._experiment import ExperimentSpec
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


def _expand_persona_sources(data: dict[str, Any], source: str,
                            base_dir: str | Path | None) -> dict[str, Any]:
    """Replace `personas` entries that name an external set by the personas it holds."""
    from scaffold.personas import PersonaSourceError, expand_personas  # imports scaffold.config

    personas = data.get("personas")
    if not isinstance(personas, dict):
        return data
    try:
        expanded = expand_personas(personas, Path(base_dir) if base_dir else Path.cwd())
    except PersonaSourceError as exc:
        raise ConfigError(source, exc.problems) from None
    return {**data, "personas": expanded}


TASK_FILES = (("coding", "problems"), ("reading", "document"))
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
    if problems:
        raise ConfigError(source, problems)
    return {**data, "task": task}


def parse_experiment(data: Any, source: str = "<config>",
                     base_dir: str | Path | None = None) -> ExperimentSpec:
    """Validate already-loaded data.

    Args:
        data: the parsed experiment document.
        source: where it came from, for messages.
        base_dir: the directory relative persona-set paths resolve against (default: CWD).

    Raises:
        ConfigError: with one field-path line per problem.
    """
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "an empty document"
        raise ConfigError(source, [f"(top level): expected a mapping of fields, got {kind}"])
    data = _expand_persona_sources(data, source, base_dir)
    data = _resolve_task_files(data, source, base_dir)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, format_validation_error(exc)) from None
    if spec.sweep is not None:
        from scaffold.config._sweep import expand_sweep

        expand_sweep(spec, source)  # every combination must be valid too
    return spec


def read_yaml_file(path: str | Path, kind: str = "YAML") -> Any:
    """Read and parse a YAML (or JSON) file, with errors that name the file and the position.

    Args:
        path: the file.
        kind: what the file should be, for the message ("YAML", "YAML/JSON").

    Raises:
        ConfigError: the file is missing, unreadable, or not valid `kind`.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), [f"cannot read file: {exc}"]) from None
    return parse_yaml(text, str(p), kind)


def parse_yaml(text: str, source: str, kind: str = "YAML") -> Any:
    """Parse YAML text (JSON is YAML too).

    Raises:
        ConfigError: the text is not valid YAML; the message gives line and column.
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"invalid {kind}: {where}{problem}"]) from None


def load_experiment(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment YAML file.

    Raises:
        ConfigError: the file is missing, not YAML, or invalid.
    """
    p = Path(path)
    return parse_experiment(read_yaml_file(p), str(p), base_dir=p.resolve().parent)


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
