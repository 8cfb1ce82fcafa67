"""The report's memory contents (stream, reflections, facts, rewrites, files) and activation
views (axis-labelled curves, projection and z deltas across memory events), from events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from scaffold.events import ScoreEvent
from scaffold.metrics import MetricsSettings, compute_metrics, memory_contents
from scaffold.recorder import read_events
from scaffold.report import metrics_json, write_report
from tests.helpers import events_of
from tests.helpers.memory_views import JUMP, STD, SUMMARY_STEP, Log, activation_run, details


def _agent(path: Path, settings: MetricsSettings | None = None):  # type: ignore[no-untyped-def]
    return compute_metrics(path, settings).runs[0].agents[0]


def test_summary_deltas_are_raw_projection_and_z_on_probes_and_replies(tmp_path: Path) -> None:
    activation_run(tmp_path, steps=8)
    deltas = [d for d in _agent(tmp_path).activation_deltas if d.kind == "summarize"]
    by_target = {d.target: d for d in deltas}
    assert set(by_target) == {"probe", "message"} and {d.axis for d in deltas} == {"assistant"}
    moved = JUMP + 0.1  # the jump, and one step of the synthetic drift
    probe = by_target["probe"]
    assert (probe.before_ref, probe.after_ref) == ("r4-before_memory", "r4-after_memory")
    assert probe.delta_projection == pytest.approx(moved)
    assert probe.delta_z == pytest.approx(moved / STD)
    reply = by_target["message"]
    assert (reply.before_ref, reply.after_ref) == (f"m{SUMMARY_STEP - 1}", f"m{SUMMARY_STEP}")
    assert reply.delta_projection == pytest.approx(moved) and reply.events_between == 0
    # the [0,1] value moves by a different amount (a rescaled, clipped copy): not reported
    value_delta = details(SUMMARY_STEP).value - details(SUMMARY_STEP - 1).value
    assert value_delta != pytest.approx(moved)


def test_a_persona_axis_gives_deltas_on_both_axes_and_names_the_series(tmp_path: Path) -> None:
    activation_run(tmp_path, persona_axis=True)
    probe = {d.axis: d for d in _agent(tmp_path).activation_deltas if d.target == "probe"}
    assert set(probe) == {"assistant", "persona:jfk"}
    assert probe["persona:jfk"].delta_projection == pytest.approx(-(JUMP + 0.1))
    write_report(tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "activation (persona:jfk axis)" in page


def test_a_rescore_replaces_the_reading_behind_a_delta(tmp_path: Path) -> None:
    log = Log("rescored", "summary")
    log.reply(1)
    log.memory(2, "summarize", "summary", "sum")
    log.reply(2)
    later = details(9).model_dump_json()
    log.add(ScoreEvent, 2, target="message", message_id="m2", scorer="activation",
            value=0.0, raw=later, rescore="pass-1")
    log.write(tmp_path)
    (delta,) = _agent(tmp_path).activation_deltas
    assert delta.after_projection == pytest.approx(json.loads(later)["projection"])


def test_condition_deltas_average_agents_with_an_interval_and_skip_shared_reply_deltas(
        tmp_path: Path) -> None:
    for seed in range(5):
        activation_run(tmp_path, run_id=f"seed-{seed}", seed=seed, designs=seed == 0)
    settings = MetricsSettings(min_n=5)
    (condition,) = compute_metrics(tmp_path, settings).conditions
    rows = {(k.target, k.kind): k for k in condition.activation_deltas}
    probe = rows[("probe", "summarize")]
    assert (probe.n_agents, probe.interval) == (5, "no spread")
    assert probe.mean_projection == pytest.approx(JUMP + 0.1) == probe.low == probe.high
    # seed 0's summary shares its two replies with eight other memory events: left out
    assert rows[("message", "summarize")].n_agents == 4
    assert ("message", "fact_add") not in rows
    data = json.loads(metrics_json(tmp_path, settings))
    assert data["conditions"][0]["activation_deltas"]


def test_report_labels_the_activation_series_and_tables_its_deltas(tmp_path: Path) -> None:
    activation_run(tmp_path)
    (md, *_pngs) = write_report(tmp_path, "md")
    text = md.read_text(encoding="utf-8")
    assert "Activation deltas: activation (assistant axis)" in text
    row = next(line for line in text.splitlines()
               if line.startswith("| summary | scripted/default | probes | assistant"))
    assert f"{JUMP + 0.1:.3f}" in row and f"{(JUMP + 0.1) / STD:.3f}" in row
    write_report(tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "mean activation (assistant axis) score on probes by condition" in page


def test_a_run_without_activation_scores_has_no_activation_section(tmp_path: Path) -> None:
    log = Log("plain", "summary")
    log.memory(1, "summarize", "summary", "s")
    log.write(tmp_path)
    write_report(tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Activation deltas" not in page and "Memory contents" not in page


def test_report_shows_the_memory_contents_of_the_new_designs(tmp_path: Path) -> None:
    activation_run(tmp_path, condition="summary+files", designs=True)
    (md, *_pngs) = write_report(tmp_path, "md")
    text = md.read_text(encoding="utf-8").split("#### Memory contents")[1]
    assert "| m1 | 3 | 7 | jfk: I stood at the Berlin wall. |" in text
    assert "| reflection-0 | 3 | 8 | Who am I? | I speak for free peoples. | m1 (step 3, " \
           "importance 7): jfk: I stood at the Berlin wall." in text
    assert "UPDATE: Lives in the White House → Lives in Hyannis Port" in text
    assert "| fact-1 | deleted | (was: Likes sailing) |" in text
    assert "| persona | every | ok | I am JFK. | I am JFK, the 35th president. |" in text
    assert "| identity.md | always | You are John F. Kennedy" in text
    assert "| notes.md | open | Cuba, October. Quarantine. | step 3 #" in text


def test_the_fact_table_rebuilt_from_events_matches_the_backends_own(tmp_path: Path) -> None:
    """A scripted facts run: the report's table (events only) equals the checkpointed one."""
    from tests.memory.test_facts import (
        BOSTON,
        NEW_YORK,
        NONE,
        _table,
        decided,
        extracted,
        facts_spec,
    )
    from scaffold.models.scripted import Script, register_script
    from tests.helpers import run_spec

    register_script("views-facts", Script(role_replies={
        "fact_extractor": [NONE, NONE, extracted(BOSTON), extracted(NEW_YORK, "I sail"), NONE],
        "fact_update": [decided(), decided(), decided(),
                        decided(("0", NEW_YORK, "UPDATE"), ("1", "I sail", "ADD")), decided()]}))
    run_dir = run_spec(facts_spec(tmp_path, "views-facts", steps=4))
    events = read_events(run_dir / "events.jsonl")
    contents = memory_contents(events, events[0].spec, "jfk")  # type: ignore[attr-defined]
    table = _table(run_dir)
    assert [(f.id, f.text, f.live) for f in contents.facts.values()] == [
        (f["id"], f["text"], f["status"] == "live") for f in table]
    assert [[(c.op, c.old, c.new) for c in f.history] for f in contents.facts.values()] == [
        [(c["op"], c["old"], c["new"]) for c in f["history"]] for f in table]
    assert any(e.kind == "fact_update" for e in events_of(run_dir, "memory"))


def test_a_live_run_with_the_activation_scorer_gets_its_deltas_from_the_raw_details(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real scorer and tracker (reading with the stand-in reader of the activation tests)
    in a scripted summary run: each probe delta is the change of the rounds' mean projection
    as the score events' details record it."""
    import scaffold.trackers.activation as activation_module
    from scaffold.activations import save_axis
    from scaffold.activations.build import AssistantOptions, build_assistant_axis
    from scaffold.activations.details import activation_details
    from tests.helpers import make_spec, run_spec
    from tests.scaffold.activation_fakes import FakeReader, role_dir

    reader = FakeReader()
    axis = build_assistant_axis(reader, role_dir(tmp_path), AssistantOptions(
        roles=3, questions=3, held_out_roles=0, layers=(1, 2)))
    save_axis(axis, tmp_path / "axes" / "assistant.npz")
    monkeypatch.setattr(activation_module, "open_reader", lambda model: reader)
    run_dir = run_spec(make_spec(tmp_path, steps=8, probes={
        "every": 4, "samples": 1, "temperature": 0.0, "scorers": ["break", "activation"]},
        activation={"axes": [str(tmp_path / "axes" / "assistant.npz")]}))
    events = events_of(run_dir)
    agent = _agent(run_dir)
    probe = [d for d in agent.activation_deltas if d.target == "probe"]
    assert probe and {d.axis for d in probe} == {"assistant"}
    for d in probe:
        assert d.before_ref is not None and d.after_ref is not None
        for ref, value in ((d.before_ref, d.before_projection), (d.after_ref, d.after_projection)):
            reads = [activation_details(e.raw) for e in events if e.type == "score"
                     and e.scorer == "activation" and e.round_id == ref]
            per_probe = {}
            for e, r in zip([e for e in events if e.type == "score" and e.scorer == "activation"
                             and e.round_id == ref], reads):
                assert r is not None
                per_probe.setdefault(e.probe_id, []).append(r.projection)
            expected = sum(sum(v) / len(v) for v in per_probe.values()) / len(per_probe)
            assert value == pytest.approx(expected)
    write_report(run_dir)
    assert "Activation deltas: activation (assistant axis)" in \
        (run_dir / "report.html").read_text(encoding="utf-8")


def test_memory_files_rebuilt_from_events_match_the_files_on_disk(tmp_path: Path) -> None:
    """A scripted files run: the report's files (spec + events only) hold the texts the backend
    wrote to disk, and say which are always loaded, closed (opened, then expired) or deleted."""
    from scaffold.models.scripted import Script, register_script
    from tests.helpers import run_spec
    from tests.memory.test_files import files_spec

    register_script("views-files", Script(tool_calls={
        2: [{"name": "memory_view", "arguments": {"path": "plans.md"}}],
        3: [{"name": "memory_create",
             "arguments": {"path": "diary/1962.md", "file_text": "I spoke about the moon."}}],
        5: [{"name": "memory_str_replace",
             "arguments": {"path": "diary/1962.md", "old_str": "moon", "new_str": "harbor"}},
            {"name": "memory_delete", "arguments": {"path": "plans.md"}}]}))
    run_dir = run_spec(files_spec(tmp_path, "scripted/views-files", steps=6))
    events = read_events(run_dir / "events.jsonl")
    files = memory_contents(events, events[0].spec, "jfk").files  # type: ignore[attr-defined]
    root = run_dir / "memory" / "files" / "jfk"
    on_disk = {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}
    assert {p: f.text for p, f in files.items() if f.loaded != "deleted"} == on_disk
    assert {p: f.loaded for p, f in files.items()} == {
        "identity.md": "always", "plans.md": "deleted", "diary/1962.md": "closed"}
    assert [(e.op, e.old, e.new) for e in files["diary/1962.md"].edits] == [
        ("create", None, "I spoke about the moon."),
        ("str_replace", "I spoke about the moon.", "I spoke about the harbor.")]


def test_the_memory_stream_rebuilt_from_events_matches_the_backends_own(tmp_path: Path) -> None:
    """A scripted reflection run: every memory's importance, and each reflection's text and
    citations, as the report rebuilds them from events, equal the checkpointed stream."""
    from scaffold.fork import _state_at
    from scaffold.models.scripted import Script, register_script
    from tests.helpers import run_spec
    from tests.memory.test_reflection import reflection_spec

    register_script("views-rf", Script(role_replies={"importance": ["3", "8", "2"]}))
    run_dir = run_spec(reflection_spec(tmp_path, "views-rf", steps=7, threshold=15))
    events = read_events(run_dir / "events.jsonl")
    contents = memory_contents(events, events[0].spec, "jfk")  # type: ignore[attr-defined]
    state = asyncio.run(_state_at(run_dir, "jfk", 10_000))
    assert state is not None
    stream = state["memory"]["backends"]["reflection"]["stream"]
    observed = [e for e in stream if e["kind"] == "observation"]
    reflected = [e for e in stream if e["kind"] == "reflection"]
    assert reflected  # the threshold was reached
    assert [(m.id, m.importance) for m in contents.stream.values()] == [
        (e["id"], e["importance"]) for e in observed]
    assert [(r.id, r.importance, r.text, r.cites) for r in contents.reflections.values()] == [
        (e["id"], e["importance"], e["text"], e["cites"]) for e in reflected]
    assert {m.importance for m in contents.stream.values()} == {2, 3, 8}


def test_end_of_run_table_reports_the_activation_readings_cost(tmp_path: Path) -> None:
    from scaffold.recorder import read_events
    from scaffold.run_summary import summarize_run, summary_rows

    run_dir = activation_run(tmp_path, steps=8)
    events = read_events(run_dir / "events.jsonl")
    [agent] = summarize_run(events)
    reads = sum(1 for e in events if getattr(e, "scorer", None) == "activation")
    assert agent.activation_tokens == 25 * reads  # `evaluated` of every reading
    assert agent.activation_seconds == pytest.approx(0.05 * reads)
    rows = dict(summary_rows([agent]))
    assert rows["activation reading: s per step (tokens)"] == [
        f"{0.05 * reads / 8:.2f} ({25 * reads})"]


def test_a_recorded_whitespace_only_rewrite_reads_as_unchanged() -> None:
    from scaffold.events import MemoryEvent
    from scaffold.report._memory_tables import rewrites_table

    def rewrite(seq: int, old: str, new: str) -> MemoryEvent:
        # as logs written before whitespace-only rewrites counted as unchanged record them
        return MemoryEvent(seq=seq, run_id="r", agent_id="jfk", step=seq, ts=0.0,
                           kind="sleeptime_rewrite", backend="sleeptime", author="sleeptime",
                           text=new,
                           detail={"trigger": "every", "blocks": {"persona": {
                               "old": old, "new": new, "changed": True, "status": "ok"}}})

    events = [rewrite(1, "I am JFK.\nPresident.", "I am  JFK. President. "),
              rewrite(2, "I am  JFK. President. ", "I am JFK, President.")]
    contents = memory_contents(events, {}, "jfk")
    assert [r.changed for r in contents.rewrites] == [False, True]
    assert contents.blocks["persona"] == "I am JFK, President."
    statuses = [row[4].text for row in rewrites_table("r", contents).rows]
    assert statuses == ["unchanged", "ok"]


def test_condition_activation_curves_give_z_and_projection_by_step_with_intervals(
        tmp_path: Path) -> None:
    from statistics import mean

    from tests.helpers.memory_views import projection_at

    for seed in range(5):
        activation_run(tmp_path, run_id=f"seed-{seed}", seed=seed)
    # a rescore moves seed 0's first reply: step 1 now has spread across the five agents
    log_path = tmp_path / "seed-0" / "events.jsonl"
    lines = log_path.read_text(encoding="utf-8").splitlines()
    moved = details(9)
    lines.append(ScoreEvent(seq=len(lines) + 1, run_id="seed-0", agent_id="jfk", step=1, ts=0.0,
                            target="message", message_id="m1", scorer="activation",
                            value=moved.value, raw=moved.model_dump_json(),
                            rescore="pass-1").model_dump_json())
    log_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = MetricsSettings(min_n=5)
    metrics = compute_metrics(tmp_path, settings)
    (condition,) = metrics.conditions
    curves = {(c.target, c.axis): c for c in condition.activation_curves}
    assert set(curves) == {("message", "assistant"), ("probe", "assistant")}
    replies = curves[("message", "assistant")]
    z = {p.step: p for p in replies.z}
    values = [moved.z] + [(projection_at(1) - 14.0) / STD] * 4
    assert z[1].mean == pytest.approx(mean(values)) and z[1].interval == "bootstrap"
    assert z[1].low is not None and z[1].high is not None and z[1].low < z[1].high
    assert (z[2].interval, z[2].mean) == ("no spread", pytest.approx((projection_at(2) - 14) / STD))
    assert {p.step: p.mean for p in replies.projection}[2] == pytest.approx(projection_at(2))
    # probes: an agent's rounds at one step (before, after and periodic at the summary's
    # step) count once, as their mean
    probe = {p.step: p for p in curves[("probe", "assistant")].z}
    readings = [projection_at(SUMMARY_STEP - 1), projection_at(SUMMARY_STEP),
                projection_at(SUMMARY_STEP)]
    assert probe[SUMMARY_STEP].n == 5
    assert probe[SUMMARY_STEP].mean == pytest.approx(mean((r - 14.0) / STD for r in readings))
    # each agent's own readings are in its metrics, and the report draws the curves
    agent = metrics.runs[0].agents[0]
    assert {(p.target, p.step) for p in agent.activation} >= {("message", 1), ("probe", 2)}
    (md, *pngs) = write_report(tmp_path, "md", settings)
    assert "### Activation by step" in md.read_text(encoding="utf-8")
    assert {"report-activation-replies-assistant.png",
            "report-activation-probes-assistant.png"} <= {p.name for p in pngs}
    again = compute_metrics(tmp_path, settings).conditions[0].activation_curves
    assert again == condition.activation_curves  # seeded: the same intervals every time


def test_the_report_says_what_the_activation_scores_were_read_with(tmp_path: Path) -> None:
    from scaffold.config._activation import AxisFile
    from scaffold.trackers.activation import ActivationRecord

    axis = AxisFile(path="axes/assistant.npz", sha256="f" * 64, kind="assistant",
                    name="assistant", persona=None, model="local/qwen2.5-0.5b-instruct",
                    model_sha256="a" * 64, layers=[6, 12], layer=12)
    record = ActivationRecord(reader="local/qwen2.5-0.5b-instruct", reader_sha256="a" * 64,
                              source="experiment", axes=[axis]).model_dump(mode="json")
    for seed in range(3):
        run_dir = activation_run(tmp_path, run_id=f"seed-{seed}", seed=seed)
        if seed == 2:  # recorded before manifests kept the reader: the scores name it
            continue
        manifest: dict[str, Any] = {"run_id": run_dir.name, "scorers": {"activation": record}}
        if seed == 1:
            manifest["rescores"] = {"pass-7": {"settings": {"activation": {**record,
                                                                           "layer": 6}}}}
        (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    readers = {(r.source, r.layer): r for r in compute_metrics(tmp_path).activation_readers}
    assert readers[("run", None)].runs == ["seed-0", "seed-1"]
    assert readers[("run", None)].axes == [f"assistant: axes/assistant.npz (sha256 {'f' * 12}, "
                                           "layer 12)"]
    assert readers[("rescore", 6)].runs == ["seed-1 (pass-7)"]
    assert readers[("scores", None)].runs == ["seed-2"]
    assert readers[("scores", None)].axes == ["assistant (layer 12)"]
    (md, *_pngs) = write_report(tmp_path, "md")
    text = md.read_text(encoding="utf-8")
    assert "| run | local/qwen2.5-0.5b-instruct | " + "a" * 64 + " | each axis's own |" in text


def _memory_text_run(root: Path, seed: int, texts: list[tuple[int, float]],
                     steps: int = 10) -> Path:
    """A run whose memory writes a summary at each (step, break score) of `texts`, with a
    reply every step; the last score of a text may be replaced by a rescore."""
    from scaffold.events import RunEnd

    log = Log(f"seed-{seed}", "summary", seed)
    for step in range(1, steps + 1):
        log.reply(step)
        for at, value in texts:
            if at == step:
                event = log.memory(step, "summarize", "summary", f"Summary at {step}.")
                log.add(ScoreEvent, step, target="memory", memory_seq=event.seq,
                        scorer="break", value=value)
    log.add(RunEnd, steps, agent_id=None, status="done")
    return log.write(root)


def test_memory_texts_form_curves_and_condition_means_carry_the_latest_text_forward(
        tmp_path: Path) -> None:
    from statistics import mean

    # seed 0: a good summary at step 3, an assistant-speaking one at 7; seed 1: two texts at
    # step 4 (their mean) and nothing after; seeds 2-4: one text each at step 2
    plans = {0: [(3, 1.0), (7, 0.0)], 1: [(4, 1.0), (4, 0.0)], 2: [(2, 1.0)], 3: [(2, 1.0)],
             4: [(2, 0.0)]}
    for seed, texts in plans.items():
        _memory_text_run(tmp_path, seed, texts)
    settings = MetricsSettings(min_n=5)
    metrics = compute_metrics(tmp_path, settings)
    agents = {a.run_id: a for r in metrics.runs for a in r.agents}
    own = agents["seed-0"].memory_texts["break"]
    assert own.target == "memory"
    assert [(p.step, p.value, p.trigger) for p in own.curve] == [(3, 1.0, "memory"),
                                                                (7, 0.0, "memory")]
    assert "index" in agents["seed-0"].memory_texts  # the identity index of each text
    assert [(p.step, p.value) for p in agents["seed-1"].memory_texts["break"].curve] == [
        (4, 1.0), (4, 0.0)]
    (condition,) = metrics.conditions
    level = condition.memory_texts["break"].level
    assert level is not None and (level.n, level.interval) == (5, "bootstrap")
    assert level.mean == pytest.approx(mean([0.5, 0.5, 1.0, 1.0, 0.0]))  # each agent's own mean
    assert level.low is not None and level.high is not None
    assert level.low < level.mean < level.high
    curve = {p.step: p for p in condition.memory_texts["break"].curve}
    assert min(curve) == 2 and max(curve) == 10
    # step 2: only seeds 2-4 hold a text; step 5: seed 0 holds 1.0 (from 3), seed 1 the mean
    # 0.5 of its two texts at 4, seeds 2-4 theirs from step 2; step 8: seed 0's later 0.0
    assert curve[2].n == 3 and curve[2].mean == pytest.approx(2 / 3)
    assert curve[5].n == 5 and curve[5].values == pytest.approx([1.0, 0.5, 1.0, 1.0, 0.0])
    assert curve[8].mean == pytest.approx(mean([0.0, 0.5, 1.0, 1.0, 0.0]))
    assert curve[8].interval == "bootstrap" and curve[8].low < curve[8].mean < curve[8].high
    assert curve[2].interval == "too few"
    # a rescore replaces a text's score
    log_path = tmp_path / "seed-0" / "events.jsonl"
    lines = log_path.read_text(encoding="utf-8").splitlines()
    summary_seqs = [json.loads(x)["seq"] for x in lines if json.loads(x)["type"] == "memory"]
    lines.append(ScoreEvent(seq=len(lines) + 1, run_id="seed-0", agent_id="jfk", step=7,
                            ts=0.0, target="memory", memory_seq=summary_seqs[1],
                            scorer="break", value=1.0, rescore="pass-1").model_dump_json())
    log_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    again = compute_metrics(tmp_path, settings)
    rescored = {p.step: p for p in again.conditions[0].memory_texts["break"].curve}
    assert rescored[8].values[0] == 1.0
    # the report tables and draws them
    (md, *pngs) = write_report(tmp_path, "md", settings)
    text = md.read_text(encoding="utf-8")
    assert "| summary | scripted/default | memory texts | break | 5 |" in text
    assert "level: mean of agents" in text and "0.70 [" in text  # after the rescore
    assert "report-conditions-memory_texts-break.png" in {p.name for p in pngs}
