"""`codegen-ui complete FILE.py` end to end on the tiny real model: it prints exactly the cut
continuation the domain gives, greedy is repeatable, and a missing or empty file is a one-line
error with exit status 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codegen_ui.core import SamplingParams, continue_code, truncate
from tests.test_cli import cli

ADD = 'def add(a, b):\n    """Return the sum of a and b."""\n'
EXACT = {"CODEGEN_UI_PRECISION": "exact", "CODEGEN_UI_DEVICE": "cpu", "HF_HUB_OFFLINE": "1"}


def test_complete_prints_the_cut_continuation_of_a_file(
    tiny_model_dir: Path, tiny_model: Any, tmp_path: Path
) -> None:
    source = tmp_path / "add.py"
    source.write_text(ADD)
    flags = ("--model", str(tiny_model_dir), "--max-new-tokens", "24", "--temperature", "0")
    first = cli("complete", str(source), *flags, env=EXACT)
    assert first.returncode == 0, first.stderr
    # The same model in this process, the same greedy settings: the very same text, cut. Two
    # processes writing one text is what "greedy is repeatable" asks (a second command run,
    # another 10-20 s of loading torch and the model, proved it no further).
    added, finished = continue_code(tiny_model, ADD, SamplingParams(max_new_tokens=24))
    assert first.stdout == added and added and finished.new_tokens > 0
    assert truncate(added) == added  # the cut is applied: nothing past the paper's rules
    assert source.read_text() == ADD  # the file is only read
    if finished.stop_reason == "length":  # the tiny model's text never ends by itself
        assert "used all 24 new tokens" in first.stderr


def test_a_missing_or_empty_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "blank.py").write_text("\n  \n")
    missing = cli("complete", str(tmp_path / "nope.py"))
    empty = cli("complete", str(tmp_path / "blank.py"))
    for proc, words in ((missing, "does not exist"), (empty, "is empty")):
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and words in proc.stderr
