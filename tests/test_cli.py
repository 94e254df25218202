"""The command line end to end on the tiny real model, and the package's import weight."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def cli(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegen_ui", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
    )


def test_run_writes_a_valid_notebook_one_cell_per_turn(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    # Sampled, seeded: the tiny model writes random text, and whatever it is, a Python error in
    # it is a result in the notebook, never a failed run (one run checks both, one model load).
    turns = tmp_path / "turns.txt"
    turns.write_text("Write a function that adds two numbers.\n\n  Print the sum of 1 and 2.\n")
    out = tmp_path / "out.ipynb"
    proc = cli(
        "run",
        str(turns),
        "--model",
        str(tiny_model_dir),
        "--out",
        str(out),
        "--max-new-tokens",
        "16",
        "--temperature",
        "1",
        "--seed",
        "3",
        "--show-prompt",
    )
    assert proc.returncode == 0, proc.stderr
    assert "saved 2 turns" in proc.stdout
    assert "=== turn 1: Write a function that adds two numbers." in proc.stdout
    assert "=== turn 2: Print the sum of 1 and 2." in proc.stdout
    assert "# Import libraries.\n\nimport numpy as np\n\n# Write a function" in proc.stdout
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].metadata["codegen_ui"]["role"] == "preamble"
    assert [c.metadata["codegen_ui"]["instruction"] for c in nb.cells[1:]] == [
        "Write a function that adds two numbers.",
        "Print the sum of 1 and 2.",
    ]
    assert all(c.source.startswith("# ") for c in nb.cells[1:])


def test_missing_and_empty_turns_files_are_one_line_errors(tmp_path: Path) -> None:
    missing = cli("run", str(tmp_path / "nope.txt"))
    (tmp_path / "empty.txt").write_text("\n   \n")
    empty = cli("run", str(tmp_path / "empty.txt"))
    for proc, words in ((missing, "does not exist"), (empty, "has no instructions")):
        assert proc.returncode == 2
        assert proc.stderr.count("\n") == 1 and words in proc.stderr


def test_bad_setting_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("x\n")
    proc = cli("run", str(tmp_path / "t.txt"), "--top-p", "2")
    assert proc.returncode == 2 and "top_p" in proc.stderr and proc.stderr.count("\n") == 1


def test_import_is_light() -> None:
    code = (
        "import sys, codegen_ui, codegen_ui.core, codegen_ui.engine, codegen_ui.kernel\n"
        "import codegen_ui.notebooks, codegen_ui.workspace, codegen_ui.web, codegen_ui.mtpb\n"
        "import codegen_ui.bench\n"
        "import codegen_ui.cli\n"
        "heavy = {'torch', 'transformers', 'gradio'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_turns_file_splits_on_newlines_only(tmp_path: Path) -> None:
    from codegen_ui.cli.converse import read_turns_file

    path = tmp_path / "turns.txt"
    path.write_text("first \u2028 still first\r\n\nsecond\n", encoding="utf-8")
    assert read_turns_file(str(path)) == ["first \u2028 still first", "second"]
