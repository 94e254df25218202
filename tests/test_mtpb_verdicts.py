"""MTPB verdicts against tables written from the reference's scorer, through a real kernel.

Each printed value is made by a real program in a real sandboxed kernel, cast there to the
gold's type (`wire`), sent back as JSON and judged here (`verdicts`). The expected verdicts are
those of the reference's `check_equivalence` on the live object (pandas < 3 spelling of the
Series test, as the reference was run), so these tables are the reference's rules written out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from codegen_ui.mtpb import Executor
from codegen_ui.mtpb.program import PREFIX
from codegen_ui.mtpb.verdicts import Opaque, WireError, decode, is_equivalent
from codegen_ui.mtpb.wire import cast, encode

# (expression the program prints, gold output, the reference's verdict[, ours when it differs])
EQUIVALENCE: list[tuple[Any, ...]] = [
    ("map(int, ['1', '2'])", [1, 2], True),
    ("range(3)", [0, 1, 2], True),
    ("{'a': 1, 'b': 2}.keys()", ["a", "b"], True),
    ("{'a': 1, 'b': 2}.values()", [1, 2], True),
    ("{'a': 1}.items()", [["a", 1]], False),
    ("__import__('collections').deque([1, 2])", [1, 2], True),
    ("(x * 2 for x in [1, 2])", [2, 4], True),
    ("zip([1, 2], [3, 4])", [[1, 3], [2, 4]], False),
    ("filter(None, [0, 1, 2])", [1, 2], True),
    ("reversed([1, 2])", [2, 1], True),
    ("iter('ab')", ["a", "b"], True),
    ("__import__('decimal').Decimal('3.14')", 3.14, True),
    ("__import__('decimal').Decimal('3.14')", "3.14", True),
    ("__import__('decimal').Decimal('2')", 2, True),
    ("__import__('fractions').Fraction(1, 2)", 0.5, True),
    ("__import__('collections').Counter('aab')", "Counter({'a': 2, 'b': 1})", True),
    ("__import__('collections').Counter('aab')", ["a", "b"], True),
    ("__import__('collections').Counter('aab')", 2, False),
    ("__import__('collections').OrderedDict(a=1)", "OrderedDict({'a': 1})", False),
    ("np.int64(5)", 5, True),
    ("np.int8(5)", 5, True),
    ("np.uint64(5)", 5, True),
    ("np.float32(0.1)", 0.1, True),
    ("np.float64(1.5)", "1.5", True),
    ("np.bool_(True)", True, True),
    ("np.bool_(False)", "False", True),
    ("np.array([1, 2])", [1, 2], True),
    ("np.array([[1, 2], [3, 4]])", [[1, 2], [3, 4]], True),
    ("np.array([1, 2])", "[1 2]", False),
    ("np.array([1, 2])", "[1, 2]", True),
    ("np.array([0.1], dtype=np.float32)", [0.1], False),
    ("np.array(['a', 'b'])", ["a", "b"], True),
    ("np.str_('a')", "a", True),
    ("[np.int64(1), np.int64(2)]", [1, 2], True),
    ("np.int64(7)", 7.0, True),
    ("np.float64(5.0)", 5, True),
    ("__import__('pandas').DataFrame({'a': [1], 'b': [2]})", ["a", "b"], True),
    ("__import__('pandas').Series([1, 2])", [1, 2], True),
    ("__import__('pandas').Series([3, 3])", 3, True),
    ("__import__('pandas').Series([1.0, 2.0])", [1.0000001, 2], True),
    ("__import__('pandas').Series(['a', 'b'])", ["a", "b"], False),
    ("__import__('pandas').Index(['a', 'b'])", ["a", "b"], True),
    ("__import__('pandas').Series([1, 2]).sum()", 3, True),
    ("[(1, 2), (3, 4)]", [[1, 2], [3, 4]], True),
    ("[(1, 2), [3, 4]]", [[1, 2], [3, 4]], True),
    ("[[1, 2], (3, 4)]", [[1, 2], [3, 4]], False),
    ("(1, 2)", [1, 2], True),
    ("[[(1, 2)]]", [[[1, 2]]], False),
    ("sorted({'b': 1, 'a': 2}.items())", [["a", 2], ["b", 1]], True),
    ("'5'", 5, True),
    ("5.7", 5, True),
    ("'5.0'", 5, False),
    ("3", 3.0, True),
    ("'3.14'", 3.14, True),
    ("'abc'", 3.14, False),
    ("1", True, False),
    ("'True'", True, True),
    ("True", True, True),
    ("True", 1, True),
    ("0.1 + 0.2", 0.3, True),
    ("[1.0000001]", [1.0], False),
    ("{1, 2}", [1, 2], True),
    ("'abc'", ["a", "b", "c"], True),
    ("[1, 2]", "[1, 2]", True),
    ("[5]", 5, False),
    ("5", [5], False),
    ("{}", [], True),
    ("b'ab'", "ab", False),
    ("complex(1, 2)", "(1+2j)", True),
    ("{'a'}", "{'a'}", True),
    ("12345678901234567890", 12345678901234567890, True),
    ("float('nan')", 1.0, False),
    ("float('inf')", "inf", True),
    ("None", "None", True),
    ("type('P', (), {'__str__': lambda s: 'pt'})()", "pt", True),
    ("object()", "x", False),
    ("None", None, False, True),
    ("{'1': ['a', 'b', 'c']}", {"1": ["a", "b", "c"]}, False, True),
    ("[('1', ['a'])]", {"1": ["a"]}, False, True),
    ("5", None, False),
    ("'None'", None, False, True),  # problem 41 asks to print 'None'
    ("[]", {}, False, True),
]

# Whole programs (after the prefix): (program, gold, outcome, the reference passes it).
PROGRAMS: list[tuple[str, Any, str, bool]] = [
    # An empty last turn: the whole program's last statement is printed (`v3 = print(3)`).
    ("# Set v3.\nv3 = 3\n\n# Print v3.\n\n\n", 3, "pass", True),
    ("print(5)\nwhile True:\n    pass\n", 5, "pass", True),  # print, then hang
    ("print(5)\n1 / 0\n", 5, "pass", True),  # print, then raise
    ("print(5)\nprint(6)\n1 / 0\n", 5, "wrong", False),  # the last print counts
    ("while True:\n    pass\n", 1, "timeout", False),
    ("1 / 0\n", 1, "error", False),
    ("x = )\n", 1, "syntax-error", False),
    ("for i in range(3):\n    pass\n", 1, "no-print", False),  # no value to print
    ("print()\n", 1, "no-print", False),
    ("x = 1\nx += 1\n", 1, "pass", True),  # `x += print(1)` prints 1, then fails
    ("a, b = 1, 2\n", [1, 2], "pass", True),  # prints (1, 2), then fails to unpack
    # The printed list is read after the program ends, as the reference reads it.
    ("x = [1]\nprint(x)\nfor _ in range(1):\n    x.append(2)\n", [1, 2], "pass", True),
    ("def f():\n    print(4)\nf()\n", 4, "wrong", False),  # print(f()) prints 4, then None
    ("def f():\n    print(4)\nf()\n", "None", "pass", True),
    ("import sys\nprint(4)\nsys.exit(1)\n", 4, "pass", True),  # the reference would crash
    ("print(' '.join(['a', 'b']))\n", "a b", "pass", True),
    ("import itertools\nprint(itertools.count())\n", 1, "wrong", False),  # int(count) fails
]


@pytest.fixture(scope="module")
def executor() -> Iterator[Executor]:
    from codegen_ui.kernel import Kernel

    with Kernel() as kernel:
        yield Executor(kernel, limit=2.0)


@pytest.mark.parametrize("row", EQUIVALENCE, ids=lambda r: f"{r[0]} vs {r[1]!r}")
def test_equivalence_in_a_real_kernel(executor: Executor, row: tuple[Any, ...]) -> None:
    expr, gold, reference = row[:3]
    ours = row[3] if len(row) > 3 else reference
    verdict = executor.score(f"{PREFIX}print({expr})\n", gold)
    assert verdict.reference is reference, verdict
    assert verdict.passed is ours, verdict


@pytest.mark.parametrize("row", PROGRAMS, ids=lambda r: r[0][:30])
def test_programs_in_a_real_kernel(executor: Executor, row: tuple[str, Any, str, bool]) -> None:
    program, gold, outcome, reference = row
    verdict = executor.score(PREFIX + program, gold)
    assert (verdict.outcome, verdict.reference) == (outcome, reference), verdict


def test_after_a_kernel_death_the_next_program_runs(executor: Executor) -> None:
    died = executor.score(f"{PREFIX}print(1)\nimport os\nos._exit(1)\n", 1)
    assert died.outcome == "died"
    assert executor.score(f"{PREFIX}print(7)\n", 7).passed


def answer(value: Any, gold: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(cast(value, type(gold).__name__), allow_nan=False))
    assert isinstance(out, dict)
    return out


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 2**70, 1.25, float("inf"), "é", [1, [2, (3, 4)]], (1, "a"), {1, 2},
     frozenset({1}), {"k": [1], 2: (3,)}, {(1, 2): "tuple key"}, b"\x00a", 1 + 2j],
)  # fmt: skip
def test_encoding_keeps_the_types_equality_sees(value: Any) -> None:
    assert decode(json.loads(json.dumps(encode(value), allow_nan=False))) == value


def test_malformed_answers_are_errors_never_code() -> None:
    for bad in ({"$nonsense": 1}, {"$float": "1e400"}, {"$ndarray": {"dtype": "O", "data": []}},
                {"$tuple": 3}, object()):  # fmt: skip
        with pytest.raises((WireError, TypeError, ValueError)):
            decode(bad)
    assert decode({"$opaque": "Thing", "repr": "<thing>"}) != Opaque("Thing", "<thing>")
    assert not is_equivalent({"kind": "value", "value": {"$nonsense": 1}}, [1])
    assert not is_equivalent({"kind": "what"}, 1)
    assert is_equivalent(answer([1, 2], [0]), [1, 2])
