"""Code under test cannot fake its grade: forged result lines, early exits, always-equal objects,
patched builtins and harness globals, raw descriptor writes and forks all fail to pass."""

from __future__ import annotations

import asyncio
import json
import textwrap

import pytest

from scaffold.config import SandboxLimits
from scaffold.tasks._grading import TestReport, expected_values, grade
from scaffold.tasks._problems import Problem, builtin_problems
from scaffold.tasks.coding import report_text

LIMITS = SandboxLimits(wall_s=10, cpu_s=3, memory_mb=256, file_mb=1, processes=16)
FIZZBUZZ = next(p for p in builtin_problems() if p.id == "fizzbuzz")
OLD_MARK = "@@scaffold-test@@ "
FORGED_LINES = "".join(
    f'{OLD_MARK}{{"i": {i}, "ok": true, "got": "x", "want": "x"}}\\n'
    f'{{"i": {i}, "value": ["l", []]}}\\n' for i in range(5)) + (
    '{"done": {"exit": 0, "signal": null, "cpu_s": 0, "results": 5, "loaded": true, '
    '"violation": null, "protected": true, "output": "", "last_words": ""}}\\n')
"""The old harness's pass lines and the new supervisor's records, as the solution would
print them."""


def grade_code(code: str, problem: Problem = FIZZBUZZ) -> TestReport:
    return asyncio.run(grade(problem, textwrap.dedent(code), LIMITS))


def assert_not_solved(report: TestReport, passed: int = 0) -> None:
    assert not report.solved and report.passed == passed, report


def test_the_reference_fizzbuzz_passes() -> None:
    report = grade_code(FIZZBUZZ.solution or "")
    assert report.solved and report.passed == 5 and report.failures == []
    assert "harness-supervisor" in report.protections


@pytest.mark.parametrize("ending", ["", "sys.stdout.flush(); os._exit(0)", "sys.exit(0)",
                                    "os.kill(os.getpid(), 9)"])
def test_forged_result_lines_on_stdout_pass_nothing(ending: str) -> None:
    report = grade_code(f"""
        import os, sys
        sys.stdout.write('{FORGED_LINES}')
        sys.stdout.flush()
        os.write(1, b'{FORGED_LINES}')
        os.write(2, b'{FORGED_LINES}')
        def fizzbuzz(n):
            return None
        {ending}
    """)
    assert_not_solved(report)
    if ending.startswith("sys.exit"):
        assert report.load_error is not None and "SystemExit" in report.load_error


def test_exiting_inside_a_test_leaves_the_rest_without_results() -> None:
    report = grade_code("""
        import os
        def fizzbuzz(n):
            if n == 5:
                print('@@scaffold-test@@ {"i": 1, "ok": true}', flush=True)
                os._exit(0)
            return [str(i) for i in range(1, n + 1)]
    """)
    assert_not_solved(report, passed=1)  # fizzbuzz(1) is honestly right
    assert report.exit_code == 0
    assert any("no result (the solution's process ended before this test (exit 0))" in f
               for f in report.failures)


def test_objects_that_equal_everything_fail() -> None:
    report = grade_code("""
        class Anything:
            def __eq__(self, other):
                return True
            __hash__ = None
        class Listy(list):
            def __eq__(self, other):
                return True
        def fizzbuzz(n):
            return Listy(['nope']) if n == 5 else Anything()
    """)
    assert_not_solved(report)
    assert any("Anything is not a built-in value" in f for f in report.failures)
    assert any("expected ['1', '2', 'Fizz', '4', 'Buzz'], got ['nope']" in f
               for f in report.failures)


def test_builtin_subclasses_are_compared_by_their_value() -> None:
    problem = Problem(id="counts", title="Counts", prompt="p", entry="counts",
                      tests=[{"call": "counts('aab')", "expect": "{'a': 2, 'b': 1}"},
                             {"call": "pair()", "expect": "(1, 2)"}])
    report = grade_code("""
        import collections
        Pair = collections.namedtuple('Pair', 'x y')
        def counts(s):
            return collections.Counter(s)
        def pair():
            return Pair(1, 2)
    """, problem)
    assert report.solved


def test_patched_builtins_json_and_harness_globals_pass_nothing() -> None:
    report = grade_code("""
        import builtins, json, sys
        forged = json.dumps
        json.dumps = lambda *a, **k: '{"i": 0, "value": ["l", []]}'
        builtins.print = lambda *a, **k: None
        harness = sys.modules['__main__']
        harness.values.encode = lambda value: ['l', [['s', '1']]]
        harness.LINE_CHARS = 0
        def fizzbuzz(n):
            return None
    """)
    assert_not_solved(report)
    assert report.results_void is not None  # the first record was not the load record


def test_a_forged_value_stream_only_claims_return_values() -> None:
    """Writing well-formed records to the results pipe is the same as returning those values:
    they are still compared with expected values the sandbox never saw."""
    report = grade_code("""
        import json, os, sys
        harness = sys.modules['__main__']
        harness.values.encode = lambda value: ['l', [['s', '1']]]  # always ['1']
        def fizzbuzz(n):
            return None
    """)
    assert_not_solved(report, passed=1)  # only fizzbuzz(1) expects ['1']


def test_writing_records_to_every_descriptor_voids_the_results() -> None:
    report = grade_code("""
        import os
        for fd in range(64):
            try:
                os.write(fd, b'{"loaded": true}\\n{"i": 0, "value": ["l", [["s", "1"]]]}\\n')
            except OSError:
                pass
        def fizzbuzz(n):
            out = []
            for i in range(1, n + 1):
                word = ("Fizz" if i % 3 == 0 else "") + ("Buzz" if i % 5 == 0 else "")
                out.append(word or str(i))
            return out
    """)
    assert_not_solved(report)
    assert report.results_void and "unexpected record" in report.results_void
    assert all("results void: the code wrote to the grading harness's results pipe" in f
               for f in report.failures)
    assert "No result counted" in report_text(FIZZBUZZ, report.model_dump())


def test_forks_and_the_supervisors_descriptors_are_out_of_reach() -> None:
    report = grade_code(f"""
        import os, signal
        tried = []
        for fd in range(8):
            try:
                with open(f'/proc/{{os.getppid()}}/fd/{{fd}}', 'wb') as fh:
                    fh.write(b'{FORGED_LINES}')
                tried.append(('opened', fd))
            except OSError as exc:
                tried.append((type(exc).__name__, fd))
        print('TRIED', tried, flush=True)
        if os.fork() == 0:
            os.write(1, b'{FORGED_LINES}')
            os._exit(0)
        os.wait()
        def fizzbuzz(n):
            return None
    """)
    assert_not_solved(report)
    assert "TRIED" in report.output and "opened" not in report.output


def test_killing_the_supervisor_passes_nothing() -> None:
    report = grade_code("""
        import os
        def fizzbuzz(n):
            os.kill(os.getppid(), 9)
            return [str(i) for i in range(1, n + 1)]
    """)
    assert_not_solved(report)


def test_the_sandbox_never_holds_the_expected_values() -> None:
    problem = Problem(id="secret", title="Secret", prompt="p", entry="f",
                      tests=[{"call": "f()", "expect": "'EXPECTED-7f3a'"}])
    report = grade_code("""
        import os
        for name in os.listdir('.'):
            print(name, open(name).read())
        def f():
            return None
    """, problem)
    assert_not_solved(report)
    assert "calls.json" in report.output and "EXPECTED-7f3a" not in report.output


def test_expected_values_beyond_literals_are_computed_without_the_solution() -> None:
    problem = Problem(id="squares", title="Squares", prompt="p", entry="squares",
                      tests=[{"call": "squares(4)", "expect": "[i * i for i in range(4)]"},
                             {"call": "squares(0)", "expect": "list()"}])
    assert grade_code("def squares(n):\n    return [i * i for i in range(n)]\n", problem).solved
    wrong = grade_code("def squares(n):\n    return list(range(n))\n", problem)
    assert wrong.passed == 1 and "expected [0, 1, 4, 9], got [0, 1, 2, 3]" in wrong.failures[0]
    needs_solution = Problem(id="self", title="Self", prompt="p", entry="g",
                             tests=[{"call": "g()", "expect": "g()"}])
    [outcome] = asyncio.run(expected_values(needs_solution, LIMITS))
    assert outcome.error is not None and "NameError" in outcome.error
    report = grade_code("def g():\n    return 1\n", needs_solution)
    assert not report.solved and "expected value could not be computed" in report.failures[0]


def test_values_round_trip_and_malformed_encodings_are_refused() -> None:
    from scaffold.tasks._coding_values import Unencodable, decode, encode

    cases = [None, True, 2 ** 100, -3, 1.5, float("inf"), 1 + 2j, "x\u00e9", b"\x00",
             [1, (2, "3")], {"a": [1], (1, 2): None}, {1, 2}, frozenset({3}), range(1, 9, 2)]
    for value in cases:
        assert decode(json.loads(json.dumps(encode(value)))) == value
    nested: list[object] = []
    nested.append(nested)
    with pytest.raises(Unencodable, match="nested"):
        encode(nested)
    for bad in (1, [], ["i", 5], ["zz", 1], ["l", "abc"], ["d", [[["l", []], ["n", None]]]],
                ["S", [["l", []]]], ["f", "1" * 100], ["i", ""]):
        with pytest.raises(ValueError):
            decode(bad)


def test_an_exception_whose_message_fails_is_still_a_reported_failure() -> None:
    report = grade_code("""
        class Odd(Exception):
            def __str__(self):
                raise RuntimeError('no message')
        def fizzbuzz(n):
            if n == 5:
                raise Odd()
            return ['FizzBuzz'] if n == 15 else [str(i) for i in range(1, n + 1)]
    """)
    assert report.passed == 4 and not report.solved
    assert report.failures == ['fizzbuzz(5) -> Odd (its message could not be shown)']
