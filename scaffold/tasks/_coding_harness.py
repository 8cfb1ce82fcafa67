"""Grading harness, the sandbox's `main.py`: a supervisor that the code under test cannot reach.

Why two processes. Code under test that shares a process with whatever reports its grade can
forge that report: print the result lines itself, exit before the real ones, replace `print`,
`json` or the harness's globals, or return an object equal to everything. So:

- The supervisor (this process) reads `calls.json` (the test calls; never the expected values,
  which the runner keeps) and the solution's source, makes itself non-dumpable (so a process of
  the same uid can neither ptrace it nor open its `/proc/<pid>/fd` or `mem`), and forks.
- The child makes itself dumpable again (so the sandbox can find its leftovers by uid), points
  its fds 0/1/2 at /dev/null and an output pipe, closes every other descriptor but its results
  pipe, loads the solution and evaluates each call, sending `{"i": i, "value": ...}` (the
  return value encoded by `_coding_values`: built-in values only) or `{"i": i, "error": ...}`.
- The supervisor alone writes the sandbox's stdout. It forwards a child record only in strict
  protocol order (one load line, then test 0, 1, 2, ... each once); anything else voids every
  result. When the child ends it adds a `done` record: how the child ended, how many results
  came, and the child's output (bounded).

The runner decodes the values and compares them with the expected values itself (`_grading`),
so a grade needs, for every test, a supervisor record with a value equal to the expected one:
lines printed by the solution are just its output, exiting early leaves tests without results,
and writing to the results pipe can only claim return values, which the runner still compares
with values the sandbox never saw.

Standard library only: it runs in a bare interpreter (with `_coding_values.py` beside it).
"""

from __future__ import annotations

import json
import os
import select
import sys
import traceback
from typing import Any

try:  # in the sandbox it lies beside main.py; the runner imports this module from the package
    import _coding_values as values  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    from scaffold.tasks import _coding_values as values

SPEC_FILE = "calls.json"
"""What to evaluate: {"entry": name or null, "solution": file or null, "exprs": [...]}."""
LINE_CHARS = 100_000
"""Longest record the child may send (a bigger return value is reported as too large)."""
KEPT_OUTPUT = 1500
"""Characters of the solution's own output kept from the start."""
LAST_WORDS = 2000
"""Characters of the solution's output kept from the end (how it died)."""
ERROR_CHARS = 300
"""Longest error message of one test."""
POLL_S = 0.02
"""How often the supervisor checks on the child where it cannot wait on a pidfd."""
PR_SET_DUMPABLE = 4


def _set_dumpable(flag: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_DUMPABLE, flag, 0, 0, 0)) == 0
    except (ImportError, OSError, AttributeError):
        return False


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


# --- the child: runs the code under test ------------------------------------------------


def _isolate_fds(results_w: int, out_w: int) -> None:
    """fd 0 reads /dev/null, 1 and 2 write the output pipe; only `results_w` stays besides."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_w, 1)
    os.dup2(out_w, 2)
    os.closerange(3, results_w)
    os.closerange(results_w + 1, 1 << 20)


def _evaluate(spec: dict[str, Any], source: str | None, send: Any) -> None:
    namespace: dict[str, Any] = {"__name__": "solution" if source is not None else "expect"}
    try:
        if source is not None:
            exec(compile(source, "solution.py", "exec"), namespace)  # noqa: S102 - sandboxed
            if spec["entry"] not in namespace:
                raise NameError(f"no function named {spec['entry']!r} is defined")
    except BaseException:  # noqa: BLE001 - the code may raise anything
        send({"load_error": traceback.format_exc(limit=-2)[-ERROR_CHARS * 3:]})
        return
    send({"loaded": True})
    for i, expr in enumerate(spec["exprs"]):
        try:
            got = eval(expr, namespace)  # noqa: S307 - sandboxed
            line = json.dumps({"i": i, "value": values.encode(got)})
            if len(line) > LINE_CHARS:
                raise values.Unencodable(f"the value is too large to compare ({len(line)} "
                                         f"characters encoded, at most {LINE_CHARS})")
        except BaseException as exc:  # noqa: BLE001
            line = json.dumps({"i": i, "error": _describe(exc)})
        send(line)


def _describe(exc: BaseException) -> str:
    """`Type: message`, bounded (the message is the code's, and may itself fail)."""
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:  # noqa: BLE001
        text = f"{type(exc).__name__} (its message could not be shown)"
    return text[:ERROR_CHARS]


def _child(spec: dict[str, Any], source: str | None, results_w: int, out_w: int) -> None:
    code = 0
    try:
        _set_dumpable(1)
        _isolate_fds(results_w, out_w)

        def send(record: dict[str, Any] | str) -> None:
            text = record if isinstance(record, str) else json.dumps(record)
            _write_all(results_w, text.encode("utf-8", "backslashreplace") + b"\n")

        _evaluate(spec, source, send)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except BaseException:  # noqa: BLE001 - whatever happens, never return into the supervisor
        code = 70
    os._exit(code)


# --- the supervisor: the only writer of the sandbox's stdout ------------------------------


class Supervisor:
    """Checks the child's records and forwards the good ones; keeps the child's output."""

    def __init__(self, count: int):
        self.count = count
        self.loaded: bool | None = None
        self.next = 0
        self.violation: str | None = None
        self.pending = b""
        self.head = b""
        self.tail = b""
        self.output_bytes = 0

    def emit(self, record: dict[str, Any]) -> None:
        _write_all(1, json.dumps(record).encode("ascii") + b"\n")

    def results(self, data: bytes) -> None:
        """Take bytes from the results pipe."""
        if self.violation is not None:
            return
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            self._line(line)
        if len(self.pending) > LINE_CHARS + 64:
            self._void(f"a result line longer than {LINE_CHARS} characters")

    def output(self, data: bytes) -> None:
        """Take bytes from the child's stdout/stderr."""
        self.output_bytes += len(data)
        if len(self.head) < KEPT_OUTPUT * 4:
            self.head += data[:KEPT_OUTPUT * 4 - len(self.head)]
        self.tail = (self.tail + data)[-LAST_WORDS * 4:]

    def _void(self, why: str) -> None:
        if self.violation is None:
            self.violation = why

    def _line(self, line: bytes) -> None:
        if self.violation is not None:
            return
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            self._void("an unreadable result line")
            return
        if not isinstance(record, dict):
            self._void("a result line that is not a record")
        elif self.loaded is None:
            self._load_line(record)
        elif self.loaded and self.next < self.count and self._is_result(record):
            self.emit(record)
            self.next += 1
        else:
            self._void(f"an unexpected record after {self.next} result(s)")

    def _load_line(self, record: dict[str, Any]) -> None:
        if record == {"loaded": True}:
            self.loaded = True
        elif set(record) == {"load_error"} and isinstance(record["load_error"], str):
            self.loaded = False
            self.emit(record)
        else:
            self._void("an unexpected first record")

    def _is_result(self, record: dict[str, Any]) -> bool:
        if set(record) not in ({"i", "value"}, {"i", "error"}):
            return False
        index = record["i"]
        if type(index) is not int or index != self.next:
            return False
        return "value" in record or isinstance(record["error"], str)

    def output_text(self) -> tuple[str, str]:
        """The start of the child's output (cut marked) and its end."""
        head = self.head.decode("utf-8", "replace")[:KEPT_OUTPUT]
        if self.output_bytes > len(head.encode("utf-8")):
            head += f"\n[... {self.output_bytes - len(head.encode('utf-8'))} bytes cut ...]"
        return head, self.tail.decode("utf-8", "replace")[-LAST_WORDS:]


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _drain(fds: dict[int, Any]) -> None:
    """Read what is already in the pipes, without waiting for more."""
    for fd, take in fds.items():
        os.set_blocking(fd, False)
        try:
            while chunk := os.read(fd, 1 << 16):
                take(chunk)
        except (BlockingIOError, OSError):
            pass


def supervise(child: int, results_r: int, out_r: int, sup: Supervisor) -> dict[str, Any]:
    """Relay the child's records until it exits; returns how it ended."""
    readers = {results_r: sup.results, out_r: sup.output}
    open_fds = set(readers)
    pidfd = _pidfd(child)
    waited: tuple[int, int, Any] | None = None
    while waited is None:
        watch = list(open_fds) + ([pidfd] if pidfd is not None else [])
        ready, _, _ = select.select(watch, [], [], None if pidfd is not None else POLL_S)
        for fd in ready:
            if fd == pidfd:
                continue
            chunk = os.read(fd, 1 << 16)
            if chunk:
                readers[fd](chunk)
            else:
                open_fds.discard(fd)
        pid, status, usage = os.wait4(child, os.WNOHANG)
        if pid == child:
            waited = (pid, status, usage)
    _drain({fd: readers[fd] for fd in open_fds})
    _, status, usage = waited
    return {"exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 3)}


def main() -> None:
    """Read the calls, fork the child that runs them, relay its results, then say how it ended."""
    here = os.path.dirname(os.path.abspath(sys.argv[0]))
    sys.path[:] = [p for p in sys.path if p not in ("", ".", here)]  # nothing more from /sandbox
    with open(SPEC_FILE, encoding="utf-8") as fh:
        spec = json.load(fh)
    source = None
    if spec.get("solution"):
        with open(spec["solution"], encoding="utf-8") as fh:
            source = fh.read()
    protected = _set_dumpable(0)
    results_r, results_w = os.pipe()
    out_r, out_w = os.pipe()
    sys.stdout.flush()
    child = os.fork()
    if child == 0:
        _child(spec, source, results_w, out_w)
    os.close(results_w)
    os.close(out_w)
    sup = Supervisor(len(spec["exprs"]))
    ended = supervise(child, results_r, out_r, sup)
    output, last_words = sup.output_text()
    sup.emit({"done": {**ended, "results": sup.next, "loaded": sup.loaded,
                       "violation": sup.violation, "protected": protected,
                       "output": output, "last_words": last_words}})


if __name__ == "__main__":
    main()
