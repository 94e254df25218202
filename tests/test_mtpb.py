"""MTPB data, scorer, wire format and the last-value rule: pure functions, no kernel or model."""

from __future__ import annotations

import ast
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from codegen_ui.core import instruction_comment
from codegen_ui.mtpb.execute import THROUGH, wrap_last_value
from codegen_ui.mtpb.problems import (
    MtpbError,
    as_instruction,
    fetch_data,
    is_equivalent,
    load_problems,
    parse_problem,
    select,
)
from codegen_ui.mtpb.wire import Opaque, from_wire, to_wire

# (printed value, gold output, equivalent?)
SCORER_TABLE: list[tuple[Any, Any, bool]] = [
    ([1, 2], [1, 2], True),
    ([1, 2], [2, 1], False),
    ((1, 2), [1, 2], True),  # tuples count as lists
    ([(1, 2), (3, 4)], [[1, 2], [3, 4]], True),
    (np.array([1, 2, 3]), [1, 2, 3], True),  # numpy to plain Python
    (np.int64(7), 7, True),
    (np.float32(0.5), 0.5, True),
    (np.bool_(True), True, True),
    (pd.Series([1.5, 2.5]), [1.5, 2.5], True),  # pandas too
    (pd.Series(["a", "b"]), ["a", "b"], True),
    ("7", 7, True),  # cast to the gold's type
    (7, "7", True),
    (3.0, 3, True),
    (3.9, 3, True),  # the reference's int() cast truncates
    (3, 3.0, True),
    (0.1 + 0.2, 0.3, True),  # floats within 1e-6
    (0.3001, 0.3, False),
    ([0.1 + 0.2, 1], [0.3, 1], True),  # ... inside lists too
    ([1, 2], "[1, 2]", True),
    ("abc", ["a", "b", "c"], True),  # list("abc"), as the reference casts
    ({1, 2}, [1, 2], True),
    ("True", True, True),  # booleans compare as strings
    (True, True, True),
    (1, True, False),
    ("False", False, True),
    (False, True, False),
    (None, None, True),  # the reference's scorer rejects None and dict golds
    ("None", None, True),
    (0, None, False),
    ({"1": ["a", "b"]}, {"1": ["a", "b"]}, True),
    ({"1": ["a"]}, {"1": ["b"]}, False),
    ("abc", "abd", False),
    ("abc", 5, False),  # the cast fails: not equivalent, no exception
    (Opaque("DataFrame", "  a\n0 1"), "  a\n0 1", True),
    (Opaque("DataFrame", "  a\n0 1"), [1], False),
    ([1, 2, 3], [1, 2], False),
]


@pytest.mark.parametrize(("output", "gold", "expected"), SCORER_TABLE)
def test_is_equivalent(output: Any, gold: Any, expected: bool) -> None:
    assert is_equivalent(output, gold) is expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        2**70,
        1.25,
        float("inf"),
        "é",
        [1, [2, (3, 4)]],
        (1, "a"),
        {1, 2},
        {"k": [1], 2: (3,)},
        {(1, 2): "tuple key"},
    ],
)
def test_wire_round_trip(value: Any) -> None:
    encoded = json.loads(json.dumps(to_wire(value), allow_nan=False))
    assert from_wire(encoded) == value


def test_wire_makes_numpy_and_pandas_plain_and_others_opaque() -> None:
    assert from_wire(to_wire(np.array([[1, 2]]))) == [[1, 2]]
    assert type(from_wire(to_wire(np.float64(0.5)))) is float
    assert from_wire(to_wire(pd.Series([1, 2]))) == [1, 2]
    frame = pd.DataFrame({"a": [1]})
    assert from_wire(to_wire(frame)) == Opaque("DataFrame", str(frame))
    with pytest.raises(ValueError):
        from_wire({"__nonsense__": 1})


WRAP_TABLE = [
    ("f(2)", "print((f(2)))"),
    ("x = 1\nx", "x = 1\nprint((x))"),
    ("a, b", "print((a, b))"),  # one argument: the tuple
    ("print(x)", "print(x)"),
    ("print_result(x)", "print_result(x)"),  # the reference's test: the name starts with print
    ("y = x + 1", f"y = {THROUGH}((x + 1))"),
    ("y += 'é'", f"y += {THROUGH}(('é'))"),  # byte offsets after a non-ASCII character
    ("z = 'é'; w = len(\n  z)", f"z = 'é'; w = {THROUGH}((len(\n  z)))"),
    ("for i in x:\n    pass", "for i in x:\n    pass"),
    ("def f():\n    return 1", "def f():\n    return 1"),
    ("", ""),
    ("x = (", "x = ("),  # not Python: left for the run to report
]


@pytest.mark.parametrize(("code", "expected"), WRAP_TABLE)
def test_wrap_last_value(code: str, expected: str) -> None:
    assert wrap_last_value(code) == expected
    if expected != "x = (":
        ast.parse(expected)


def raw_problem(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "7",
        "name": "Double",
        "description": "",
        "category": "math",
        "prompts": ["Assign {x} to x.", "Print x doubled."],
        "inputs": [{"x": 1}, {"x": 2}],
        "outputs": [2, 4],
    }
    raw.update(changes)
    return raw


def test_parse_problem_fills_templates_and_defaults_the_length() -> None:
    problem = parse_problem(raw_problem())
    assert problem.instructions(1) == ["Assign 2 to x.", "Print x doubled."]
    assert problem.max_gen_length == 256  # missing: the reference's fallback
    assert problem.defects == () and problem.runnable
    assert parse_problem(raw_problem(max_gen_length=512)).max_gen_length == 512


def test_defects_are_found_in_the_data_not_by_id() -> None:
    extra = parse_problem(raw_problem(outputs=[2, 4, -1]))
    assert [c[1] for c in extra.cases] == [2, 4] and extra.runnable
    assert "3 outputs for 2 inputs" in extra.defects[0]
    reads = parse_problem(raw_problem(prompts=['Read "df" from "./datasets/x.csv".']))
    assert not reads.runnable and "./datasets/x.csv" in reads.defects[0]


def test_real_data_defects(mtpb_path: Path) -> None:
    problems = {p.id: p for p in load_problems(mtpb_path)}
    assert len(problems) == 115
    assert {pid for pid, p in problems.items() if p.defects} == {"38", "46", "57"}
    assert not problems["38"].runnable and not problems["46"].runnable
    assert len(problems["57"].cases) == 5 and problems["57"].runnable
    assert problems["39"].max_gen_length == 256


def test_multi_line_prompt_keeps_the_reference_comment_block(mtpb_path: Path) -> None:
    problem = next(p for p in load_problems(mtpb_path) if p.id == "17")
    filled = problem.prompts[0].format(**problem.cases[0][0])
    reference = f"# {filled}\n"
    ours = instruction_comment(problem.instructions(0)[0])
    # Only the trailing space the app trims from the first line differs.
    assert ours == reference.replace(": \n", ":\n")
    assert as_instruction("a\n# b\nc") == "a\nb\nc"


def test_select_problems() -> None:
    problems = [parse_problem(raw_problem(id=str(i))) for i in (3, 1, 2, 10)]
    assert [p.id for p in select(problems, "1-2,10")] == ["1", "2", "10"]
    assert len(select(problems, None)) == 4
    with pytest.raises(MtpbError, match="no problem with id 4"):
        select(problems, "3-4")
    with pytest.raises(MtpbError, match="not an id"):
        select(problems, "x")


def test_load_problems_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(raw_problem()) + "\n{not json\n")
    with pytest.raises(MtpbError, match=r"bad\.jsonl:2"):
        load_problems(path)
    with pytest.raises(MtpbError, match="cannot read"):
        load_problems(tmp_path / "missing.jsonl")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_offline_download_fails_fast_and_suggests_data(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/mtpb.jsonl"
    with pytest.raises(MtpbError, match="--data PATH") as info:
        fetch_data(url, cache=tmp_path, timeout=5)
    assert url in str(info.value)
    assert not list(tmp_path.iterdir())  # nothing half-written in the cache


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving a folder; yields (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_download_once_into_the_cache(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    (root / "mtpb.jsonl").write_text(json.dumps(raw_problem()) + "\n")
    cache = tmp_path / "cache"
    first = fetch_data(f"{base}/mtpb.jsonl", cache=cache)
    assert [p.id for p in load_problems(first)] == ["7"]
    (root / "mtpb.jsonl").unlink()  # the second call must not need the server
    assert fetch_data(f"{base}/mtpb.jsonl", cache=cache) == first
    (root / "page.html").write_text("<html>not here</html>")
    with pytest.raises(MtpbError, match="did not answer with MTPB data"):
        fetch_data(f"{base}/page.html", cache=cache)
    assert [p.name for p in cache.iterdir()] == [first.name]
