"""`codegen-ui replay`: a notebook's code cells re-run in order in one fresh sandboxed kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from codegen_ui.cli import main
from codegen_ui.core import SamplingParams, Turn
from codegen_ui.notebooks import META_KEY, from_notebook, save, to_notebook

pytestmark = pytest.mark.slow


def _notebook(path: Path) -> Path:
    turns = [
        Turn("set x", SamplingParams(), code="x = 20", status="ok"),
        Turn("hang", SamplingParams(), code="while True:\n    pass", status="ok"),
        Turn("show x", SamplingParams(), code="print(x + 1)", status="ok"),
        Turn("crash", SamplingParams(), code="import os\nos._exit(1)", status="ok"),
        Turn("after", SamplingParams(), code="print('x' in globals(), 6 * 7)", status="ok"),
    ]
    nb = to_notebook(turns, {"title": "t"})
    nb.cells.insert(0, new_markdown_cell("# a prepared session"))
    nb.cells.append(new_code_cell("   "))
    nb.cells.append(new_code_cell("1/0"))  # a plain cell, not written by the app
    save(nb, path)
    return path


def test_replay_runs_every_cell_and_goes_on_after_timeout_and_death(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEGEN_UI_SANDBOX", "auto")
    source = _notebook(tmp_path / "lesson.ipynb")
    before = source.read_text()
    out = tmp_path / "out" / "replayed.ipynb"
    assert main(["replay", str(source), "--out", str(out), "--timeout", "3"]) == 1
    assert source.read_text() == before  # --out leaves the input alone
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("sandbox: ")
    # The session's preamble (`import numpy as np`) runs first, as the page's Replay all runs
    # it, and again after the kernel died; the cells are the turns.
    cells = [line.split(":")[1].strip().split(" ")[0] for line in printed[1:8]]
    assert cells == ["ok", "timeout", "ok", "died", "ok", "empty", "error"]
    assert "ran past 3 s" in printed[2]
    assert "ZeroDivisionError" in printed[7]
    assert printed[-1].startswith("replayed 7 code cells (3 not ok)")

    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown"  # a cell that is no turn stays where it was
    code = [c for c in nb.cells if c.cell_type == "code"][1:]
    assert code[0].outputs == [] and code[0].execution_count == 1
    assert code[2].outputs[0]["text"] == "21\n"  # the interrupt kept x
    assert code[3].outputs[-1]["ename"] == "KernelDied"
    assert code[4].outputs[0]["text"] == "False 42\n"  # after the restart x is gone
    assert code[6].source == "1/0"
    turns, _ = from_notebook(nb)
    # The two plain cells at the end come back as turns too, with what replay made of them.
    assert [t.status for t in turns] == ["ok", "timeout", "ok", "died", "ok", "not-run", "error"]
    assert "restarted" in code[3].metadata[META_KEY]["message"]


def test_replay_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "simple.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("y = 2"), new_code_cell("y * 21")]), path)
    assert main(["replay", str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "42"
    assert "replayed 2 code cells (0 not ok)" in capsys.readouterr().out


def test_replay_of_a_missing_or_broken_file_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "nope.ipynb")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    assert main(["replay", str(bad)]) == 2
    assert "not a notebook" in capsys.readouterr().err
