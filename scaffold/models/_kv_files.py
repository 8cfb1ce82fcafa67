"""A run's KV states on disk, one generation per checkpoint, so a killed run resumes bit-exactly.

llama.cpp's numerics depend on how a prompt's evaluation was split into batches, so a state
rebuilt in one pass after a kill differs in its last bits from the one the run had built step
by step, and later replies can differ. Saving each owner's state beside the step checkpoint
and restoring it on resume removes that difference.

Layout of `<run>/kv/`:
- `gen-<seq>.json`: a generation, written once the states it names are on disk (renamed into
  place, so it is whole or absent); `seq` is the event seq of the checkpoint it belongs to.
- `<model>.<agent>.<role>.s<seq>.kv`: one owner's state, first written at generation `seq`;
  later generations name it again while the owner has not called the model since.
The two newest generations are kept (a kill between a generation and its checkpoint leaves
the previous one, which matches the previous checkpoint); older files are deleted.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from scaffold.models._kv_state import KvSnapshot

MAGIC = b"SCKV1\n"
_HEADER = struct.Struct("<QQ")  # n_tokens, state bytes
KEEP_GENERATIONS = 2


class OwnerFile(BaseModel):
    """One owner's saved state in a generation."""

    model_config = ConfigDict(extra="forbid")
    agent: str
    role: str
    file: str
    n_tokens: int
    size: int


class ModelStates(BaseModel):
    """The saved states of one loaded model."""

    model_config = ConfigDict(extra="forbid")
    path: str
    """The GGUF file."""
    size: int
    """Its size in bytes (a different file at the same path is not restored into)."""
    n_ctx: int
    n_threads: int
    owners: list[OwnerFile]


class Generation(BaseModel):
    """Every KV state a run's calls had left when one of its checkpoints was written."""

    model_config = ConfigDict(extra="forbid")
    seq: int
    models: list[ModelStates]


def write_snapshot(path: Path, snapshot: KvSnapshot) -> None:
    """One state as a file: header, token ids (int32), llama.cpp's state bytes."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(MAGIC)
        fh.write(_HEADER.pack(snapshot.n_tokens, snapshot.size))
        fh.write(np.asarray(snapshot.tokens, dtype=np.int32).tobytes())
        fh.write(memoryview(snapshot.data).cast("B")[: snapshot.size])
    os.replace(tmp, path)


def read_snapshot(path: Path, dtype: Any) -> KvSnapshot:
    """A state written by `write_snapshot`; `dtype`: the token array type llama uses.

    Raises:
        ValueError: the file is not a whole saved state.
    """
    raw = path.read_bytes()
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + _HEADER.size:
        raise ValueError(f"{path} is not a saved KV state")
    n_tokens, size = _HEADER.unpack_from(raw, len(MAGIC))
    start = len(MAGIC) + _HEADER.size
    body = start + 4 * n_tokens
    if len(raw) != body + size:
        raise ValueError(f"{path}: {len(raw)} bytes, expected {body + size} (a torn write?)")
    tokens = np.frombuffer(raw, dtype=np.int32, count=n_tokens, offset=start).astype(dtype)
    data = (ctypes.c_uint8 * size).from_buffer_copy(raw, body)
    return KvSnapshot(data, size, tokens)


def generation_path(directory: Path, seq: int) -> Path:
    """Where generation `seq`'s index lives."""
    return directory / f"gen-{seq}.json"


def write_generation(directory: Path, generation: Generation) -> None:
    """Put a generation's index in place (its state files must be written already), then
    drop generations beyond the newest `KEEP_GENERATIONS` and the files no kept one names."""
    path = generation_path(directory, generation.seq)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(generation.model_dump_json(), encoding="utf-8")
    os.replace(tmp, path)
    prune(directory, keep_through=generation.seq)


def generations(directory: Path) -> list[int]:
    """Seqs of the generations on disk, oldest first."""
    found = []
    for path in directory.glob("gen-*.json"):
        match = re.fullmatch(r"gen-(\d+)\.json", path.name)
        if match:
            found.append(int(match.group(1)))
    return sorted(found)


def read_generation(directory: Path, seq: int) -> Generation | None:
    """Generation `seq`, or None when there is none (or it cannot be read)."""
    path = generation_path(directory, seq)
    try:
        return Generation.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def prune(directory: Path, keep_through: int) -> None:
    """Keep the newest `KEEP_GENERATIONS` generations up to seq `keep_through`; delete later
    ones (a killed attempt's, beyond the checkpoint being resumed) and unnamed state files."""
    seqs = generations(directory)
    kept = [s for s in seqs if s <= keep_through][-KEEP_GENERATIONS:]
    named: set[str] = set()
    for seq in seqs:
        if seq in kept:
            generation = read_generation(directory, seq)
            if generation is not None:
                named.update(o.file for model in generation.models for o in model.owners)
                continue
        generation_path(directory, seq).unlink(missing_ok=True)
    for path in directory.iterdir():
        if path.suffix in (".kv", ".tmp") and path.name not in named:
            path.unlink(missing_ok=True)
