"""What the activation scores were read with: the reader and axis files each run's manifest
records (the run's own scoring and each rescore pass), grouped across runs."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from scaffold.events import ScoreEvent
from scaffold.metrics._models import ReaderSetting

if TYPE_CHECKING:
    from scaffold.metrics._runs import RunLog

SCORER = "activation"


def _axis(entry: Any) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    return (f"{entry.get('name', '?')}: {entry.get('path', '?')} (sha256 "
            f"{str(entry.get('sha256', '?'))[:12]}, layer {entry.get('layer', '?')})")


def _from_record(source: str, record: dict[str, Any]) -> tuple[Any, ...]:
    return (source, str(record.get("reader", "?")), record.get("reader_sha256"),
            record.get("layer"), tuple(_axis(a) for a in record.get("axes") or []))


def _from_scores(log: RunLog) -> tuple[Any, ...] | None:
    """For runs whose manifest has no record: the reader, its sha256, the axes and layers the
    score details name (no axis files: older runs did not record them)."""
    from scaffold.activations.details import activation_details

    found: dict[str, set[str]] = defaultdict(set)
    for e in log.events:
        if isinstance(e, ScoreEvent) and e.scorer == SCORER:
            d = activation_details(e.raw)
            if d is not None:
                found["reader"].add(d.reader)
                found["sha"].add(d.reader_sha256)
                found["axes"].add(f"{d.axis} (layer {d.layer})")
                for p in (d.assistant, d.persona):
                    if p is not None:
                        found["axes"].add(f"{p.axis} (layer {p.layer})")
    if not found:
        return None
    return ("scores", ", ".join(sorted(found["reader"])), ", ".join(sorted(found["sha"])),
            None, tuple(sorted(found["axes"])))


def reader_settings(logs: list[RunLog]) -> list[ReaderSetting]:
    """Each distinct activation reader setting and the runs (or rescore passes) that used it:
    from the manifest's `scorers.activation` and `rescores[*].settings.activation`, else from
    the score details of runs recorded before manifests kept it."""
    groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for log in logs:
        manifest = log.manifest
        record = (manifest.get("scorers") or {}).get(SCORER)
        keys = []
        if isinstance(record, dict):
            keys.append((_from_record("run", record), log.run_id))
        for pass_id, rescore in sorted((manifest.get("rescores") or {}).items()):
            settings = (rescore or {}).get("settings") or {}
            if isinstance(settings.get(SCORER), dict):
                keys.append((_from_record("rescore", settings[SCORER]),
                             f"{log.run_id} ({pass_id})"))
        if not keys:
            fallback = _from_scores(log)
            keys = [(fallback, log.run_id)] if fallback else []
        for key, ref in keys:
            groups[key].append(ref)
    return [ReaderSetting(source=source, reader=reader, reader_sha256=sha, layer=layer,
                          axes=list(axes), runs=refs)
            for (source, reader, sha, layer, axes), refs in groups.items()]
