"""Scorers on their own: a persona file and a (question, answer) pair, from Python and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.config import PersonaSpec
from scaffold.errors import ConfigError, PluginNotFound
from scaffold.trackers.breaks import BreakScorer
from scaffold.trackers.embedding import EmbeddingScorer
from scaffold.trackers.leakage import LeakageScorer
from scaffold.trackers.standalone import (
    build_scorer,
    load_persona,
    probe_for,
    score_text,
)

PERSONAS = Path(__file__).resolve().parents[2] / "examples" / "personas"
JFK_FILE = PERSONAS / "jfk.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def jfk() -> PersonaSpec:
    return load_persona(JFK_FILE)


def test_load_persona_reads_a_persona_file(jfk: PersonaSpec) -> None:
    assert jfk.name == "John F. Kennedy" and jfk.anchors and jfk.probes


def test_load_persona_names_the_bad_field(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: X\nidentity: You are X.\nanchors: []\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_persona(path)
    assert "anchors" in str(info.value)
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_persona(path)
    with pytest.raises(ConfigError, match="not found"):
        load_persona(tmp_path / "missing.yaml")


def test_build_scorer_by_name(jfk: PersonaSpec) -> None:
    assert isinstance(build_scorer("break", jfk), BreakScorer)
    assert isinstance(build_scorer("embedding", jfk), EmbeddingScorer)
    with pytest.raises(PluginNotFound):
        build_scorer("no-such-scorer", jfk)


def test_score_text_with_a_probe_question_applies_its_rules(jfk: PersonaSpec) -> None:
    rules = build_scorer("rules", jfk)
    good = score_text(rules, jfk, "I am John F. Kennedy, your President.", "Who are you?")
    other = score_text(rules, jfk, "I am Lyndon B. Johnson.", "Who are you?")
    assert good.value == 1.0 and other.value is not None and other.value < 1.0


def test_probe_for(jfk: PersonaSpec) -> None:
    assert probe_for(jfk, None) is None
    assert probe_for(jfk, "  what YEAR is it? ").id == "year"  # type: ignore[union-attr]
    adhoc = probe_for(jfk, "Do you like sailing?")
    assert adhoc is not None and adhoc.id == "question" and adhoc.expect.is_empty()


def test_break_scores_a_pair(jfk: PersonaSpec) -> None:
    scorer = build_scorer("break", jfk)
    assert score_text(scorer, jfk, "I am an AI language model.", "Who are you?").value == 0.0
    assert score_text(scorer, jfk, "I am the President.", "Who are you?").value == 1.0


def test_judge_with_a_model_and_without(jfk: PersonaSpec) -> None:
    judged = score_text(build_scorer("judge", jfk, judge_model="scripted/default"), jfk,
                        "I am John F. Kennedy.", "Who are you?")
    assert judged.value is not None and judged.raw
    unjudged = score_text(build_scorer("judge", jfk), jfk, "I am John F. Kennedy.", "Who?")
    assert unjudged.value is None


def test_leakage_sees_the_other_personas(jfk: PersonaSpec) -> None:
    nova = load_persona(PERSONAS / "nova.yaml")
    scorer = build_scorer("leakage", jfk, personas={"nova": nova})
    assert isinstance(scorer, LeakageScorer)
    assert score_text(scorer, jfk, "I'm Nova, and I keep the archive.").value == 0.0
    assert score_text(scorer, jfk, "I'm Jack Kennedy.").value == 1.0


def test_cli_score_prints_each_scorer() -> None:
    result = runner.invoke(app, ["score", "--persona", str(JFK_FILE), "--scorer", "break",
                                 "--question", "Who are you?", "--answer", "I am an AI."])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("break v") and "0.000" in result.output


def test_cli_score_json_and_memory_text() -> None:
    result = runner.invoke(app, ["score", "--persona", str(JFK_FILE), "--scorer", "break",
                                 "--json", "--answer", "The President spoke about Berlin."])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["value"] == 1.0


def test_cli_score_bad_persona_or_scorer_exits_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["score", "--persona", str(tmp_path / "x.yaml"),
                                  "--answer", "hi"])
    assert missing.exit_code == 2 and "not found" in missing.output
    assert "Traceback" not in missing.output
    unknown = runner.invoke(app, ["score", "--persona", str(JFK_FILE), "--scorer", "nope",
                                  "--answer", "hi"])
    assert unknown.exit_code == 2 and "nope" in unknown.output
