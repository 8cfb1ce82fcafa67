"""`scaffold axis`: build activation axes on a reader model, and show what an axis file holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table

from scaffold.errors import ConfigError, ScaffoldError

if TYPE_CHECKING:
    from rich.progress import Progress

    from scaffold.activations import Axis

axis_app = typer.Typer(no_args_is_help=True,
                       help="Activation axes: directions in a model's residual stream.")
out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int) -> NoReturn:
    from rich.markup import escape

    # escaped: `[activations-hf]` in an install hint is text, not a style tag
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False,
              soft_wrap=True)
    raise typer.Exit(code)


def _layers(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        _fail(f"--layers: {text!r} is not a comma-separated list of block numbers", 2)


def default_out(kind: str, name: str, sha256: str) -> Path:
    """Where a built axis goes when `--out` is not given (the activation scorer looks there)."""
    from scaffold.activations.discovery import axes_cache_dir
    from scaffold.personas._source import slug

    return axes_cache_dir() / f"{kind}-{slug(name)}-{sha256[:8]}.npz"


def _progress(label: str) -> tuple[Progress, Callable[[int], Callable[[], None]]]:
    """A progress bar on stderr and the function that adds a task of `total` responses."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=err)

    def start(total: int) -> Callable[[], None]:
        task = bar.add_task(label, total=total)
        return lambda: bar.advance(task)

    return bar, start


@axis_app.command("build")
def build(
    kind: Annotated[str, typer.Option(help="assistant (default minus roles) or persona "
                                           "(in persona minus default).")] = "assistant",
    roles: Annotated[Optional[Path], typer.Option(
        help="Assistant-Axis role files (a directory with default.json); needed for the "
             "assistant axis, optional extraction questions for a persona axis.")] = None,
    persona: Annotated[Optional[list[Path]], typer.Option(
        help="Persona file (YAML); repeat for one axis per persona.")] = None,
    model: Annotated[str, typer.Option(
        help="The reader model: local/<name or .gguf> (llama.cpp) or hf/<repo or directory> "
             "(transformers, the activations-hf extra).")] = "local/qwen2.5-0.5b-instruct",
    out_path: Annotated[Optional[Path], typer.Option(
        "--out", help="Output file (a directory when several personas); default: the axes "
                      "cache the activation scorer reads.")] = None,
    layers: Annotated[str, typer.Option(help="Blocks to read, comma-separated.")]
    = "6,9,12,15,18,21",
    n_roles: Annotated[int, typer.Option("--n-roles", min=2, help="Roles to build from.")] = 6,
    questions: Annotated[int, typer.Option(min=1, help="Questions per role.")] = 4,
    held_out_roles: Annotated[int, typer.Option(min=0, help="Roles kept for validation.")] = 3,
    held_out_questions: Annotated[int, typer.Option(
        min=0, help="Questions per held-out role.")] = 3,
    extra_questions: Annotated[int, typer.Option(
        min=0, help="Persona axis: extraction questions drawn from --roles.")] = 8,
    held_out: Annotated[float, typer.Option(
        min=0.0, max=0.9, help="Persona axis: fraction of questions kept for validation.")] = 0.3,
    max_tokens: Annotated[int, typer.Option(min=4, help="Tokens per response.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed of the prompt split and generation.")] = 0,
) -> None:
    """Make greedy responses on the reader model, read each one's activations, and write the
    difference of the group means per layer, with the build's settings and statistics."""
    chosen: Literal["assistant", "persona"]
    if kind not in ("assistant", "persona"):
        _fail(f"--kind: {kind!r} is not assistant or persona", 2)
    chosen = "assistant" if kind == "assistant" else "persona"
    if chosen == "assistant" and roles is None:
        _fail("--roles: the assistant axis needs the role files (e.g. "
              "../shared/datasets/assistant_axis/roles)", 2)
    if chosen == "persona" and not persona:
        _fail("--persona: a persona axis needs at least one persona file", 2)
    if roles is not None and not (roles / "default.json").is_file():
        _fail(f"--roles: {roles} has no default.json (the Assistant-Axis role directory)", 2)
    from scaffold.activations import ActivationsUnavailable

    try:
        axes = _build_all(chosen, roles, persona or [], model, _layers(layers), n_roles,
                          questions, held_out_roles, held_out_questions, extra_questions,
                          held_out, max_tokens, seed)
    except (ConfigError, ActivationsUnavailable, ValueError) as exc:
        # a bad setting: an API or scripted --model, or an hf/ model without its extra
        _fail(str(exc), 2)
    except ScaffoldError as exc:
        _fail(str(exc), 1)
    _write(axes, out_path)


def _build_all(kind: str, roles: Path | None, personas: list[Path], model: str,
               layers: tuple[int, ...], n_roles: int, questions: int, held_out_roles: int,
               held_out_questions: int, extra: int, held_out: float, max_tokens: int,
               seed: int) -> list[Axis]:
    from scaffold.activations import open_reader
    from scaffold.activations.build import (
        AssistantOptions,
        PersonaOptions,
        build_assistant_axis,
        build_persona_axis,
    )
    from scaffold.trackers.standalone import load_persona

    err.print(f"loading {model} to read its activations")
    reader = open_reader(model)
    axes = []
    if kind == "assistant" and roles is not None:
        opts = AssistantOptions(n_roles, questions, held_out_roles, held_out_questions,
                                max_tokens, seed, layers)
        bar, start = _progress("assistant axis")
        with bar:
            axes.append(build_assistant_axis(reader, roles, opts, start))
    for file in personas:
        spec = load_persona(file)
        popts = PersonaOptions(extra, held_out, max_tokens, seed, layers)
        bar, start = _progress(f"persona axis: {spec.name}")
        with bar:
            axes.append(build_persona_axis(reader, spec, file, roles, popts, start))
    return axes


def _write(axes: list[Axis], out_path: Path | None) -> None:
    from scaffold.activations import save_axis

    for axis in axes:
        meta = axis.meta
        target = default_out(meta.kind, meta.persona or meta.name, meta.model.sha256)
        if out_path is not None:
            target = out_path / target.name if len(axes) > 1 or out_path.is_dir() else out_path
        save_axis(axis, target)
        stats = meta.stats[meta.layer]
        out.print(f"{meta.name}: layer {meta.layer}, build AUROC {stats.auroc:.3f}, d "
                  f"{stats.d:+.2f}, {meta.counts['default']} default / {meta.counts['other']} "
                  f"other responses in {meta.settings.seconds:.0f} s -> {target}",
                  highlight=False, markup=False)


@axis_app.command("show")
def show(path: Annotated[Path, typer.Argument(help="An axis file (.npz).")]) -> None:
    """What an axis was built from, and how its layers separate the build's responses."""
    from scaffold.activations import load_axis

    try:
        axis = load_axis(path)
    except ConfigError as exc:
        _fail(str(exc), 2)
    meta = axis.meta
    out.print(f"{meta.name} ({meta.direction}) on {meta.model.name} [{meta.model.file}, "
              f"sha256 {meta.model.sha256[:12]}]; scoring layer {meta.layer}; responses "
              f"{meta.counts}; {meta.settings.max_tokens} tokens each, seed "
              f"{meta.settings.seed}, {meta.settings.seconds:.0f} s", highlight=False,
              markup=False)
    table = Table("layer", "default mean", "default std", "other mean", "other std",
                  "build AUROC", "d")
    for layer in meta.layers:
        s = meta.stats[layer]
        table.add_row(str(layer), f"{s.default_mean:.3f}", f"{s.default_std:.3f}",
                      f"{s.other_mean:.3f}", f"{s.other_std:.3f}", f"{s.auroc:.3f}",
                      f"{s.d:+.2f}")
    out.print(table)
