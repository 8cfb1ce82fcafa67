"""Memory budgets that cannot be met are config errors naming the field (exit 2 from the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from memory.core import CoreMemory
from memory.stack import DEFAULT_SHARE
from memory.testing import SCRIPTS, script_text
from scaffold.cli import app
from scaffold.config import parse_experiment
from scaffold.config._budget import CORE_FRAME_MIN_TOKENS, MIN_MESSAGE_TOKENS, min_tokens
from scaffold.config._budget import DEFAULT_SHARE as CONFIG_DEFAULT_SHARE
from scaffold.errors import ConfigError
from memory.budget import TokenCounter
from tests.helpers import spec_dict, write_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
JFK_IDENTITY = yaml.safe_load((EXAMPLES / "personas" / "jfk.yaml").read_text())["identity"]
"""The JFK identity of the examples: 97 tokens as a system message (litellm's default)."""


def config(memory: dict[str, Any], identity: str = JFK_IDENTITY) -> dict[str, Any]:
    data = spec_dict()
    data["personas"]["jfk"]["identity"] = identity
    data["agents"][0]["memory"] = memory
    return data


def problem(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_experiment(data)
    assert len(info.value.problems) == 1, info.value.problems
    return info.value.problems[0]


def test_keep_last_the_budget_cannot_hold() -> None:
    message = problem(config({"condition": "summary", "budget_tokens": 800,
                              "summary": {"keep_last": 5000}}))
    assert message.startswith("agents[0].memory.summary.keep_last: 5000 messages cannot fit "
                              "in budget_tokens 800")
    message = problem(config({"condition": "vector", "budget_tokens": 800,
                              "window": {"keep_last": 400}}))
    assert message.startswith("agents[0].memory.window.keep_last: 400 messages")


def test_budget_below_the_persona_identity() -> None:
    message = problem(config({"condition": "summary", "budget_tokens": 64}))
    assert message.startswith("agents[0].memory.budget_tokens: 64 is below the persona's "
                              "identity alone (at least ~")


def test_core_share_below_the_persona_block() -> None:
    message = problem(config({"condition": "core-ro", "budget_tokens": 256}))
    assert message.startswith("agents[0].memory.budget_tokens: 256 gives core memory 64 tokens")
    assert "shares.core" in message
    ok = config({"condition": "core-ro", "budget_tokens": 256, "shares": {"core": 0.6}})
    parse_experiment(ok)


def test_budgets_that_can_be_met_validate() -> None:
    for memory in ({"condition": "summary", "budget_tokens": 800, "summary": {"keep_last": 40}},
                   {"condition": "window", "budget_tokens": 128},
                   {"condition": "full", "budget_tokens": 800},
                   {"condition": "summary", "budget_tokens": 64, "summary": {"keep_last": 2}}):
        identity = JFK_IDENTITY if memory["budget_tokens"] > 64 else "You are Nova."
        parse_experiment(config(memory, identity))


def test_cli_validate_exits_2_naming_the_field(tmp_path: Path) -> None:
    path = write_config(tmp_path, config({"condition": "window", "budget_tokens": 800,
                                          "window": {"keep_last": 5000}}))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "agents[0].memory.window.keep_last: 5000" in result.output
    assert "Traceback" not in result.output


def test_a_sweep_into_an_impossible_budget_is_an_error(tmp_path: Path) -> None:
    data = config({"condition": "summary", "budget_tokens": 800})
    data["sweep"] = {"agents.0.memory.budget_tokens": [800, 64]}
    result = CliRunner().invoke(app, ["validate", str(write_config(tmp_path, data))])
    assert result.exit_code == 2 and "budget_tokens: 64" in result.output, result.output


@pytest.mark.parametrize("text", [*(script_text(s, 600) for s in SCRIPTS), JFK_IDENTITY,
                                  "Вы — Лев Толстой, русский писатель, в 1890 году.",
                                  "あなたは東京に住む作家の山田花子です。"])
def test_min_tokens_is_a_lower_bound(text: str) -> None:
    counter = TokenCounter("default")
    assert min_tokens(text) + MIN_MESSAGE_TOKENS <= counter.text(text)
    assert min_tokens(text) > 0


def test_constants_match_what_memory_renders() -> None:
    frame = CoreMemory("", "")._text("", "")
    assert min_tokens(frame) >= CORE_FRAME_MIN_TOKENS
    assert CONFIG_DEFAULT_SHARE == DEFAULT_SHARE
    assert TokenCounter("default").message({"role": "user", "content": "a"}) >= \
        MIN_MESSAGE_TOKENS
