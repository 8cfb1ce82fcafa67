"""Re-scoring recorded answers and re-probing recorded contexts, without re-running the agent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.rescore import Rescorer
from tests.helpers import events_of, make_spec, run_spec, spec_dict, write_config


def test_rescore_appends_scores_and_keeps_old(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=6))
    before = events_of(run_dir)
    probes = [e for e in before if e.type == "probe"]
    result = CliRunner().invoke(app, ["rescore", str(run_dir), "--scorer", "rules"])
    assert result.exit_code == 0, result.output
    after = events_of(run_dir)
    assert after[: len(before)] == before
    new = [e for e in after[len(before):] if e.type == "score"]
    assert len(new) == len(probes) and all(e.rescore for e in new)
    old = {(e.round_id, e.probe_id, e.scorer): e.value for e in before if e.type == "score"}
    assert all(old[(e.round_id, e.probe_id, e.scorer)] == e.value for e in new)
    seqs = [e.seq for e in after]
    assert seqs == list(range(1, len(seqs) + 1))


def test_reprobe_uses_recorded_contexts(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=6))
    calls_before = len(events_of(run_dir, "model_call"))
    data = spec_dict(out=str(tmp_path / "runs"), steps=6)
    data["personas"]["jfk"]["probes"].append(
        {"id": "wife", "question": "What is your wife's name?",
         "expect": {"require_any": ["Jacqueline", "Jackie"]}})
    config = write_config(tmp_path, data)
    result = CliRunner().invoke(app, ["rescore", str(run_dir), "--reprobe", "--config",
                                      str(config)])
    assert result.exit_code == 0, result.output
    reprobes = [e for e in events_of(run_dir, "probe") if e.trigger == "reprobe"]
    assert {e.probe_id for e in reprobes} >= {"who", "year", "what", "wife"}
    calls = events_of(run_dir, "model_call")[calls_before:]
    # the persona's old questions on old contexts are served from the cassette
    assert any(c.replayed for c in calls) and any(not c.replayed for c in calls)
    again = CliRunner().invoke(app, ["rescore", str(run_dir), "--reprobe", "--config",
                                     str(config), "--again"])
    assert again.exit_code == 0
    later = events_of(run_dir, "model_call")[calls_before + len(calls):]
    assert later and all(c.replayed for c in later)


def test_rescore_not_a_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["rescore", str(tmp_path)])
    assert result.exit_code == 1 and "no runs under" in result.output
    (tmp_path / "events.jsonl").write_text("", "utf-8")
    result = CliRunner().invoke(app, ["rescore", str(tmp_path)])
    assert result.exit_code == 1 and "not a scaffold run" in result.output


def test_rescore_every_run_of_a_directory_with_corrected_personas(tmp_path: Path) -> None:
    dirs = [run_spec(make_spec(tmp_path, steps=4, seed=seed)) for seed in (0, 1)]
    data = spec_dict(out=str(tmp_path / "runs"), steps=4)
    for probe in data["personas"]["jfk"]["probes"]:
        probe["expect"] = {"require_any": ["no-such-word-anywhere"]}
    config = write_config(tmp_path, data)
    result = CliRunner().invoke(app, ["rescore", str(tmp_path / "runs"), "--scorer", "rules",
                                      "--personas", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.count("events appended") == 2
    for run_dir in dirs:
        new = [e for e in events_of(run_dir, "score") if e.rescore and e.probe_id]
        own = [e for e in new if e.probe_id in {"who", "year", "what"}]
        assert own and all(e.value == 0.0 for e in own)
    data["personas"] = {"someone": data["personas"]["jfk"]}
    data["agents"] = [{**data["agents"][0], "persona": "someone"}]
    other = write_config(tmp_path, data)
    miss = CliRunner().invoke(app, ["rescore", str(dirs[0]), "--personas", str(other)])
    assert miss.exit_code == 1 and "none of its personas (jfk)" in miss.output


def _passes(run_dir: Path) -> dict[str, dict[str, object]]:
    return dict(json.loads((run_dir / "manifest.json").read_text("utf-8"))["rescores"])


def test_a_finished_pass_is_not_repeated_unless_asked(tmp_path: Path) -> None:
    dirs = [run_spec(make_spec(tmp_path, steps=4, seed=seed)) for seed in (0, 1)]
    runs = str(tmp_path / "runs")
    runner = CliRunner()
    first = runner.invoke(app, ["rescore", runs, "--scorer", "rules"])
    assert first.exit_code == 0 and first.output.count("events appended") == 2, first.output
    assert "[1/2]" in first.output and "[2/2]" in first.output
    counts = [len(events_of(d)) for d in dirs]
    # a pass that did not finish (killed: no record of it) is done again; finished ones are not
    manifest = json.loads((dirs[1] / "manifest.json").read_text("utf-8"))
    manifest["rescores"] = {}
    (dirs[1] / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    second = runner.invoke(app, ["rescore", runs, "--scorer", "rules"])
    assert second.exit_code == 0, second.output
    assert second.output.count("already scored with these settings") == 1
    assert second.output.count("events appended") == 1
    assert len(events_of(dirs[0])) == counts[0] and len(events_of(dirs[1])) > counts[1]
    # other settings, or --again, score again
    other = runner.invoke(app, ["rescore", str(dirs[0]), "--scorer", "rules", "--scorer",
                                "break"])
    assert other.exit_code == 0 and "events appended" in other.output, other.output
    again = runner.invoke(app, ["rescore", str(dirs[0]), "--scorer", "rules", "--again"])
    assert again.exit_code == 0 and "events appended" in again.output, again.output
    assert len(_passes(dirs[0])) == 3


def test_an_interrupted_pass_is_recorded_unfinished_and_done_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=4))
    calls = {"n": 0}
    original = Rescorer._score_answer

    async def fail_late(self: Rescorer, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        await original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Rescorer, "_score_answer", fail_late)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(Rescorer(run_dir, ["rules"]).run())
    (record,) = _passes(run_dir).values()
    assert record["complete"] is False and record["events"] == 2
    assert Rescorer(run_dir, ["rules"]).finished_before() is None
    monkeypatch.setattr(Rescorer, "_score_answer", original)
    result = CliRunner().invoke(app, ["rescore", str(run_dir), "--scorer", "rules"])
    assert result.exit_code == 0 and "events appended" in result.output, result.output
    finished = Rescorer(run_dir, ["rules"]).finished_before()
    assert finished is not None and _passes(run_dir)[finished]["complete"] is True
    assert Rescorer(run_dir, ["rules"]).finished_before(reprobe=True) is None


def test_a_rescore_can_score_only_some_targets(tmp_path: Path) -> None:
    run_dir = run_spec(make_spec(tmp_path, steps=6))
    before = len(events_of(run_dir))
    runner = CliRunner()
    result = runner.invoke(app, ["rescore", str(run_dir), "--scorer", "break",
                                 "--target", "probe", "--target", "memory"])
    assert result.exit_code == 0, result.output
    new = [e for e in events_of(run_dir)[before:] if e.type == "score"]
    assert new and {e.target for e in new} <= {"probe", "memory"}
    assert "probe" in {e.target for e in new}
    (record,) = _passes(run_dir).values()
    assert record["targets"] == ["probe", "memory"]
    # replies are another request: not skipped, and only replies are scored
    count = len(events_of(run_dir))
    replies = runner.invoke(app, ["rescore", str(run_dir), "--scorer", "break",
                                  "--target", "reply"])
    assert replies.exit_code == 0 and "events appended" in replies.output, replies.output
    assert {e.target for e in events_of(run_dir)[count:] if e.type == "score"} == {"message"}
    bad = runner.invoke(app, ["rescore", str(run_dir), "--target", "replies"])
    assert bad.exit_code == 2 and "target: 'replies' is not one of probe, reply, memory" \
        in bad.output, bad.output
