"""The sandbox contains hostile code, says what contained it, and keeps working afterwards."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from scaffold.config import SandboxLimits
from scaffold.tasks import sandbox
from scaffold.tasks.sandbox import Isolation, SandboxResult, detect_isolation, run_python

LIMITS = SandboxLimits(wall_s=5, cpu_s=2, memory_mb=128, file_mb=1, processes=16,
                       output_chars=1000)


def run(code: str, limits: SandboxLimits = LIMITS, **kwargs: Any) -> SandboxResult:
    return asyncio.run(run_python(code, limits, **kwargs))


def assert_still_works(**kwargs: Any) -> None:
    """A normal run right after a hostile one behaves normally."""
    result = run("print('still fine')", **kwargs)
    assert result.ok and result.stdout == "still fine\n" and result.stderr == ""


def sandboxed_processes() -> list[int]:
    """Host pids of sandboxed interpreters still alive (`python -s -S [-c GUARD] main.py`)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            args = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-S" in args and args[-2:] == [b"main.py", b""]:
            found.append(int(entry))
    return found


def test_normal_execution_reports_stdout_stderr_exit_code_and_reads_stdin() -> None:
    code = ("import sys, helper\nname = input()\nprint(helper.greet(name))\n"
            "print('warned', file=sys.stderr)\nsys.exit(3)\n")
    files = {"helper.py": "def greet(name):\n    return f'hello {name}'\n"}
    result = run(code, stdin="Ada\n", files=files)
    assert result.stdout == "hello Ada\n"
    assert result.stderr == "warned\n"
    assert result.exit_code == 3 and result.killed_reason is None and not result.timed_out
    assert not result.stdout_truncated and not result.stderr_truncated
    assert {"rlimit-cpu", "rlimit-as", "rlimit-fsize", "no-new-privs"} <= set(result.protections)
    assert_still_works()


def test_fork_bomb_is_bounded_and_leaves_no_process_behind() -> None:
    isolation = detect_isolation()
    if not isolation.namespaces and os.geteuid() != 0:
        pytest.skip("neither a pid namespace nor a private uid can bound processes here")
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = run(bomb, LIMITS.model_copy(update={"wall_s": 2, "cpu_s": 1}))
    assert result.killed_reason in {"wall time", "cpu time", "processes"}
    assert {"pidns", "rlimit-nproc"} & set(result.protections)
    assert sandboxed_processes() == []
    assert_still_works()


def test_infinite_loop_is_stopped_by_the_cpu_limit() -> None:
    result = run("while True:\n    pass\n", LIMITS.model_copy(update={"cpu_s": 1}))
    assert result.killed_reason == "cpu time" and not result.timed_out
    assert result.exit_code is not None and result.exit_code < 0  # killed by a signal
    assert_still_works()


def test_sleeping_forever_is_stopped_by_the_wall_limit() -> None:
    code = "import time\nprint('start', flush=True)\nwhile True:\n    time.sleep(1)\n"
    result = run(code, LIMITS.model_copy(update={"wall_s": 1}))
    assert result.timed_out and result.killed_reason == "wall time"
    assert result.stdout == "start\n"  # output up to the kill is kept
    assert "group-kill" in result.protections
    assert sandboxed_processes() == []
    assert_still_works()


def test_huge_allocation_hits_the_memory_limit() -> None:
    result = run("block = bytearray(2 * 1024 ** 3)\nprint('allocated')\n")
    assert result.killed_reason == "memory" and result.exit_code != 0
    assert "allocated" not in result.stdout and "MemoryError" in result.stderr
    assert "rlimit-as" in result.protections
    assert_still_works()


def test_writing_outside_the_sandbox_fails(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    code = (f"try:\n    open({str(target)!r}, 'w').write('pwned')\n    print('wrote')\n"
            "except OSError as exc:\n    print('blocked', type(exc).__name__)\n"
            "open('inside.txt', 'w').write('fine')\nprint(open('inside.txt').read())\n")
    result = run(code)
    assert result.stdout.startswith("blocked ") and result.stdout.endswith("fine\n")
    assert not target.exists()
    assert {"chroot", "uid-drop"} & set(result.protections)
    assert_still_works()


def test_the_parents_environment_is_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-" + "0123456789abcdef" * 2
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    code = ("import os\nhits = sorted(k for k, v in os.environ.items() if 'sk-test-' in v)\n"
            "for pid in os.listdir('/proc'):\n    try:\n"
            "        data = open(f'/proc/{pid}/environ', 'rb').read()\n"
            "    except OSError:\n        continue\n"
            "    if b'sk-test-' in data:\n        hits.append(pid)\n"
            "print(hits, sorted(os.environ))\n")
    result = run(code)
    assert result.ok, result.stderr
    assert result.stdout.startswith("[] ")
    assert "OPENAI_API_KEY" not in result.stdout and secret not in result.stdout
    assert_still_works()


def test_sockets_cannot_reach_a_listening_loopback_server() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        port = server.getsockname()[1]
        code = ("import socket\ntry:\n"
                f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                "    print('connected')\nexcept OSError as exc:\n"
                "    print('refused', type(exc).__name__)\n")
        result = run(code)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody came
    assert result.stdout.startswith("refused ")
    assert result.network_isolated or "socket-guard" in result.protections
    assert_still_works()


def test_huge_output_is_cut_and_a_flood_is_killed() -> None:
    result = run("print('a' * 10 ** 6)\nprint('the end')\n")
    assert result.ok and result.stdout_truncated
    assert len(result.stdout) < LIMITS.output_chars + 100  # the cut marker is short
    assert result.stdout.startswith("aaa") and result.stdout.endswith("the end\n")
    assert "characters cut" in result.stdout
    flood = run("while True:\n    print('x' * 10 ** 6)\n")
    assert flood.killed_reason == "output" and flood.stdout_truncated
    assert len(flood.stdout) < LIMITS.output_chars + 100
    assert_still_works()


def test_a_file_larger_than_the_limit_cannot_be_written() -> None:
    code = "with open('big.bin', 'wb') as fh:\n    fh.write(b'x' * (3 * 1024 * 1024))\n"
    result = run(code)
    assert result.killed_reason == "file size" and result.exit_code != 0
    assert "File too large" in result.stderr
    assert_still_works()


def test_without_namespaces_the_fallbacks_still_contain(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fallback")
    target = tmp_path / "escaped.txt"
    code = ("import os, socket\n"
            f"try:\n    open({str(target)!r}, 'w')\nexcept OSError:\n    print('no write')\n"
            "try:\n    socket.socket()\nexcept OSError:\n    print('no socket')\n"
            "print('OPENAI_API_KEY' in os.environ)\n")
    result = run(code, namespaces=False)
    assert not result.network_isolated and "socket-guard" in result.protections
    assert "no socket" in result.stdout and result.stdout.endswith("False\n")
    assert not target.exists()
    if os.geteuid() == 0:  # only root can hand the code a private uid
        assert "uid-drop" in result.protections and "no write" in result.stdout
    assert_still_works(namespaces=False)


def user_namespace_isolation() -> Isolation:
    """The isolation a machine where only user namespaces are allowed gets (the code keeps the
    launcher's uid there, with every capability dropped)."""
    found = detect_isolation()
    if found.userns:
        return found
    unshare = shutil.which("unshare")
    if unshare is None or not found.namespaces:
        pytest.skip("no namespaces here")
    return Isolation((unshare, "--user", "--map-root-user", *found.prefix[1:]),
                     ("userns", *found.namespaces), userns=True)


@pytest.mark.parametrize("mode", ["namespaces", "userns", "none"])
def test_the_code_cannot_reach_the_launchers_descriptors(
        mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher's stdout and status pipe carry the run's verdict: the code's process (its
    child, maybe of the same uid) can neither open them through /proc nor ptrace it."""
    if mode == "userns":
        isolation = user_namespace_isolation()
        monkeypatch.setattr(sandbox, "detect_isolation", lambda: isolation)
    namespaces = mode != "none"
    code = ("import os\nlauncher = os.getppid()\nfor fd in range(16):\n    try:\n"
            "        with open(f'/proc/{launcher}/fd/{fd}', 'wb') as fh:\n"
            "            fh.write(b'{\"exit\": 0, \"signal\": null}\\n')\n"
            "        print('opened', fd)\n    except OSError:\n        pass\n"
            "raise SystemExit(3)\n")
    result = run(code, namespaces=namespaces)
    assert "opened" not in result.stdout and result.exit_code == 3
    assert "launcher-nondumpable" in result.protections
