"""The `scaffold` command line: validate, run, plugins."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table

from scaffold.cli_axis import axis_app
from scaffold.cli_memory import memory_app
from scaffold.errors import ConfigError, ScaffoldError

if TYPE_CHECKING:  # imported lazily at run time: `scaffold --help` stays fast
    from rich.progress import TaskID

    from scaffold.config import ExperimentSpec
    from scaffold.plan import RunEstimate
    from scaffold.run_summary import AgentSummary
    from scaffold.runner import RunResult

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Scaffold: does a non-standard self survive a long, memory-managed run?")
out = Console()
err = Console(stderr=True)
app.add_typer(memory_app, name="memory")
app.add_typer(axis_app, name="axis")


def _fail(exc: ScaffoldError, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _fail_for(exc: ScaffoldError) -> NoReturn:
    """Exit 2 for a bad config or setting, 1 for anything else that went wrong."""
    _fail(exc, 2 if isinstance(exc, ConfigError) else 1)


StepsOption = Annotated[Optional[int], typer.Option(help="Override the number of steps.")]
ModelOption = Annotated[Optional[str], typer.Option(help="Override every agent's model.")]
SeedOption = Annotated[Optional[int], typer.Option(help="Override the seed.")]
OutOption = Annotated[Optional[str], typer.Option("--out", help="Output directory.")]
NoProbesOption = Annotated[bool, typer.Option("--no-probes", help="Turn probes off.")]
MemoryOption = Annotated[Optional[str], typer.Option(
    help="Override every agent's memory condition (window, summary, vector, summary+vector, "
         "core-ro, core-rw, notes, full, reflection, facts, sleeptime, files, summary+<one of "
         "those four>, or a plugin).")]


def _variants(config: Path, **overrides: object) -> list[ExperimentSpec]:
    """The runs of an experiment file with CLI overrides applied; a bad config exits 2."""
    from scaffold.config import apply_overrides, expand_sweep
    from scaffold.loading import load_experiment

    try:
        spec = load_experiment(config, unmeasured_ok=bool(overrides.get("no_probes")))
        if any(value is not None and value is not False for value in overrides.values()):
            spec = apply_overrides(spec, **overrides)  # type: ignore[arg-type]
        return expand_sweep(spec, str(config))
    except ConfigError as exc:
        _fail(exc, 2)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    no_probes: Annotated[bool, typer.Option(
        "--no-probes", help="Accept an experiment that measures nothing, as `run --no-probes` "
                            "does.")] = False,
) -> None:
    """Check an experiment file; print `ok` or every problem with its field path (exit 2)."""
    from scaffold.loading import load_experiment

    try:
        load_experiment(file, unmeasured_ok=no_probes)
    except ConfigError as exc:
        _fail(exc, 2)
    out.print("ok")


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    steps: StepsOption = None,
    model: ModelOption = None,
    seed: SeedOption = None,
    out_dir: OutOption = None,
    no_probes: NoProbesOption = False,
    memory: MemoryOption = None,
    replay: Annotated[Optional[Path], typer.Option(
        help="Serve every model call from this run directory's cassette.")] = None,
    executor: Annotated[str, typer.Option(help="local (asyncio) or ray.")] = "local",
    address: Annotated[Optional[str], typer.Option(
        help="Ray cluster address (with --executor ray).")] = None,
) -> None:
    """Run an experiment (resumes an unfinished run with the same spec)."""
    variants = _variants(config, steps=steps, model=model, seed=seed, out=out_dir,
                         no_probes=no_probes, memory=memory)
    if replay and len(variants) > 1:
        variants = _replayed_variant(variants, replay)
    if executor not in ("local", "ray") or (executor == "ray" and replay):
        _fail(ScaffoldError("--executor is 'local' or 'ray' (replay runs locally)"), 2)
    try:
        if executor == "ray":
            from scaffold.ray_executor import RayExecutor

            results = RayExecutor(variants, address).run_all()
        else:
            results = _execute_all(variants, replay)
    except ScaffoldError as exc:
        _fail(exc, 1)
        return
    failed = sum(not _report_run(r) for r in results)
    if failed:
        err.print(f"{failed} of {len(results)} run(s) did not finish", highlight=False)
        raise typer.Exit(1)


def _replayed_variant(variants: list[ExperimentSpec], replay: Path) -> list[ExperimentSpec]:
    """The one run of a sweep that `replay` recorded (matched by run id)."""
    from scaffold.runner import run_id_for

    source = replay.resolve().name.removesuffix("-replay")
    matching = [v for v in variants if run_id_for(v) == source]
    if len(matching) != 1:
        _fail(ScaffoldError(f"--replay serves one run: this file sweeps {len(variants)} runs "
                            f"and none of them is {source}; replay with the experiment file "
                            "that run was made from"), 2)
    return matching


def _report_run(result: RunResult) -> bool:
    """Print one run's summary; True when it finished."""
    from scaffold.recorder import EVENTS_FILE, read_events
    from scaffold.run_summary import summarize_run

    run_dir = result.run_dir
    status = result.status
    if result.skipped:
        err.print(f"already done: {run_dir} (delete it to run again)", highlight=False)
    if (run_dir / EVENTS_FILE).exists():
        try:
            _print_summary(summarize_run(read_events(run_dir / EVENTS_FILE)), run_dir)
        except ScaffoldError as exc:
            err.print(f"error: {exc}", highlight=False, soft_wrap=True)
    if status != "done":
        error = result.error or ""
        err.print(f"run {run_dir.name} ended with status {status}: {error}", highlight=False,
                  soft_wrap=True)
        return False
    _warn_tracker_errors(run_dir)
    return True


def _warn_tracker_errors(run_dir: Path) -> None:
    """Say loudly when a finished run's trackers failed: its rounds or scores have gaps."""
    from scaffold.recorder import RunRecorder

    try:
        manifest = RunRecorder(run_dir).read_manifest()
    except ScaffoldError:
        return
    if manifest is not None and manifest.tracker_errors:
        err.print(f"[bold red]warning:[/] run {run_dir.name} finished with "
                  f"{manifest.tracker_errors} tracker error(s): some probe rounds or scores are "
                  "missing (see the tracker_error events in events.jsonl)", soft_wrap=True)


def _prepare_local_models(specs: list[ExperimentSpec], replay: Path | None) -> None:
    """Assemble and load the embedded model before the first step, saying so (a first run
    would otherwise sit silent for a minute)."""
    if replay is not None:
        return
    names = sorted({model for spec in specs for agent in spec.agents
                    for model in (spec.agent_model(agent), spec.summarizer_model(agent))
                    if model.startswith("local/")})
    if not names:
        return
    from scaffold.models.local import prepare

    in_process = all(spec.execution.workers <= 1 for spec in specs)
    for name in names:
        try:
            prepare(name, lambda line: err.print(line, highlight=False, soft_wrap=True),
                    specs[0].local.model_dump(), load=in_process)
        except ScaffoldError as exc:
            _fail(exc, 1)


def _finished_before(run_dir: Path) -> bool:
    """Whether an earlier sitting finished this run (the executor will skip it)."""
    from scaffold.recorder import RunRecorder

    try:
        manifest = RunRecorder(run_dir).read_manifest()
    except ScaffoldError:
        return False
    return manifest is not None and manifest.status == "done"


def _execute_all(specs: list[ExperimentSpec], replay: Path | None) -> list[RunResult]:
    """Run every spec with the local executor. On a terminal: a bar for the whole sweep (runs
    done, time left at this sitting's rate) and one per running run; otherwise a line per
    step, and a sweep line each time a run finishes."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from scaffold.executors import LocalExecutor
    from scaffold.sweep_progress import SweepProgress

    _prepare_local_models(specs, replay)

    executor = LocalExecutor(specs, replay)
    dirs = [executor.run_dir(spec) for spec in specs]
    sweep = SweepProgress(steps={d.name: spec.steps for d, spec in zip(dirs, specs, strict=True)},
                          done_before={d.name for d in dirs if _finished_before(d)})
    progress = Progress("[progress.description]{task.description}", BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                        disable=not err.is_terminal)
    many = len(specs) > 1
    with progress:
        total = progress.add_task(sweep.line() if many else "all runs",
                                  total=sweep.total_steps, completed=sweep.steps_done)
        bars: dict[str, TaskID] = {}

        def on_step(run_id: str, step: int, steps: int) -> None:
            if run_id not in bars:
                bars[run_id] = progress.add_task(run_id, total=steps)
            progress.update(bars[run_id], completed=step)
            finished = sweep.step(run_id, step)
            progress.update(total, completed=sweep.steps_done,
                            description=sweep.line() if many else "all runs")
            if finished and many:
                progress.remove_task(bars.pop(run_id))
            if not err.is_terminal:
                err.print(f"{run_id}: step {step}/{steps}", highlight=False)
                if finished and many:
                    err.print(f"sweep: {sweep.line()}", highlight=False)

        executor.progress = on_step
        return asyncio.run(executor.run_all())


def _print_left_out(skipped: list[str]) -> None:
    """Name the runs a report or export left out (damaged event logs)."""
    for reason in skipped:
        err.print(f"left out: {reason}", highlight=False, soft_wrap=True)


def _print_summary(rows: list[AgentSummary], run_dir: Path) -> None:
    from scaffold.run_summary import summary_rows

    table = Table(title=f"run {run_dir}", title_justify="left")
    table.add_column("metric")
    for r in rows:
        table.add_column(r.agent_id)
    for label, cells in summary_rows(rows):
        table.add_row(label, *cells)
    out.print(table)


def _other_axes(config: Path) -> list[str]:
    """Sweep axes of an experiment file that the plan table has no column for."""
    from scaffold.loading import load_experiment

    try:
        sweep = load_experiment(config, unmeasured_ok=True).sweep
    except ConfigError:
        return []
    shown = {"memory", "model", "seed", "steps", "task.kind"}
    return [axis for axis in (sweep.axes() if sweep else {}) if axis not in shown]


@app.command()
def plan(
    config: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    no_probes: NoProbesOption = False,
) -> None:
    """Print the runs an experiment expands to and an estimated call and token budget."""
    from scaffold.metrics._groups import axis_value
    from scaffold.plan import estimate
    from scaffold.runner import run_id_for

    variants = _variants(config, no_probes=no_probes)
    axes = _other_axes(config)
    table = Table(title=f"{len(variants)} run(s)", title_justify="left")
    for col in ("run id", "agents", "model", "memory", "task", "seed", "steps", *axes,
                "calls", "prompt tokens", "completion tokens"):
        table.add_column(col)
    totals = [0, 0, 0, 0, 0]
    for spec in variants:
        est = estimate(spec)
        totals = [a + b for a, b in zip(totals, (est.calls, est.calls_low, est.calls_high,
                                                 est.prompt_tokens, est.completion_tokens))]
        data = spec.model_dump(mode="json")
        table.add_row(run_id_for(spec), str(len(spec.agents)),
                      ", ".join(sorted({spec.agent_model(a) for a in spec.agents})),
                      ", ".join(sorted({a.memory.condition for a in spec.agents})),
                      spec.task.kind, str(spec.seed), str(spec.steps),
                      *(str(axis_value(data, axis)) for axis in axes), _calls_cell(est),
                      f"~{est.prompt_tokens:,}", f"~{est.completion_tokens:,}")
    table.add_row("total", *[""] * (6 + len(axes)),
                  f"~{totals[0]} ({totals[1]}-{totals[2]})", f"~{totals[3]:,}",
                  f"~{totals[4]:,}")
    out.print(table)
    out.print("Calls are an estimate: ~expected (range). Expected: agent calls, periodic and end "
              "probe rounds, and the memory events a run of this budget and threshold should "
              "have (context filling with replies at 90% of their token cap), each with its "
              "probe rounds before and after and its helper calls (listed under the count, "
              "included); the range runs from a context that never fills (scheduled memory "
              "events only) to replies at their cap, helper calls retried and a memory tool "
              "called at every act. Prompt tokens assume a full context (threshold × budget).")


def _calls_cell(est: RunEstimate) -> str:
    """~expected (low-high), then the expected helper calls by role."""
    cell = f"~{est.calls} ({est.calls_low}-{est.calls_high})"
    if est.memory_calls:
        cell += "\n" + ", ".join(f"{n} {r}" for r, n in est.memory_calls.items())
    return cell


@app.command()
def fork(
    run_dir: Annotated[Path, typer.Argument(help="The run directory to fork.")],
    at_step: Annotated[int, typer.Option("--at-step", help="Continue from this step.")],
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="key=value: memory=NAME, model=NAME, steps=N, or a dotted spec path.")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("runs"),
) -> None:
    """Continue a run from step N's checkpoint under changed settings (same history up to N)."""
    from scaffold.fork import prepare_fork
    from scaffold.runner import Run

    try:
        spec, target = asyncio.run(prepare_fork(run_dir, at_step, set_ or [], out_dir))
    except ScaffoldError as exc:
        _fail_for(exc)
        return
    err.print(f"fork of {run_dir} at step {at_step} -> {target}", highlight=False)
    try:
        asyncio.run(Run(spec, target).execute())
    except ScaffoldError as exc:
        _fail(exc, 1)
    from scaffold.recorder import EVENTS_FILE, read_events
    from scaffold.run_summary import summarize_run

    _print_summary(summarize_run(read_events(target / EVENTS_FILE)), target)


@app.command()
def rescore(
    run_dir: Annotated[Path, typer.Argument(
        help="A run directory, or a directory of runs (each is re-scored).")],
    scorer: Annotated[Optional[list[str]], typer.Option(
        help="Scorer to apply (repeatable): rules, break, embedding, judge, ...")] = None,
    judge_model: Annotated[Optional[str], typer.Option(help="Judge model for 'judge'.")] = None,
    reprobe: Annotated[bool, typer.Option(
        "--reprobe", help="Ask probes again on the recorded contexts.")] = False,
    config: Annotated[Optional[Path], typer.Option(
        help="Take probes and settings from this experiment file (with --reprobe).")] = None,
    personas: Annotated[Optional[Path], typer.Option(
        help="Score with the persona definitions (probes, rules, anchors) of this experiment "
             "file, matched to each run's personas by key.")] = None,
    reader: Annotated[Optional[str], typer.Option(
        help="activation: the model that reads the texts (local/... or hf/...); default the "
             "one the run's manifest recorded.")] = None,
    axis: Annotated[Optional[list[Path]], typer.Option(
        help="activation: an axis file (repeatable); default the files the run's manifest "
             "recorded.")] = None,
    layer: Annotated[Optional[int], typer.Option(
        help="activation: score at this layer; default the one the run's manifest "
             "recorded (each axis's own).")] = None,
    target: Annotated[Optional[list[str]], typer.Option(
        "--target", help="Score only this (repeatable): probe (probe answers), reply (the "
                         "agent's replies) or memory (memory texts). Default: all three.")
    ] = None,
    again: Annotated[bool, typer.Option(
        "--again", help="Also score runs that a finished pass with the same settings already "
                        "scored (skipped by default, so an interrupted rescore of many runs "
                        "continues where it stopped).")] = False,
) -> None:
    """Score recorded probe answers, replies and memory text again (old scores kept; a judge
    costs one call per text), or re-probe recorded contexts."""
    from scaffold.loading import load_experiment
    from scaffold.metrics import find_run_dirs
    from scaffold.recorder import EVENTS_FILE
    from scaffold.rescore import Rescorer

    activation = {key: value for key, value in (
        ("reader", reader), ("axes", [str(p) for p in axis] if axis else None),
        ("layer", layer)) if value is not None}
    try:
        spec = load_experiment(config) if config else None
        replaced = load_experiment(personas, unmeasured_ok=True).personas if personas else None
        runs = find_run_dirs(run_dir)
        for i, one in enumerate(runs, 1):
            rescorer = Rescorer(one, scorer or ["rules"], judge_model, spec, replaced,
                                activation, target)
            where = f"[{i}/{len(runs)}] " if len(runs) > 1 else ""
            done = None if again else rescorer.finished_before(reprobe)
            if done is not None:
                out.print(f"{where}{one}: already scored with these settings ({done}); "
                          "--again scores it again", highlight=False, soft_wrap=True)
                continue
            added = asyncio.run(rescorer.run(reprobe=reprobe))
            out.print(f"{where}{added} events appended to {one / EVENTS_FILE} "
                      f"({rescorer.pass_id})", highlight=False, soft_wrap=True)
    except ScaffoldError as exc:
        _fail_for(exc)
        return


@app.command()
def score(
    persona: Annotated[Path, typer.Option(help="Persona file (YAML: name, identity, anchors).")],
    answer: Annotated[str, typer.Option(help="The answer or memory text to score.")],
    scorer: Annotated[Optional[list[str]], typer.Option(
        help="Scorer (repeatable): break, rules, embedding, judge, leakage, ...")] = None,
    question: Annotated[Optional[str], typer.Option(
        help="The question answered (a persona probe's question applies its rules); "
             "without it the text is scored as memory.")] = None,
    judge_model: Annotated[Optional[str], typer.Option(help="Judge model for 'judge'.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per scorer.")] = False,
) -> None:
    """Score one text as a persona with the named scorers, without a run."""
    from scaffold.errors import PluginNotFound
    from scaffold.trackers.standalone import build_scorer, load_persona, score_text

    try:
        spec = load_persona(persona)
        results = [score_text(build_scorer(name, spec, judge_model), spec, answer, question)
                   for name in scorer or ["break", "embedding"]]
    except PluginNotFound as exc:
        _fail(exc, 2)
    except ScaffoldError as exc:
        _fail_for(exc)
    for result in results:
        value = "unscored" if result.value is None else f"{result.value:.3f}"
        out.print(result.model_dump_json() if as_json else
                  f"{result.scorer} v{result.version}: {value}  {result.explanation}",
                  markup=False, highlight=False, soft_wrap=True)


@app.command()
def plugins(kind: Annotated[Optional[str], typer.Argument(help="Only this kind.")] = None) -> None:
    """List installed plugins (built-in and third-party) without importing them."""
    from scaffold.registry import list_plugins

    table = Table()
    for col in ("kind", "name", "source", "target"):
        table.add_column(col)
    for p in list_plugins(kind):
        table.add_row(p.kind, p.name, p.source, p.target)
    out.print(table)


def _run_dir_arg(directory: Path) -> None:
    if not directory.is_dir():
        _fail(ScaffoldError(f"no such directory: {directory}"), 2)


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(
        help="A run directory, an experiment directory, or an output directory of runs.")],
    fmt: Annotated[Literal["html", "md", "json"], typer.Option(
        "--format", help="html: DIR/report.html; md: DIR/report.md and PNGs; "
                         "json: metrics to stdout, nothing written.")] = "html",
    smooth_steps: Annotated[int, typer.Option(
        "--smooth-steps", min=1, help="Steps in the (centred) smoothing window.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap intervals.")] = 0,
    by: Annotated[Optional[list[str]], typer.Option(
        "--by", help="Group agents by this (repeatable): condition, persona, agent, seed, or a "
                     "dotted spec path such as agents.0.persona. Default: condition.")] = None,
    agent: Annotated[Optional[list[str]], typer.Option(
        "--agent", help="Only this agent id (repeatable), e.g. the probed agent of a "
                        "self-chat.")] = None,
    jobs: Annotated[Optional[int], typer.Option(
        "--jobs", min=1, help="Processes drawing the figures (default: one per CPU); the "
                              "report is the same for any number.")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Draw every figure again instead of reusing those drawn before "
                           "from the same data (kept in the Scaffold cache directory).")] = False,
    runs: Annotated[bool, typer.Option(
        "--runs/--no-runs", help="Include each run's own section (curves, memory tables, "
                                 "probe answers); --no-runs for studies of many runs.")] = True,
    reference: Annotated[Optional[str], typer.Option(
        "--reference", help="The condition (group label, as the report names it) the others "
                            "are contrasted with. Default: window when there is one, else "
                            "the first.")] = None,
) -> None:
    """Identity curves, half-life, breaks, event deltas and scorer agreement from event logs."""
    from scaffold.metrics import MetricsSettings
    from scaffold.report import metrics_json, write_report

    _run_dir_arg(directory)
    settings = MetricsSettings(smooth_steps=smooth_steps, seed=seed,
                               group_by=by or ["condition"], agents=agent or [],
                               reference=reference)
    skipped: list[str] = []
    try:
        if fmt == "json":
            typer.echo(metrics_json(directory, settings))
            return
        files = write_report(directory, fmt, settings, skipped, jobs, not no_cache, runs)
    except ScaffoldError as exc:
        _fail_for(exc)
        return
    _print_left_out(skipped)
    out.print(f"wrote {files[0]}" + (f" and {len(files) - 1} figure(s)" if len(files) > 1
                                     else ""), highlight=False, soft_wrap=True)


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(
        help="A run directory, an experiment directory, or an output directory of runs.")],
    parquet: Annotated[bool, typer.Option(
        "--parquet", help="Write events.parquet and scores.parquet into each run directory "
                          "(needs pyarrow).")] = False,
    inspect: Annotated[bool, typer.Option(
        "--inspect", help="Write <run id>.eval, an Inspect AI log (agents as samples, "
                          "transcripts, identity scores, memory and probe events), into each "
                          "run directory (needs inspect-ai).")] = False,
    pack: Annotated[Optional[Path], typer.Option(
        "--pack", help="Write each run's event log gzipped and its manifest into this folder "
                       "(same layout): what `scaffold report` needs, to ship with a study.")
    ] = None,
) -> None:
    """Export event logs as flat tables for analysis, as Inspect AI logs, or packed to ship."""
    from scaffold.report import export_inspect, export_parquet, pack_runs

    _run_dir_arg(directory)
    if not (parquet or inspect or pack):
        _fail(ScaffoldError("choose what to export: --parquet, --inspect and/or --pack DIR"), 2)
    skipped: list[str] = []
    try:
        files = pack_runs(directory, pack) if pack is not None else []
        files += export_parquet(directory, skipped) if parquet else []
        if inspect:
            left_out: list[str] = []
            files += export_inspect(directory, left_out)
            skipped += [reason for reason in left_out if reason not in skipped]
    except ScaffoldError as exc:
        _fail(exc, 1)
        return
    for path in files:
        out.print(f"wrote {path}", highlight=False, soft_wrap=True)
    _print_left_out(skipped)


@app.command()
def tui(
    config: Annotated[Optional[Path], typer.Argument(
        help="Experiment YAML file to run with the live view.")] = None,
    attach: Annotated[Optional[Path], typer.Option(
        help="Follow a run directory, or every run under an experiment directory, that "
             "another process is writing (quitting never disturbs it).")] = None,
    steps: StepsOption = None,
    model: ModelOption = None,
    seed: SeedOption = None,
    out_dir: OutOption = None,
    no_probes: NoProbesOption = False,
    memory: MemoryOption = None,
) -> None:
    """Run an experiment in a terminal UI, or follow one (--attach DIR) from its event logs."""
    if (config is None) == (attach is None):
        _fail(ScaffoldError("give an experiment file to run, or --attach DIR to follow"), 2)
    if attach is not None:
        _run_dir_arg(attach)
        from tui import ScaffoldApp

        ScaffoldApp.attach(attach).run()
        return
    assert config is not None
    variants = _variants(config, steps=steps, model=model, seed=seed, out=out_dir,
                         no_probes=no_probes, memory=memory)
    from tui import ScaffoldApp

    viewer = ScaffoldApp.run_experiment(variants)
    viewer.run()
    if viewer.failed:
        raise typer.Exit(1)


def load_env_file(path: Path = Path(".env")) -> None:
    """API keys may live in a `.env` file; the environment wins over it."""
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    load_env_file()
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; run the same command again to resume")
        sys.exit(130)


if __name__ == "__main__":
    main()
