"""Run untrusted Python in a contained process: namespaces, rlimits, no network, bounded output.

`run_python` starts a fresh interpreter per call, confined by the strongest combination this
machine allows, and reports what confined it and which limit stopped it:

- namespaces (`unshare`): pid (the code's processes die with it), network (no interfaces but a
  downed loopback), mount (a private size-capped root with the system directories read-only,
  so nothing outside the sandbox is visible or writable, including the parent's `/proc`), ipc,
  uts. As root directly; otherwise inside a user namespace where the kernel allows one.
- identity: as root, the code runs as a fresh unprivileged uid per run (so RLIMIT_NPROC bounds
  its processes and leftovers can be found by uid); in a user namespace, with every capability
  dropped; always with no_new_privs.
- rlimits: CPU seconds, address space, file size, no core files.
- a scrubbed environment (nothing of `os.environ` passes), its own session killed as a group on
  the wall-clock limit, output read incrementally and cut to `output_chars`.

Where no network namespace can be had, a Python-level socket guard stands in and the result says
`network_isolated=False`.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scaffold.config import SandboxLimits
from scaffold.tasks._sandbox_capture import OutputBudget, OutputCapture, drain

LAUNCHER = Path(__file__).with_name("_sandbox_launcher.py")
CHILD_PATH = "/usr/local/bin:/usr/bin:/bin"
OUTPUT_KILL_CHARS = 16 << 20
"""Total output after which a run is killed (it is cut to `output_chars` anyway)."""
DRAIN_GRACE_S = 2.0
"""How long to wait for pipes to close once the code's process is gone."""
_UID_BASE = 1_600_000_000
_uid_counter = itertools.count()

_REASON_PATTERNS = (
    ("memory", re.compile(r"\bMemoryError\b|Cannot allocate memory|\[Errno 12\]")),
    ("file size", re.compile(r"File too large|\[Errno 27\]")),
    ("processes", re.compile(r"Resource temporarily unavailable|\[Errno 11\]|"
                             r"can't start new thread")),
)
"""Limits a Python process hits without being killed: recognised in its last words."""


class SandboxResult(BaseModel):
    """What one sandboxed execution did, and what contained it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stdout: str = ""
    """Standard output, cut to the limit (head and tail kept)."""
    stderr: str = ""
    """Standard error, cut the same way."""
    exit_code: int | None = None
    """The code's exit status; -N if signal N ended it; None if it was killed from outside."""
    timed_out: bool = False
    """The wall-clock limit was reached and the process group killed."""
    killed_reason: str | None = None
    """The limit that stopped the code: 'wall time', 'cpu time', 'memory', 'file size',
    'processes', 'output'; None when it ended on its own terms."""
    duration_s: float = 0.0
    """Wall-clock seconds from start to the end of the code's process."""
    cpu_s: float | None = None
    """CPU seconds the code's main process used (None when it was killed from outside)."""
    network_isolated: bool = False
    """True when the code ran in a network namespace of its own."""
    stdout_truncated: bool = False
    """Characters were cut from stdout."""
    stderr_truncated: bool = False
    """Characters were cut from stderr."""
    protections: list[str] = Field(default_factory=list)
    """Mechanisms that were active: 'pidns', 'netns', 'mountns', 'ipcns', 'utsns', 'userns',
    'chroot', 'readonly-system', 'private-tmp', 'uid-drop', 'caps-drop', 'no-new-privs',
    'rlimit-*', 'socket-guard', 'subreaper', 'group-kill', 'launcher-nondumpable' (the
    code cannot reach the launcher's descriptors, so its verdict is the launcher's)."""
    notes: list[str] = Field(default_factory=list)
    """Protections that were wanted but could not be set up, and why."""

    @property
    def ok(self) -> bool:
        """Exited 0 on its own."""
        return self.exit_code == 0 and self.killed_reason is None

    def verdict(self) -> str:
        """One line: 'exit 0', 'exit 1', 'stopped by the wall time limit', ..."""
        code = "" if self.exit_code is None else f"exit {self.exit_code}"
        if self.killed_reason is None:
            return code or "no exit status"
        return f"stopped by the {self.killed_reason} limit" + (f" ({code})" if code else "")


@dataclass(frozen=True)
class Isolation:
    """How this machine can isolate a child: the `unshare` command line and what it gives."""

    prefix: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    userns: bool = False


NO_ISOLATION = Isolation()
_NS_FLAGS = (("--pid", "pidns"), ("--mount", "mountns"), ("--ipc", "ipcns"),
             ("--uts", "utsns"), ("--net", "netns"))


def _probe(prefix: list[str]) -> bool:
    try:
        done = subprocess.run([*prefix, "--", "true"], capture_output=True, timeout=10,
                              env={"PATH": CHILD_PATH}, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@functools.cache
def detect_isolation() -> Isolation:
    """The strongest namespace set `unshare` can create here (probed once per process)."""
    unshare = shutil.which("unshare", path=CHILD_PATH)
    if unshare is None or not sys.platform.startswith("linux"):
        return NO_ISOLATION
    flags = [f for f, _ in _NS_FLAGS]
    names = tuple(n for _, n in _NS_FLAGS)
    base = [unshare, "--fork", "--kill-child", *flags]
    if os.geteuid() == 0 and _probe(base):
        return Isolation(tuple(base), names)
    userns = [unshare, "--user", "--map-root-user", "--fork", "--kill-child", *flags]
    if _probe(userns):
        return Isolation(tuple(userns), ("userns", *names), userns=True)
    return NO_ISOLATION


def _world_accessible(paths: list[str]) -> bool:
    """Whether an unprivileged uid can reach and run everything in `paths` on the host."""
    for path in paths:
        for part in (Path(path), *Path(path).parents):
            if not os.stat(part).st_mode & stat.S_IXOTH:
                return False
    return True


@functools.cache
def _interpreter() -> tuple[str, tuple[str, ...], bool]:
    """The real interpreter binary, the prefixes it needs (stdlib, shared library), and
    whether an unprivileged uid can reach them all."""
    python = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    prefixes = sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix),
                       os.path.dirname(python)})
    return python, tuple(prefixes), _world_accessible([python, *prefixes])


def _next_uid() -> int:
    """A uid no other sandbox of this machine is using right now."""
    return _UID_BASE + (os.getpid() % 50_000) * 10_000 + next(_uid_counter) % 10_000


def _prepare_workdir(code: str, files: dict[str, str] | None) -> tuple[Path, Path]:
    """A throwaway directory: `code/` holds main.py and `files`; `root/` is a mount point."""
    tmp = Path(tempfile.mkdtemp(prefix="scaffold-sandbox-"))
    tmp.chmod(0o711)  # an unprivileged uid must reach code/ when there is no private root
    workdir = tmp / "code"
    workdir.mkdir()
    for name, content in (files or {}).items():
        target = (workdir / name).resolve()
        if workdir.resolve() not in target.parents:
            shutil.rmtree(tmp)
            raise ValueError(f"file name escapes the sandbox directory: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    (workdir / "main.py").write_text(code, encoding="utf-8")
    return tmp, workdir


def _launch_config(workdir: Path, limits: SandboxLimits, isolation: Isolation, uid: int,
                   status_fd: int) -> dict[str, Any]:
    python, prefixes, public = _interpreter()
    names = [n for n in isolation.namespaces if limits.network is False or n != "netns"]
    return {
        "workdir": str(workdir), "main": "main.py", "python": python,
        "prefixes": list(prefixes), "python_public": public,
        "disk_mb": max(32, 4 * limits.file_mb),
        "limits": limits.model_dump(include={"cpu_s", "memory_mb", "file_mb", "processes"}),
        "env": {"PATH": CHILD_PATH, "LANG": "C.UTF-8", "PYTHONUTF8": "1",
                "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"},
        "uid": uid, "userns": isolation.userns, "namespaces": names,
        "network": limits.network, "status_fd": status_fd,
    }


def _command(isolation: Isolation, limits: SandboxLimits, config: dict[str, Any]) -> list[str]:
    prefix = [a for a in isolation.prefix if not (limits.network and a == "--net")]
    launcher = [config["python"], "-I", "-S", str(LAUNCHER), json.dumps(config)]
    return [*prefix, "--", *launcher] if prefix else launcher


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_uid(uid: int) -> None:
    """Kill every process running as the run's private uid (stragglers outside the group)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                os.kill(int(entry), signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue


def _cleanup(tmp: Path, uid: int | None) -> None:
    if uid is not None:
        _kill_uid(uid)
    shutil.rmtree(tmp, ignore_errors=True)


def _read_verdict(fd: int) -> dict[str, Any]:
    """What the launcher reported: its setup (protections, notes), then the code's end (exit,
    signal, cpu_s) unless it was killed first. Closes `fd`."""
    os.set_blocking(fd, False)
    data = b""
    try:
        while chunk := os.read(fd, 65536):
            data += chunk
    except BlockingIOError:
        pass
    finally:
        os.close(fd)
    verdict: dict[str, Any] = {}
    for line in data.splitlines():
        try:
            verdict.update(json.loads(line))
        except (json.JSONDecodeError, TypeError, ValueError):
            continue
    return verdict


@dataclass
class _Supervision:
    """What watching one process found."""

    stdout: OutputCapture
    stderr: OutputCapture
    timed_out: bool = False
    overflowed: bool = False
    duration_s: float = 0.0


async def _feed(writer: asyncio.StreamWriter | None, data: bytes) -> None:
    if writer is None:
        return
    try:
        if data:
            writer.write(data)
            await writer.drain()
        writer.close()
    except (BrokenPipeError, ConnectionResetError):
        pass


async def _supervise(proc: asyncio.subprocess.Process, limits: SandboxLimits,
                     stdin: str) -> _Supervision:
    """Feed stdin, capture output, and kill the group at the wall or output limit."""
    seen = _Supervision(OutputCapture(limits.output_chars), OutputCapture(limits.output_chars))
    budget = OutputBudget(OUTPUT_KILL_CHARS)
    started = time.monotonic()
    helpers = [asyncio.create_task(drain(proc.stdout, seen.stdout, budget)),
               asyncio.create_task(drain(proc.stderr, seen.stderr, budget)),
               asyncio.create_task(_feed(proc.stdin, stdin.encode("utf-8")))]
    exited = asyncio.create_task(proc.wait())
    flood = asyncio.create_task(budget.exceeded.wait())
    done, _ = await asyncio.wait({exited, flood}, timeout=limits.wall_s,
                                 return_when=asyncio.FIRST_COMPLETED)
    seen.duration_s = time.monotonic() - started
    seen.timed_out, seen.overflowed = not done, exited not in done and flood in done
    _kill_group(proc.pid)  # also reaps what the code left in its session
    flood.cancel()
    await asyncio.wait([exited, *helpers[:2]], timeout=DRAIN_GRACE_S)
    for task in (exited, *helpers):
        task.cancel()
    return seen


def limit_reason(ended: dict[str, Any], last_words: str, cpu_limit_s: int) -> str | None:
    """The limit that stopped a process that ended as `ended` says (`exit`, `signal`,
    `cpu_s`), given the end of its stderr; None when it ended on its own terms."""
    if ended.get("exit") == 0:
        return None
    signum = ended.get("signal")
    if signum == signal.SIGXCPU or (
            signum == signal.SIGKILL and (ended.get("cpu_s") or 0) >= cpu_limit_s):
        return "cpu time"
    if signum == signal.SIGXFSZ:
        return "file size"
    for reason, pattern in _REASON_PATTERNS:
        if pattern.search(last_words[-2000:]):
            return reason
    return None


def _killed_reason(seen: _Supervision, verdict: dict[str, Any],
                   limits: SandboxLimits) -> str | None:
    if seen.overflowed:
        return "output"
    if seen.timed_out:
        return "wall time"
    return limit_reason(verdict, seen.stderr.tail or seen.stderr.head, limits.cpu_s)


def _result(seen: _Supervision, verdict: dict[str, Any], limits: SandboxLimits,
            isolation: Isolation) -> SandboxResult:
    signum = verdict.get("signal")
    exit_code = -signum if signum else verdict.get("exit")
    protections = list(verdict.get("protections") or isolation.namespaces) + ["group-kill"]
    return SandboxResult(
        stdout=seen.stdout.text(), stderr=seen.stderr.text(), exit_code=exit_code,
        timed_out=seen.timed_out, killed_reason=_killed_reason(seen, verdict, limits),
        duration_s=round(seen.duration_s, 3), cpu_s=verdict.get("cpu_s"),
        network_isolated="netns" in protections and not limits.network,
        stdout_truncated=seen.stdout.truncated, stderr_truncated=seen.stderr.truncated,
        protections=protections, notes=list(verdict.get("notes", [])))


async def _spawn(tmp: Path, workdir: Path, limits: SandboxLimits, isolation: Isolation,
                 uid: int) -> tuple[asyncio.subprocess.Process, int]:
    """Start the launcher in its own session; returns it and the status pipe's read end."""
    read_fd, write_fd = os.pipe()
    config = _launch_config(workdir, limits, isolation, uid, write_fd)
    try:
        proc = await asyncio.create_subprocess_exec(
            *_command(isolation, limits, config), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            pass_fds=(write_fd,), start_new_session=True, cwd=tmp,
            env={"PATH": CHILD_PATH, "LANG": "C.UTF-8"})
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    return proc, read_fd


async def run_python(code: str, limits: SandboxLimits, *, stdin: str = "",
                     files: dict[str, str] | None = None,
                     namespaces: bool = True) -> SandboxResult:
    """Run `code` as `main.py` in a fresh, contained interpreter.

    Args:
        code: the program's source.
        limits: wall/CPU time, memory, file size, processes, output and network settings.
        stdin: text fed to the program's standard input.
        files: extra files (relative name -> text) placed beside main.py; importable.
        namespaces: use Linux namespaces where available (False: rlimits, uid and the
            socket guard only, which is what machines without `unshare` get).

    Returns:
        What happened, cut to the output limit, with the protections that were active.

    Raises:
        ValueError: a name in `files` points outside the sandbox directory.
    """
    isolation = await asyncio.to_thread(detect_isolation) if namespaces else NO_ISOLATION
    tmp, workdir = _prepare_workdir(code, files)  # small writes; in a thread it could leak
    uid = _next_uid()
    try:
        proc, status_fd = await _spawn(tmp, workdir, limits, isolation, uid)
    except BaseException:
        await asyncio.to_thread(_cleanup, tmp, None)
        raise
    try:
        seen = await _supervise(proc, limits, stdin)
    finally:
        _kill_group(proc.pid)
        verdict = _read_verdict(status_fd)
        await asyncio.to_thread(_cleanup, tmp, uid if os.geteuid() == 0 else None)
    return _result(seen, verdict, limits, isolation)
