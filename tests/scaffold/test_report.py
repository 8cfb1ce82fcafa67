"""`scaffold report` and `scaffold export`: built from events.jsonl alone, escaped, linked."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.metrics import ReportMetrics, compute_metrics
from scaffold.models.scripted import Script, register_script
from tests.helpers import events_of, make_spec, run_spec
from tests.scaffold.test_metrics import use_persona_words

runner = CliRunner()
HOSTILE = "<script>alert('x')</script>"
SECTIONS = ("Conditions", "Half-life survival", "Event deltas", "Scorer agreement",
            "Identity curves", "Memory text scores", "Token shares", "Probe answers")


@pytest.fixture(scope="module")
def source_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run that breaks at step 7 and whose answers and summaries carry markup."""
    register_script("report-hostile", Script(
        break_at=7, probe_reply="{anchors} " + HOSTILE,
        summary_reply="Summary <img src=x onerror=alert(1)> {anchor}"))
    spec = make_spec(tmp_path_factory.mktemp("src"), model="scripted/report-hostile", steps=12,
                     probes={"every": 2, "scorers": ["rules", use_persona_words()]})
    return run_spec(spec)


@pytest.fixture
def run_dir(source_run: Path, tmp_path: Path) -> Path:
    """A copy of the source run holding nothing but events.jsonl."""
    target = tmp_path / source_run.name
    shutil.copytree(source_run, target)
    for entry in target.iterdir():
        if entry.name != "events.jsonl":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return target


class Anchors(HTMLParser):
    """Collects element ids, in-page link targets, and link targets inside SVG."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.svg_hrefs: list[str] = []
        self.tags: set[str] = set()
        self._svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._svg += tag == "svg"
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        href = found.get("href") or found.get("xlink:href")
        if href:
            self.hrefs.append(href)
            if self._svg and tag == "a":
                self.svg_hrefs.append(href)

    def handle_endtag(self, tag: str) -> None:
        self._svg -= tag == "svg"


def parse(path: Path) -> Anchors:
    parser = Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_report_renders_from_events_alone(run_dir: Path) -> None:
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    for title in SECTIONS:
        assert f">{title}</h" in html, title
    page = parse(run_dir / "report.html")
    assert "svg" in page.tags and "script" not in page.tags and "link" not in page.tags
    assert not re.search(r'\bsrc="(?!data:)', html)  # nothing loaded from elsewhere


def test_every_link_resolves_and_every_point_links_to_its_answers(run_dir: Path) -> None:
    assert runner.invoke(app, ["report", str(run_dir)]).exit_code == 0
    page = parse(run_dir / "report.html")
    assert len(page.ids) == len(set(page.ids))
    local = [h[1:] for h in page.hrefs if h.startswith("#")]
    assert local and set(local) <= set(page.ids)
    assert all(h.startswith("#") for h in page.hrefs)
    agent = compute_metrics(run_dir).runs[0].agents[0]
    points = [p for s in agent.scorers.values() for p in s.curve]
    point_links = [h for h in page.svg_hrefs if h.startswith("#round-")]
    assert len(point_links) == len(points)
    run_id = agent.run_id
    assert {f"#round-{run_id}-{p.round_id}" for p in points} == set(point_links)
    rounds = {e.round_id for e in events_of(run_dir, "probe")}
    assert {f"round-{run_id}-{r}" for r in rounds} <= set(page.ids)
    memory_links = [h for h in page.svg_hrefs if h.startswith("#mem-")]
    assert len(memory_links) == len(agent.memory) * len(agent.scorers)  # one panel per scorer


def test_text_from_events_is_escaped(run_dir: Path) -> None:
    assert runner.invoke(app, ["report", str(run_dir)]).exit_code == 0
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_json_format_prints_metrics_and_writes_nothing(run_dir: Path) -> None:
    result = runner.invoke(app, ["report", str(run_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in run_dir.iterdir()) == ["events.jsonl"]
    data = json.loads(result.stdout)
    ReportMetrics.model_validate(data)
    agent = data["runs"][0]["agents"][0]
    rules = agent["scorers"]["rules"]
    # smoothed over 5 steps, the drop at the break (step 7) shows at 7 or the next round
    assert rules["half_life"]["step"] in (7, 8)
    assert rules["half_life"]["step"] == next(
        p["step"] for p in rules["curve"] if p["smoothed"] < rules["half_life"]["threshold"])
    assert agent["breaks"]["break_step"] == 7 and agent["breaks"]["recovery_step"] is None
    assert agent["scorers"]["rules"]["event_deltas"]
    assert {"memory", "context"} <= set(agent)
    condition = data["conditions"][0]
    assert condition["model"] == "scripted/report-hostile"
    assert {"curve", "survival", "median_half_life", "delta_by_kind"} <= set(
        condition["scorers"]["rules"])
    assert data["runs"][0]["agreement"][0]["kappa"] == 1.0


def test_report_groups_by_persona_and_filters_agents(run_dir: Path) -> None:
    result = runner.invoke(app, ["report", str(run_dir), "--format", "json",
                                 "--by", "condition", "--by", "persona", "--agent", "jfk"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [c["condition"] for c in data["conditions"]] == ["summary · jfk"]
    assert data["settings"]["group_by"] == ["condition", "persona"]
    nobody = runner.invoke(app, ["report", str(run_dir), "--format", "json", "--agent", "x"])
    assert json.loads(nobody.stdout)["conditions"] == []


def test_md_format_writes_pngs(run_dir: Path) -> None:
    result = runner.invoke(app, ["report", str(run_dir), "--format", "md"])
    assert result.exit_code == 0, result.output
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", md)
    assert len(images) >= 4
    for name in images:
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert '<a id="round-' in md and "#### Probe answers" in md
    assert HOSTILE not in md
    # the break at step 7 shows as a fall from the first to the last rules round (one agent)
    data = json.loads(runner.invoke(app, ["report", str(run_dir), "--format", "json"]).stdout)
    drift = data["conditions"][0]["scorers"]["rules"]["drift"]
    assert drift["n"] == 1 and drift["mean_change"] < 0 and drift["interval"] == "too few"
    assert "drift: last - first" in md and f"{drift['mean_change']:+.2f} (too few), n 1" in md


def test_report_over_a_directory_of_runs(run_dir: Path, tmp_path: Path) -> None:
    other = run_spec(make_spec(tmp_path / "other", model="scripted/default", steps=6,
                               probes={"every": 3, "scorers": ["rules"]}))
    shutil.move(str(other), str(run_dir.parent / other.name))
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f'id="run-{run_dir.name}"' in html and f'id="run-{other.name}"' in html
    assert len(compute_metrics(tmp_path).conditions) == 2


def test_a_damaged_run_is_left_out_and_named(run_dir: Path, tmp_path: Path) -> None:
    other = run_spec(make_spec(tmp_path / "other", model="scripted/default", steps=6,
                               probes={"every": 3, "scorers": ["rules"]}))
    damaged = run_dir.parent / other.name
    shutil.move(str(other), str(damaged))
    lines = (damaged / "events.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2] = "garbage"
    (damaged / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = runner.invoke(app, ["report", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert f"left out: {damaged / 'events.jsonl'}: line 3 is not a valid event" in result.output
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Left out: 1 run(s)" in html and f'id="run-{run_dir.name}"' in html
    assert f'id="run-{damaged.name}"' not in html
    metrics = json.loads(runner.invoke(app, ["report", str(tmp_path), "--format", "json"]).stdout)
    assert len(metrics["runs"]) == 1 and "line 3" in metrics["skipped"][0]
    alone = runner.invoke(app, ["report", str(damaged)])
    assert alone.exit_code == 1 and "line 3 is not a valid event" in alone.output
    exported = runner.invoke(app, ["export", str(tmp_path), "--parquet"])
    assert exported.exit_code == 0 and "left out:" in exported.output
    assert (run_dir / "events.parquet").exists() and not (damaged / "events.parquet").exists()


def test_report_errors_are_clear(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such directory" in missing.output
    empty = runner.invoke(app, ["report", str(tmp_path)])
    assert empty.exit_code == 1 and "no runs" in empty.output
    (tmp_path / "events.jsonl").write_text("", encoding="utf-8")
    no_events = runner.invoke(app, ["report", str(tmp_path)])
    assert no_events.exit_code == 1 and "no events" in no_events.output
    (tmp_path / "events.jsonl").write_text("garbage\n{}\n", encoding="utf-8")
    corrupt = runner.invoke(app, ["report", str(tmp_path)])
    assert corrupt.exit_code == 1 and "not a valid event" in corrupt.output
    for result in (missing, empty, no_events, corrupt):
        assert "Traceback" not in result.output


def test_export_writes_parquet_readable_by_pandas(run_dir: Path) -> None:
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    result = runner.invoke(app, ["export", str(run_dir), "--parquet"])
    assert result.exit_code == 0, result.output
    events = pd.read_parquet(run_dir / "events.parquet")
    scores = pd.read_parquet(run_dir / "scores.parquet")
    logged = events_of(run_dir)
    assert list(events["seq"]) == [e.seq for e in logged]
    assert len(scores) == sum(e.type == "score" for e in logged)
    probe = scores[scores["target"] == "probe"]
    samples = {e.sample for e in events_of(run_dir, "probe")}
    assert probe["answer"].notna().all() and set(probe["sample"]) == samples
    memory = scores[scores["target"] == "memory"]
    assert len(memory) and memory["memory_text"].str.startswith("Summary").any()


def test_export_names_the_missing_package(run_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = runner.invoke(app, ["export", str(run_dir), "--parquet"])
    assert result.exit_code == 1 and "pyarrow" in result.output
    assert "Traceback" not in result.output
    assert runner.invoke(app, ["export", str(run_dir)]).exit_code == 2


def test_figures_drawn_in_worker_processes_are_the_same_as_in_one(tmp_path: Path) -> None:
    for seed in range(3):
        run_spec(make_spec(tmp_path / "runs", model="scripted/break-at-5", steps=8, seed=seed,
                           probes={"every": 2, "scorers": ["rules", "break"]}))
    serial, parallel = tmp_path / "serial" / "runs", tmp_path / "parallel" / "runs"
    for target, jobs in ((serial, "1"), (parallel, "2")):
        shutil.copytree(tmp_path / "runs", target)
        for fmt in ("md", "html"):
            result = runner.invoke(app, ["report", str(target), "--format", fmt, "--jobs", jobs,
                                         "--no-cache"])
            assert result.exit_code == 0, result.output
    pngs = sorted(p.name for p in serial.glob("report-*.png"))
    assert len(pngs) >= 8  # enough figures for the worker processes to draw them
    assert pngs == sorted(p.name for p in parallel.glob("report-*.png"))
    for name in pngs:
        assert (serial / name).read_bytes() == (parallel / name).read_bytes(), name
    for name in ("report.md", "report.html"):
        ours = (serial / name).read_text(encoding="utf-8").replace(str(serial), "DIR")
        theirs = (parallel / name).read_text(encoding="utf-8").replace(str(parallel), "DIR")
        assert ours == theirs


def test_figures_drawn_before_from_the_same_data_are_reused(
        run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scaffold.report import _render

    monkeypatch.setenv("SCAFFOLD_CACHE_DIR", str(tmp_path / "cache"))
    drawn: list[object] = []
    draw = _render._draw

    def counting(task: tuple) -> object:  # type: ignore[type-arg]
        drawn.append(task)
        return draw(task)

    monkeypatch.setattr(_render, "_draw", counting)
    first = tmp_path / "first"
    shutil.copytree(run_dir, first / run_dir.name)
    md = ["--format", "md", "--jobs", "1"]
    assert runner.invoke(app, ["report", str(first), *md]).exit_code == 0
    assert drawn and (tmp_path / "cache" / "report-figures").is_dir()
    pngs = {p.name: p.read_bytes() for p in first.glob("report-*.png")}
    drawn.clear()
    second = tmp_path / "second"
    shutil.copytree(run_dir, second / run_dir.name)
    assert runner.invoke(app, ["report", str(second), *md]).exit_code == 0
    assert drawn == []  # every figure came from the cache, byte for byte
    assert {p.name: p.read_bytes() for p in second.glob("report-*.png")} == pngs
    # other data (another smoothing window) is drawn again; --no-cache draws everything
    assert runner.invoke(app, ["report", str(second), "--format", "md", "--jobs", "1",
                               "--smooth-steps", "3"]).exit_code == 0
    assert drawn
    drawn.clear()
    assert runner.invoke(app, ["report", str(first), "--format", "md", "--jobs", "1",
                               "--no-cache"]).exit_code == 0
    assert len(drawn) >= len(pngs)


def test_a_gzipped_event_log_reports_the_same_numbers(run_dir: Path, tmp_path: Path) -> None:
    import gzip

    plain = runner.invoke(app, ["report", str(run_dir), "--format", "json"])
    packed = tmp_path / "packed" / run_dir.name
    packed.mkdir(parents=True)
    (packed / "events.jsonl.gz").write_bytes(
        gzip.compress((run_dir / "events.jsonl").read_bytes()))
    for where in (packed, packed.parent):  # the run itself, and a directory of runs
        result = runner.invoke(app, ["report", str(where), "--format", "json"])
        assert result.exit_code == 0, result.output
        ours, theirs = json.loads(result.stdout), json.loads(plain.stdout)
        for data in (ours, theirs):  # where the runs were read from
            data.pop("source")
            for run in data["runs"]:
                run.pop("path")
        assert ours == theirs
    (packed / "events.jsonl.gz").write_bytes(
        gzip.compress((run_dir / "events.jsonl").read_bytes())[:-40])  # a torn copy
    torn = runner.invoke(app, ["report", str(packed), "--format", "md"])
    assert torn.exit_code == 1 and "not a whole gzip file" in torn.output


def test_no_runs_leaves_out_the_per_run_sections_and_nothing_else(run_dir: Path) -> None:
    full = runner.invoke(app, ["report", str(run_dir), "--format", "md", "--no-cache"])
    assert full.exit_code == 0, full.output
    whole = (run_dir / "report.md").read_text(encoding="utf-8")
    short = runner.invoke(app, ["report", str(run_dir), "--format", "md", "--no-runs"])
    assert short.exit_code == 0, short.output
    brief = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "## Runs" in whole and "## Runs" not in brief and "#### Probe answers" not in brief
    assert "are left out of this report" in brief
    head = whole[:whole.index('<a id="runs"')]
    assert head.split("## Conditions", 1)[1] in brief  # the study-level sections are the same


def test_packed_runs_report_the_same_numbers_and_pack_reproducibly(run_dir: Path,
                                                                    tmp_path: Path) -> None:
    (run_dir / "manifest.json").write_text('{"run_id": "x"}', encoding="utf-8")
    study = run_dir.parent
    first = runner.invoke(app, ["export", str(study), "--pack", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    packed = tmp_path / "a" / run_dir.name
    assert sorted(p.name for p in packed.iterdir()) == ["events.jsonl.gz", "manifest.json"]
    time.sleep(1.1)  # a gzip header with a timestamp would now differ
    runner.invoke(app, ["export", str(study), "--pack", str(tmp_path / "b")])
    again = tmp_path / "b" / run_dir.name / "events.jsonl.gz"
    assert again.read_bytes() == (packed / "events.jsonl.gz").read_bytes()
    repacked = runner.invoke(app, ["export", str(tmp_path / "a"), "--pack", str(tmp_path / "c")])
    assert repacked.exit_code == 0  # packed runs pack again (copied as they are)
    assert (tmp_path / "c" / run_dir.name / "events.jsonl.gz").read_bytes() == again.read_bytes()
    ours = json.loads(runner.invoke(app, ["report", str(tmp_path / "a"), "--format",
                                          "json"]).stdout)
    theirs = json.loads(runner.invoke(app, ["report", str(run_dir), "--format", "json"]).stdout)
    for data in (ours, theirs):
        data.pop("source")
        for run in data["runs"]:
            run.pop("path")
    assert ours == theirs
    inside = runner.invoke(app, ["export", str(run_dir), "--pack", str(run_dir / "out")])
    assert inside.exit_code == 1 and "lies inside the run" in inside.output


def test_rescoring_a_packed_run_says_to_unpack_it(run_dir: Path, tmp_path: Path) -> None:
    (run_dir / "manifest.json").write_text(json.dumps({
        "run_id": run_dir.name, "experiment": "x", "seed": 0, "spec": {}, "versions": {}}),
        encoding="utf-8")
    runner.invoke(app, ["export", str(run_dir), "--pack", str(tmp_path / "packed")])
    packed = tmp_path / "packed" / run_dir.name
    result = runner.invoke(app, ["rescore", str(packed), "--scorer", "rules"])
    assert result.exit_code != 0 and "unpack it first" in result.output, result.output
