"""Pack runs for shipping: each run's event log gzipped and its manifest, all a report needs."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from scaffold.errors import RunDirError
from scaffold.metrics._runs import find_run_dirs
from scaffold.recorder import PACKED_EVENTS_FILE, event_log


def pack_runs(directory: Path, out: Path) -> list[Path]:
    """Write, for every run at or under `directory`, `events.jsonl.gz` and `manifest.json` into
    `out`, keeping the runs' relative layout (a single run goes to `out/<run dir name>`).

    The gzip files carry no timestamp, so packing the same logs twice gives the same bytes;
    `scaffold report` on `out` gives the same numbers as on `directory` (see
    `recorder.event_log`). Cassettes and checkpoints are left behind: they serve replay and
    resume, not reports.

    Returns:
        The files written.

    Raises:
        RunDirError: no runs under `directory`, or `out` lies inside one of them.
    """
    runs = find_run_dirs(directory)
    out = out.resolve()
    written = []
    for run_dir in runs:
        if out.is_relative_to(run_dir.resolve()):
            raise RunDirError(f"{out} lies inside the run {run_dir}: pack into another folder")
        relative = run_dir.relative_to(directory) if run_dir != directory else Path()
        target = out / (relative if relative.parts else Path(run_dir.resolve().name))
        target.mkdir(parents=True, exist_ok=True)
        log = event_log(run_dir)
        packed = target / PACKED_EVENTS_FILE
        if log.suffix == ".gz":
            shutil.copyfile(log, packed)
        else:
            with log.open("rb") as src, packed.open("wb") as raw, \
                    gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0,
                                  filename="") as dst:
                shutil.copyfileobj(src, dst)
        written.append(packed)
        manifest = run_dir / "manifest.json"
        if manifest.is_file():
            shutil.copyfile(manifest, target / "manifest.json")
            written.append(target / "manifest.json")
    return written
