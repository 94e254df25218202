"""MTPB data, the reference's prompt bytes and last-value rule: pure functions, no kernel."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.mtpb.problems import MtpbError, fetch_data, load_problems, parse_problem, select
from codegen_ui.mtpb.program import PREFIX, clean_up, pieces, with_last_print, wrap

# (program, what the reference's try_rewrite_ast_with_print makes of it)
LAST_PRINT_TABLE = [
    ("f(2)", "print(f(2))"),
    ("x = 3", "x = print(3)"),
    ("x += 1", "x += print(1)"),
    ("a, b = 1, 2", "a, b = print((1, 2))"),
    ("x: int", "x: int"),
    ("x: int = 5", "x: int = print(5)"),
    ("print(1)", "print(1)"),
    ("y = print(2)", "y = print(2)"),
    ("print_result(3)", "print_result(3)"),  # the reference's test: the name starts with print
    ("pprint(3)", "print(pprint(3))"),
    ("df.head()", "print(df.head())"),
    ("for i in range(3):\n    print(i)", "for i in range(3):\n    print(i)"),
    ("def f():\n    return 1", "def f():\n    return 1"),
    ("import os", "import os"),
    ("", ""),
    ("x = (1,\n  2)  # c", "x = print((1, 2))"),  # the whole program is unparsed
    ("x = 1\n\n\n# Print x\n\n\n", "x = print(1)"),  # an empty last turn
    ("x = (", "x = ("),  # not Python: left for the run to fail
    ("obj.print(3)", "print(obj.print(3))"),
    ("z = 'é'; w = len(\n  z)", "z = 'é'\nw = print(len(z))"),
]


@pytest.mark.parametrize(("code", "expected"), LAST_PRINT_TABLE)
def test_with_last_print_as_the_reference(code: str, expected: str) -> None:
    assert with_last_print(code) == expected


CLEAN_UP_TABLE = [
    ("f(a , b)", "f(a, b)"),
    ("return ' '.join(w)", "return''.join(w)"),  # the reference's decoder changes the code
    ("x = 1 . real", "x = 1. real"),
    ("s = 'it 's'", "s = 'it's'"),
    ("print(x)\n", "print(x)\n"),
]


@pytest.mark.parametrize(("raw", "expected"), CLEAN_UP_TABLE)
def test_clean_up_as_the_reference_decoder(raw: str, expected: str) -> None:
    assert clean_up(raw) == expected


def test_pieces_are_the_reference_sample_layout() -> None:
    got = pieces(["Do a. ", "Do b."], ["a = 1", ""])
    assert got == [PREFIX, "# Do a. \n", "a = 1\n\n", "# Do b.\n", "\n\n"]
    assert wrap("x\n# y ") == "# x\n# y \n"


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
    assert problem.filled(1) == ["Assign 2 to x.", "Print x doubled."]
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


PROMPT_17 = (
    "# Import libraries.\n\nimport numpy as np\n\n"
    "# Python got drunk and the built-in functions str() and int() are acting odd: \n"
    '# str(4) = 4\n# str("4") = 4\n# int("4") = "4"\n# int(4) = "4".\n'
)
PROMPT_58_TURN_2 = (
    "# Import libraries.\n\nimport numpy as np\n\n"
    '# Assign the positive number "1" to a variable named "my_number".\n'
    "CODE1\n\n"
    "# Compute the squre root of the number and store as square_root. \n"
)
PROMPT_102_TURN_4_END = "CODE3\n\n# Print out the largest element in prefix_sum_list. \n"


def test_prompts_of_problems_17_58_102_byte_for_byte(mtpb_path: Path) -> None:
    problems = {p.id: p for p in load_problems(mtpb_path)}

    def prompt(pid: str, turn: int) -> str:
        filled = problems[pid].filled(0)
        codes = [f"CODE{n}" for n in range(1, turn)]
        return "".join(pieces(filled[:turn], codes))

    assert prompt("17", 1) == PROMPT_17
    assert prompt("58", 2) == PROMPT_58_TURN_2
    assert prompt("102", 4).endswith(PROMPT_102_TURN_4_END)


def test_every_prompt_is_the_reference_construction(mtpb_path: Path) -> None:
    # The reference: history = prefix; per turn history += f"# {p.format(**input)}\n".
    count = 0
    for raw in map(json.loads, mtpb_path.read_text(encoding="utf-8").split("\n")[:-1]):
        problem = parse_problem(raw)
        for case, inputs in enumerate(raw["inputs"][: len(problem.cases)]):
            history = "# Import libraries.\n\nimport numpy as np\n\n"
            for turn, template in enumerate(raw["prompts"], 1):
                history += "# " + template.format(**inputs) + "\n"
                codes = [""] * (turn - 1)
                assert "".join(pieces(problem.filled(case)[:turn], codes)) == history
                history += "\n\n"
                count += 1
    assert count == 2570


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
