"""A run's saved KV states on disk: files round-trip, generations are whole or absent, and
only the generations a resume can still need are kept."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest

from scaffold.models import _kv_files as kv
from scaffold.models import local
from scaffold.models._kv_state import KvSnapshot


def _snapshot(n_tokens: int, size: int, fill: int = 7) -> KvSnapshot:
    data = (ctypes.c_uint8 * (size + 5))(*([fill] * (size + 5)))  # a buffer larger than used
    return KvSnapshot(data, size, np.arange(n_tokens, dtype=np.intc))


def _generation(directory: Path, seq: int, files: list[str]) -> kv.Generation:
    for name in files:
        kv.write_snapshot(directory / name, _snapshot(3, 10, fill=seq % 256))
    owners = [kv.OwnerFile(agent="a", role=f"r{i}", file=name, n_tokens=3, size=10)
              for i, name in enumerate(files)]
    generation = kv.Generation(seq=seq, models=[kv.ModelStates(
        path="/m.gguf", size=1, n_ctx=4096, n_threads=0, owners=owners)])
    kv.write_generation(directory, generation)
    return generation


def test_a_state_file_round_trips_tokens_and_exactly_the_used_bytes(tmp_path: Path) -> None:
    snapshot = _snapshot(5, 12)
    kv.write_snapshot(tmp_path / "s.kv", snapshot)
    back = kv.read_snapshot(tmp_path / "s.kv", np.intc)
    assert back.size == 12 and bytes(back.data) == bytes(snapshot.data)[:12]
    assert back.tokens.dtype == np.intc and back.tokens.tolist() == [0, 1, 2, 3, 4]
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["truncate", "magic"])
def test_a_torn_or_foreign_state_file_is_refused(tmp_path: Path, damage: str) -> None:
    kv.write_snapshot(tmp_path / "s.kv", _snapshot(5, 12))
    raw = (tmp_path / "s.kv").read_bytes()
    (tmp_path / "s.kv").write_bytes(raw[:-1] if damage == "truncate" else b"X" + raw[1:])
    with pytest.raises(ValueError):
        kv.read_snapshot(tmp_path / "s.kv", np.intc)


def test_the_two_newest_generations_and_only_the_files_they_name_are_kept(
        tmp_path: Path) -> None:
    _generation(tmp_path, 10, ["m.a.r0.s10.kv", "m.a.r1.s10.kv"])
    _generation(tmp_path, 20, ["m.a.r0.s20.kv", "m.a.r1.s10.kv"])  # r1 unchanged since 10
    _generation(tmp_path, 30, ["m.a.r0.s30.kv", "m.a.r1.s10.kv"])
    assert kv.generations(tmp_path) == [20, 30]
    assert sorted(p.name for p in tmp_path.glob("*.kv")) == [
        "m.a.r0.s20.kv", "m.a.r0.s30.kv", "m.a.r1.s10.kv"]
    assert kv.read_generation(tmp_path, 20) is not None
    assert kv.read_generation(tmp_path, 10) is None


def test_a_resume_drops_the_generations_written_after_its_checkpoint(tmp_path: Path) -> None:
    # killed after generation 30 was written but before its checkpoint: resume from 20
    _generation(tmp_path, 10, ["m.a.r0.s10.kv"])
    _generation(tmp_path, 20, ["m.a.r0.s20.kv"])
    _generation(tmp_path, 30, ["m.a.r0.s30.kv"])
    kv.prune(tmp_path, keep_through=20)
    assert kv.generations(tmp_path) == [20]
    assert [p.name for p in tmp_path.glob("*.kv")] == ["m.a.r0.s20.kv"]


def test_restore_says_none_without_saved_states_and_missing_without_this_checkpoints(
        tmp_path: Path) -> None:
    assert local.restore_run("run", tmp_path / "kv", 5) == "none"
    (tmp_path / "kv").mkdir()
    assert local.restore_run("run", tmp_path / "kv", 5) == "none"
    _generation(tmp_path / "kv", 4, ["m.a.r0.s4.kv"])
    assert local.restore_run("run", tmp_path / "kv", 5) == "missing"  # 4 is not 5's states
    _generation(tmp_path / "kv", 5, ["m.a.r0.s5.kv"])
    # generation 5 names a model file that does not exist here
    assert local.restore_run("run", tmp_path / "kv", 5) == "missing"


def test_persisting_a_run_that_holds_no_state_writes_nothing(tmp_path: Path) -> None:
    assert local.persist_run("no-such-run", tmp_path / "kv", 3) is False
    assert not (tmp_path / "kv").exists()
