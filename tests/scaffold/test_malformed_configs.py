"""Malformed experiment files through the real CLI: a clear message naming the field, exit 2,
never a traceback; hostile ones (alias bombs, deep nesting, huge files) refused before any
object is built, by `validate`, `run` and `plan` alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import spec_dict


def edit(**changes: object) -> str:
    data = spec_dict()
    for path, value in changes.items():
        node: object = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) \
                else node.setdefault(key, {})  # type: ignore[union-attr]
        if value is DELETE:
            del node[keys[-1]]  # type: ignore[index]
        elif isinstance(node, list):
            node[int(keys[-1])] = value
        else:
            node[keys[-1]] = value  # type: ignore[index]
    return yaml.safe_dump(data)


DELETE = object()
P = "personas__jfk__"
A = "agents__0__"

CASES: list[tuple[str, str]] = [
    ("", "expected a mapping"),
    ("- a\n- b\n", "expected a mapping"),
    ("name: [unclosed\n", "invalid YAML"),
    ("name: x\n  bad indent: 1\n", "invalid YAML"),
    ("\t- tab\n", "invalid YAML"),
    (edit(name=DELETE), "name: required field is missing"),
    (edit(name="has space"), "name:"),
    (edit(steps="many"), "steps:"),
    (edit(steps=0), "steps:"),
    (edit(seed="abc"), "seed:"),
    (edit(stepz=3), "stepz: unknown field"),
    (edit(personas={}), "personas:"),
    (edit(personas=DELETE), "personas: required field is missing"),
    (edit(**{P + "anchors": []}), "personas.jfk.anchors:"),
    (edit(**{P + "identity": ""}), "personas.jfk.identity:"),
    (edit(**{P + "probes__0__id": "bad id!"}), "personas.jfk.probes[0].id:"),
    (edit(**{P + "probes__0__question": ""}), "personas.jfk.probes[0].question:"),
    (edit(**{P + "probes__1__id": "who"}), "duplicate probe ids"),
    (edit(**{P + "probes__0__expect__require_regex": ["(oops"]}), "require_regex"),
    (edit(**{P + "probes__0__expect__requires": ["x"]}), "expect.requires: unknown field"),
    (edit(**{A + "persona": "nixon"}), "agents[0].persona"),
    (edit(agents=[{"id": "a", "persona": "jfk"}, {"id": "a", "persona": "jfk"}]),
     "duplicate agent ids"),
    (edit(**{A + "id": "x y"}), "agents[0].id:"),
    (edit(**{A + "memory__summary__threshold": 1.5}),
     "agents[0].memory.summary.threshold: must be in (0, 1]"),
    (edit(**{A + "memory__summary__threshold": 0}), "must be in (0, 1]"),
    (edit(**{A + "memory__summary__keep_last": -1}), "agents[0].memory.summary.keep_last:"),
    (edit(**{A + "memory__summary__on_failure": "panic"}), "on_failure:"),
    (edit(**{A + "memory__summary__eviction_share": 2}), "eviction_share: must be in (0, 1]"),
    (edit(**{A + "memory__budget_tokens": 10}), "agents[0].memory.budget_tokens:"),
    (edit(**{A + "memory__condition": "sumary"}), "unknown memory condition"),
    (edit(**{A + "memory__shares": {"summary": 3}}), "shares:"),
    (edit(**{A + "memory__vector__top_k": 0}), "vector.top_k:"),
    (edit(**{A + "generation__temperature": 9}), "generation.temperature:"),
    (edit(**{A + "generation__max_tokens": 0}), "generation.max_tokens:"),
    (edit(probes={"every": 0}), "probes.every:"),
    (edit(probes={"scorers": ["vibes"]}), "unknown scorer"),
    (edit(probes={"samples": 100}), "probes.samples:"),
    (edit(task={"pressure": [{"step": 0, "text": "x"}]}), "task.pressure[0].step:"),
    (edit(retry={"attempts": 0}), "retry.attempts:"),
    (edit(judge={"scale": [3, 0]}), "judge.scale:"),
    (edit(sweep={"seed": []}), "sweep"),
    (edit(sweep={"memory": ["window", "bogus"]}), "bogus"),
    (edit(sweep={"seed": [1, 2]}, exclude=[{"sed": 1}]), "exclude[0]: sed is not a sweep axis"),
    (edit(exclude=[{"seed": 1}]), "exclude: drops combinations of a sweep"),
    (edit(sweep={"seed": [1]}, exclude=[{"seed": 1}]), "every combination is excluded"),
    (edit(endpoints={"local/qwen2.5-0.5b-instruct": {"api_base": "http://x:1"}}),
     "endpoints: local/qwen2.5-0.5b-instruct: local/ models run inside the process"),
    (edit(endpoints={"ollama": {"api_base": "localhost:11434"}}),
     "endpoints.ollama.api_base: expected an http:// or https:// URL"),
    (edit(endpoints={"ollama": {"api_base": "http://me:pw@box:11434"}}),
     "credentials in the URL"),
    (edit(endpoints={"ollama": {"api_base": "http://box:11434", "api_key_env": "my key"}}),
     "endpoints.ollama.api_key_env:"),
    (edit(endpoints={"ollama": {"url": "http://box:11434"}}), "endpoints.ollama.url: unknown"),
    (edit(execution={"model_concurrency": {"openai/gpt-4o": 0}}),
     "execution.model_concurrency.openai/gpt-4o:"),
    (edit(execution={"requests_per_minute": {"openai/gpt-4o": -1}}),
     "execution.requests_per_minute.openai/gpt-4o:"),
    (edit(task={"kind": "chess"}), "task.kind: unknown task 'chess'"),
    (edit(task={"kind": "selfchat"}), "task.kind: selfchat needs exactly 2 agents"),
    (edit(task={"kind": "room"}), "task.kind: a room needs 2 to 16 agents"),
    (edit(task={"kind": "room", "room": {"policy": "loudest"}}), "task.room.policy:"),
    (edit(task={"kind": "reading", "reading": {"document": "nowhere.txt"}}),
     "task.reading.document: file not found"),
    (edit(task={"kind": "coding", "coding": {"problems": "none.yaml"}}),
     "task.coding.problems: file not found"),
    (edit(task={"kind": "coding", "coding": {"limits": {"memory_mb": 1}}}),
     "task.coding.limits.memory_mb:"),
    (edit(task={"kind": "pressure", "user": {"persona": "nixon"}}),
     "task.user.persona: unknown persona 'nixon'"),
    (edit(task={"kind": "pressure", "user": {"style": "custom"}}),
     "task.user.goal: style 'custom' needs a goal"),
    (edit(task={"kind": "pressure", "user": {"intensity": 2}}), "task.user.intensity:"),
]


# --- hostile YAML: every alias-expansion shape, deep nesting, size ----------------------

def base(**changes: object) -> str:
    """A valid experiment (no `task:` key yet) as YAML text."""
    return edit(**changes)


HOLE = "@@HOLE@@"


def fill(text: str, snippet: str) -> str:
    """Replace the one line holding HOLE (`key: HOLE` or `- HOLE`) by `snippet` (YAML lines)
    nested under that key, or by the snippet's lines as list items."""
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if HOLE in line)
    indent = len(lines[at]) - len(lines[at].lstrip())
    head = lines[at].strip()
    if head.startswith("- "):
        body = [" " * indent + f"- {item}\n" for item in snippet.splitlines()]
    else:
        body = [" " * indent + head.split(":")[0] + ":\n"]
        body += [" " * (indent + 2) + f"{line}\n" for line in snippet.splitlines()]
    return "".join(lines[:at] + body + lines[at + 1:])


def under_options(snippet: str) -> str:
    """A valid experiment with `snippet` under the free-form `task.options.x`."""
    return fill(base(task={"options": {"x": HOLE}}), snippet)


def lol_sequences(levels: int = 9, width: int = 9) -> str:
    """The classic 'billion laughs': each level a flow list of aliases to the level below."""
    lines = ['l0: &l0 [' + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]"
              for i in range(1, levels)]
    return "\n".join(lines)


def lol_mappings(levels: int = 9, width: int = 9) -> str:
    """The same bomb built from mappings, the top level through a merge key."""
    keys = [f"k{j}" for j in range(width)]
    lines = ["m0: &m0 {" + ", ".join(f"{k}: lol" for k in keys) + "}"]
    lines += [f"m{i}: &m{i} {{" + ", ".join(f"{k}: *m{i - 1}" for k in keys) + "}"
              for i in range(1, levels - 1)]
    lines.append(f"top: {{<<: *m{levels - 2}, extra: [*m{levels - 2}, *m{levels - 2}]}}")
    return "\n".join(lines)


def lol_block(levels: int = 8, width: int = 8) -> str:
    """The bomb in block style (one alias per line)."""
    lines = ["b0: &b0"] + ["  - lol"] * width
    for i in range(1, levels):
        lines += [f"b{i}: &b{i}"] + [f"  - *b{i - 1}"] * width
    return "\n".join(lines)


def wide_quadratic(n: int = 2000) -> str:
    """No nesting at all: one list of n values, aliased n times (n^2 values)."""
    return "row: &row [" + ", ".join(["1"] * n) + "]\ngrid: [" + ", ".join(["*row"] * n) + "]"


def deep_through_aliases(levels: int = 40, chain: int = 30) -> str:
    """Each anchor nests the one before it `levels` deep: shallow text, deep document."""
    lines = ["d0: &d0 " + "[" * levels + "x" + "]" * levels]
    lines += [f"d{i}: &d{i} " + "[" * levels + f"*d{i - 1}" + "]" * levels
              for i in range(1, chain)]
    return "\n".join(lines)


def long_text_repeated() -> str:
    """One 100 kB statement aliased 2,000 times among the persona's anchors (200 MB of text)."""
    statement = "I am John F. Kennedy. " * 4500
    items = f"&speech '{statement}'\n" + "*speech\n" * 1999
    return fill(base(**{P + "anchors": [HOLE]}), items)


EXPANDS = "aliases expand this document past the limit"
HOSTILE: list[tuple[str, str, str]] = [
    ("lol-sequences", under_options(lol_sequences()), EXPANDS),
    ("lol-mappings-merge", under_options(lol_mappings()), EXPANDS),
    ("lol-block-style", under_options(lol_block()), EXPANDS),
    ("lol-in-memory-options", fill(base(**{A + "memory__options": {"plugin": HOLE}}),
                                   lol_sequences()), EXPANDS),
    ("lol-at-top-level", lol_sequences() + "\n" + base(), EXPANDS),
    ("wide-quadratic", under_options(wide_quadratic()), EXPANDS),
    ("long-text-repeated", long_text_repeated(), EXPANDS),
    ("recursive-alias", under_options("loop: &loop [1, *loop]"), "recursive"),
    ("recursive-mapping", under_options("loop: &loop {again: *loop}"), "recursive"),
    ("deep-through-aliases", under_options(deep_through_aliases()), "deeper than"),
    ("deep-flow-lists", under_options("deep: " + "[" * 10_000 + "]" * 10_000), "nest"),
    ("deep-flow-mappings", under_options("deep: " + "{a: " * 10_000 + "1" + "}" * 10_000),
     "nest"),
    ("deep-block-lists", under_options("deep:\n" + "".join(
        "  " * (i + 1) + "-\n" for i in range(200))), "nest"),
    ("huge-integer", base().replace("steps: 12", "steps: " + "9" * 5000), "invalid YAML"),
    ("just-over-1-MiB", base() + "".join(f"pad{i}: {'x' * 90}\n" for i in range(11_000)),
     "file too large"),
]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line in a child process whose address space is capped (4 GiB), so a
    regression fails with an error instead of eating the machine's memory."""
    def cap_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    return subprocess.run([sys.executable, "-m", "scaffold.cli", *args], capture_output=True,
                          text=True, preexec_fn=cap_memory if sys.platform == "linux" else None)


@pytest.mark.parametrize("name,text,expected", HOSTILE, ids=[h[0] for h in HOSTILE])
@pytest.mark.parametrize("command", ["validate", "run", "plan"])
def test_hostile_yaml_is_refused_by_every_command(tmp_path: Path, command: str, name: str,
                                                  text: str, expected: str) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    proc = cli(command, str(path))
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert expected in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("name", ["lol-sequences", "recursive-alias", "deep-flow-lists"])
def test_the_tui_refuses_hostile_yaml_before_its_screen_opens(tmp_path: Path, name: str) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(next(text for n, text, _ in HOSTILE if n == name), encoding="utf-8")
    proc = cli("tui", str(path))
    assert proc.returncode == 2 and "invalid YAML" in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_the_bombs_are_valid_yaml_that_would_expand(tmp_path: Path) -> None:
    """The shapes above really are bombs: PyYAML's own loader accepts them as shared
    references (so only an expansion check can catch them)."""
    for text in (lol_sequences(), lol_mappings(), lol_block()):
        data: Any = yaml.safe_load(text)
        assert isinstance(data, dict) and len(data) >= 8


# --- duplicate keys, unroutable models, measuring nothing ------------------------------

def duplicated(line: str, after: str) -> str:
    """A valid experiment with `line` inserted after the first line starting with `after`."""
    lines = base().splitlines(keepends=True)
    at = next(i for i, text in enumerate(lines) if text.startswith(after))
    return "".join(lines[: at + 1] + [line + "\n"] + lines[at + 1:])


def line_of(text: str, prefix: str, nth: int = 1) -> int:
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if line.startswith(prefix)]
    return hits[nth - 1]


DUP_TOP = duplicated("steps: 40", "steps:")
DUP_NESTED = duplicated("    condition: window", "    condition:")
UNMEASURED = "measures nothing"
ROUTE = "which neither litellm nor a model plugin serves"
MORE_CASES: list[tuple[str, str]] = [
    (DUP_TOP, f"line {line_of(DUP_TOP, 'steps:', 2)}, column 1: duplicate key 'steps' "
              f"(first at line {line_of(DUP_TOP, 'steps:')})"),
    (DUP_NESTED, "duplicate key 'condition'"),
    ('{"name": "x", "steps": 3, "steps": 4}', "duplicate key 'steps'"),
    (edit(model="open ai/gpt 4.1 mini!!"), "model: 'open ai/gpt 4.1 mini!!' holds spaces"),
    (edit(model="openai/gpt-4.1-mini!!"), "model: 'openai/gpt-4.1-mini!!' holds '!'"),
    (edit(model="openai/"), "model: 'openai/' names no model after 'openai/'"),
    (edit(model="gpt4o"), "model: 'gpt4o' has no provider litellm knows"),
    (edit(models={"judge": "judgy/x"}), f"models.judge: 'judgy/x' names provider 'judgy', {ROUTE}"),
    (edit(models={"summarizer": "sum marizer"}), "models.summarizer: 'sum marizer' holds spaces"),
    (edit(task={"kind": "pressure"}, models={"user": "user?/x"}), "models.user: 'user?/x' holds '?'"),
    (edit(**{A + "model": "mybox/qwen"}), f"agents[0].model: 'mybox/qwen' names provider 'mybox'"),
    (edit(**{A + "memory__summary__model": "nope/x"}), "agents[0].memory.summary.model: 'nope/x'"),
    (edit(model="box/qwen", endpoints={"box": {"api_base": "http://box:8000/v1"}}),
     "model: 'box/qwen' names provider 'box'"),
    (edit(sweep={"model": ["scripted/default", "bad model"]}),
     "sweep {'model': 'bad model'}: model: 'bad model' holds spaces"),
    (base().replace("name: test-jfk", 'name: !!timestamp "not a date"'), "invalid YAML"),
    (base().replace("steps: 12", 'steps: !!int "twelve"'), "invalid YAML"),
    (base().replace("seed: 0", 'seed: !!binary "not base64!"'), "invalid YAML"),
    (base().replace("seed: 0", "seed: !!python/object/apply:os.getpid []"), "invalid YAML"),
    (base().replace("seed: 0", "seed: 0\x00"), "invalid YAML: character"),
    (edit(probes={"enabled": False, "scorers": []}), UNMEASURED),
    (edit(probes={"scorers": []}, **{A + "probe": False}), UNMEASURED),
    (edit(probes={"scorers": [], "generic": False}, **{P + "probes": []}), UNMEASURED),
    (edit(probes={"scorers": []}, sweep={"probes.enabled": [True, False]}),
     f"sweep: 1 run(s): probes: this experiment {UNMEASURED}"),
]


@pytest.mark.parametrize("text,expected", CASES + MORE_CASES,
                         ids=[f"case{i}" for i in range(len(CASES) + len(MORE_CASES))])
def test_malformed_config(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    proc = cli("validate", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("model", ["scripted/default", "local/qwen2.5-0.5b-instruct",
                                   "openai/gpt-4o-mini", "ollama/llama3.1:8b",
                                   "hosted_vllm/Qwen/Qwen2.5-7B-Instruct"])
def test_routable_model_names_pass(tmp_path: Path, model: str) -> None:
    endpoints = {"hosted_vllm": {"api_base": "http://gpu-box:8000/v1"}}
    path = tmp_path / "ok.yaml"
    path.write_text(edit(model=model, endpoints=endpoints), encoding="utf-8")
    proc = cli("validate", str(path))
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_no_probes_is_the_explicit_opt_out(tmp_path: Path) -> None:
    path = tmp_path / "unmeasured.yaml"
    path.write_text(edit(out=str(tmp_path / "runs"), steps=2,
                         probes={"enabled": False, "scorers": []}), encoding="utf-8")
    for command in ("validate", "plan"):
        proc = cli(command, str(path))
        assert proc.returncode == 2 and "--no-probes" in proc.stderr, proc.stderr
    assert cli("validate", "--no-probes", str(path)).returncode == 0
    assert cli("plan", "--no-probes", str(path)).returncode == 0
    proc = cli("run", str(path), "--no-probes")
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "runs").iterdir())


# --- error lists are capped --------------------------------------------------------------

def test_thousands_of_errors_print_twenty_and_a_count(tmp_path: Path) -> None:
    path = tmp_path / "typos.yaml"
    path.write_text(base() + "".join(f"typo{i}: {i}\n" for i in range(5000)), encoding="utf-8")
    proc = cli("validate", str(path))
    assert proc.returncode == 2
    problems = [line for line in proc.stderr.splitlines() if line.startswith("  ")]
    assert len(problems) == 21, proc.stderr
    assert problems[0] == "  typo0: unknown field (check the spelling)"
    assert problems[-1] == "  ... and 4980 more errors"


def test_a_ten_megabyte_file_is_refused_in_a_few_lines(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(base() + "".join(f"unknown_key_{i}: {i}\n" for i in range(450_000)),
                    encoding="utf-8")
    assert path.stat().st_size > 10_000_000
    for command in ("validate", "run", "plan"):
        proc = cli(command, str(path))
        assert proc.returncode == 2 and "file too large" in proc.stderr, proc.stderr[-2000:]
        assert len(proc.stderr.splitlines()) < 10
