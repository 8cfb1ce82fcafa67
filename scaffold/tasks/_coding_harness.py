"""Test harness run inside the sandbox: loads solution.py, runs tests.json, reports line by line.

It is the sandbox's `main.py` when the `coding` task grades a solution; the runner only reads the
result lines it prints, and never evaluates a test itself. The solution's own printing is kept
aside (bounded) so it cannot crowd out the results.

Standard library only: it runs in a bare interpreter.
"""

from __future__ import annotations

import io
import json
import sys
import traceback
from typing import Any

MARK = "@@scaffold-test@@ "
"""Prefix of every result line."""
SHOWN = 300
"""Longest repr shown for a value."""
KEPT_OUTPUT = 1500
"""Characters of the solution's own output kept."""


class BoundedText(io.TextIOBase):
    """A text sink that keeps the first `KEPT_OUTPUT` characters and counts the rest."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = KEPT_OUTPUT - self.size
        if room > 0:
            self.kept.append(text[:room])
        self.size += len(text)
        return len(text)

    def value(self) -> str:
        text = "".join(self.kept)
        return text + (f"\n[... {self.size - len(text)} characters cut ...]"
                       if self.size > len(text) else "")


def show(value: Any) -> str:
    """A short repr."""
    text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


def main() -> None:
    """Run every test; print one MARK line per test, then one with the solution's output."""
    real = sys.stdout

    def emit(record: dict[str, Any]) -> None:
        real.write(MARK + json.dumps(record) + "\n")
        real.flush()

    with open("tests.json", encoding="utf-8") as fh:
        spec = json.load(fh)
    with open("solution.py", encoding="utf-8") as fh:
        source = fh.read()
    sink = BoundedText()
    sys.stdout, sys.stderr, sys.stdin = sink, sink, io.StringIO("")
    namespace: dict[str, Any] = {"__name__": "solution"}
    try:
        exec(compile(source, "solution.py", "exec"), namespace)  # noqa: S102 - runs in the sandbox
        if spec["entry"] not in namespace:
            raise NameError(f"no function named {spec['entry']!r} is defined")
    except BaseException:  # noqa: BLE001 - the agent's code may raise anything
        emit({"load_error": traceback.format_exc(limit=-2)[-SHOWN * 3:]})
    else:
        for i, test in enumerate(spec["tests"]):
            try:
                got = eval(test["call"], namespace)  # runs in the sandbox
                want = eval(test["expect"], namespace)  # runs in the sandbox
                emit({"i": i, "ok": bool(got == want), "got": show(got), "want": show(want)})
            except BaseException as exc:  # noqa: BLE001
                emit({"i": i, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:SHOWN]})
    sys.stdout = real
    emit({"output": sink.value()})


if __name__ == "__main__":
    main()
