"""`codegen-ui export` and `codegen-ui run --resume`, through the real entry point."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from codegen_ui.cli import main
from codegen_ui.core import PREAMBLE, Turn
from codegen_ui.notebooks import SessionStore, from_notebook, parse, to_script
from tests.test_notebook_import import jupyter_notebook

TURNS = [
    Turn("Set x to 20 and print it.", code="x = 20\nprint(x)\n", status="ok"),
    Turn("Double it.", code="y = x * 2\nprint(y)\n", status="ok"),
]


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    store = SessionStore(tmp_path / "sessions")
    return store.path(store.create("lesson", TURNS).id)


def test_export_to_py_writes_the_program_next_to_the_notebook(
    saved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(saved), "--to", "py"]) == 0
    script = saved.with_suffix(".py")
    assert script.read_text(encoding="utf-8") == to_script(TURNS, PREAMBLE)
    assert "wrote 2 turns" in capsys.readouterr().out
    # It will not overwrite without --force, and never the notebook itself.
    assert main(["export", str(saved), "--to", "py"]) == 2
    assert "pass --force" in capsys.readouterr().err
    script.write_text("old")
    assert main(["export", str(saved), "--to", "py", "--force"]) == 0
    assert script.read_text(encoding="utf-8") == to_script(TURNS, PREAMBLE)
    assert main(["export", str(saved), "--to", "ipynb", "--out", str(saved), "--force"]) == 2
    assert "being exported" in capsys.readouterr().err


def test_export_to_stdout(saved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(saved), "--to", "py", "--out", "-"]) == 0
    assert capsys.readouterr().out == to_script(TURNS, PREAMBLE)


def test_export_a_jupyter_notebook_to_a_session_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "analysis.ipynb"
    source.write_bytes(jupyter_notebook(3))
    assert main(["export", str(source), "--to", "ipynb"]) == 0
    assert "left out 1 markdown cell" in capsys.readouterr().err
    out = tmp_path / "analysis.session.ipynb"
    nb = parse(out.read_bytes())
    nbformat.validate(nb)
    turns, meta = from_notebook(nb)
    assert [t.instruction for t in turns] == [
        "Load the numbers.",
        "",
        "Divide by zero,\n\non purpose.",
        "",
    ]
    assert meta["preamble"] == PREAMBLE


@pytest.mark.parametrize("content", [b"", b"not json", b'{"nbformat": 4}'])
def test_export_of_a_broken_file_is_a_clear_error(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_bytes(content)
    assert main(["export", str(bad), "--to", "py"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codegen-ui: error: ") and "not a" in err and "Traceback" not in err
    assert not (tmp_path / "bad.py").exists()
    assert main(["export", str(tmp_path / "missing.ipynb"), "--to", "py"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_run_resume_continues_with_the_same_prompt_history(
    saved: Path, tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    turns_file = tmp_path / "more.txt"
    turns_file.write_text("Print y plus one.\n", encoding="utf-8")
    flags = ["--model", str(tiny_model_dir), "--device", "cpu", "--max-new-tokens", "8"]
    flags += ["--prompt-format", "paper"]  # the tiny model has a chat template too
    argv = ["run", "--resume", str(saved), str(turns_file), "--show-prompt", *flags]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "replayed 2 earlier turns\n" in out
    prompt = (
        out.split("--- paper prompt (")[1]
        .split(" tokens) ---\n", 1)[1]
        .split("--- end of prompt")[0]
    )
    assert prompt == to_script(TURNS, PREAMBLE) + "# Print y plus one.\n"

    # Saved back in place: the store still lists it, with its title, and one more turn.
    store = SessionStore(saved.parent)
    (info,) = store.list()
    assert (info.title, info.turns, info.error) == ("lesson", 3, "")
    turns, meta = store.load(info.id)
    assert [(t.instruction, t.code) for t in turns[:2]] == [(t.instruction, t.code) for t in TURNS]
    # The replay rebuilt the kernel's state: the second turn needed x from the first.
    assert [t.outputs[0]["text"] for t in turns[:2]] == ["20\n", "40\n"]
    assert turns[2].instruction == "Print y plus one." and turns[2].model == str(tiny_model_dir)
    assert meta["model"] == str(tiny_model_dir)


def test_run_resume_will_not_drop_cells_of_a_jupyter_notebook(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "analysis.ipynb"
    source.write_bytes(original := jupyter_notebook(5))
    turns_file = tmp_path / "more.txt"
    turns_file.write_text("Go on.\n", encoding="utf-8")
    argv = ["run", "--resume", str(source), str(turns_file), "--model", str(tiny_model_dir)]
    assert main(argv) == 2
    assert "give --out" in capsys.readouterr().err
    assert source.read_bytes() == original
