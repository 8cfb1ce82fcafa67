"""`scaffold memory`: list, and prune, the vector memories runs left on a Chroma server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from scaffold.errors import ScaffoldError

memory_app = typer.Typer(no_args_is_help=True, help="Vector memories on a Chroma server.")
out = Console()
err = Console(stderr=True)


@memory_app.command("collections")
def collections(
    chroma_url: Annotated[str, typer.Option(
        "--chroma-url", help="The Chroma server (http://host:port), as in "
                             "memory.vector.chroma_url.")],
    under: Annotated[Optional[Path], typer.Option(
        help="Only run directories under this directory (e.g. your runs/ output).")] = None,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Remove stale memories: collections of run directories that were "
                        "deleted or made again, and such runs' memories in shared "
                        "collections. Live runs and foreign collections are never touched.")
    ] = False,
) -> None:
    """List the collections on a Chroma server with the run directories that wrote them; a
    run directory that is gone (or was made again) is `stale`. Run it where the run
    directories are visible: one that cannot be found counts as deleted."""
    from memory.collections import list_collections, prune_collections

    try:
        reports = (prune_collections if prune else list_collections)(chroma_url, under)
    except ScaffoldError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    table = Table(title="removed" if prune else None)
    for col in ("collection", "owner", "memories", "state", "run directory"):
        table.add_column(col)
    for report in reports:
        if not report.runs:
            table.add_row(report.name, report.owner, str(report.memories), "-", "")
        for i, run in enumerate(report.runs):
            table.add_row(report.name if i == 0 else "", report.owner if i == 0 else "",
                          str(run.memories), run.state, run.run_dir)
    out.print(table)
    if prune:
        out.print(f"removed {sum(r.memories for r in reports)} stale memories "
                  f"from {len(reports)} collection(s)", highlight=False)
    else:
        stale = sum(1 for r in reports for run in r.runs if run.state == "stale")
        out.print(f"{len(reports)} collection(s), {stale} stale run(s)"
                  + ("; remove them with --prune" if stale else ""), highlight=False)
