"""`mtpb score`: samples in the reference sampler's format, executed in real kernels, resumable."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.cli import main
from codegen_ui.mtpb import (
    MtpbError,
    format_report,
    load_problems,
    read_samples,
    score_config,
    score_samples,
    summarize,
)
from codegen_ui.mtpb.program import PREFIX

PROBLEMS = [
    {"id": "1", "name": "Double", "category": "math", "prompts": ["Set x to {x}.", "Print x*2."],
     "inputs": [{"x": 1}, {"x": 2}], "outputs": [2, 4], "max_gen_length": 128},
    {"id": "2", "name": "Chars", "category": "string", "prompts": ["Print the chars of {s}."],
     "inputs": [{"s": "ab"}], "outputs": [["a", "b"]], "max_gen_length": 128},
    {"id": "3", "name": "CSV", "category": "data", "prompts": ['Read "./datasets/x.csv".'],
     "inputs": [{}], "outputs": [1]},
]  # fmt: skip


def reference_sample(pid: str, inputs: dict[str, Any], gold: Any, *turns: tuple[str, str]) -> str:
    """One line as the reference's mtpb_sample.py writes it."""
    pieces = [PREFIX]
    for prompt, code in turns:
        pieces += [f"# {prompt}\n", f"{code}\n\n"]
    record = {"id": pid, "input": inputs, "gold_output": gold, "completions": "".join(pieces),
              "prompts_completions": pieces}  # fmt: skip
    return json.dumps(record)


CHARS = "Print the chars of ab."
CSV = 'Read "./datasets/x.csv".'
CSV_CODE = "import pandas as pd\nprint(pd.read_csv('./datasets/x.csv'))"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "mtpb.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    samples = tmp_path / "samples.jsonl"
    lines = [
        reference_sample("1", {"x": 1}, 2, ("Set x to 1.", "x = 1"), ("Print x*2.", "print(x*2)")),
        reference_sample("1", {"x": 2}, 4, ("Set x to 2.", "x = 2"), ("Print x*2.", "")),  # 2
        reference_sample("1", {"x": 2}, 4, ("Set x to 2.", "x = 2"), ("Print x*2.", "x * 2")),
        reference_sample("2", {"s": "ab"}, ["a", "b"], (CHARS, "print(iter('ab'))")),
        reference_sample("3", {}, 1, (CSV, CSV_CODE)),
    ]
    samples.write_text("\n".join(lines) + "\n")
    return data, samples


def test_score_reference_samples_and_resume(files: tuple[Path, Path], tmp_path: Path) -> None:
    data, path = files
    problems = load_problems(data)
    samples = read_samples(path, problems)
    assert [s.key for s in samples] == [
        ("1", 0, 0),
        ("1", 1, 0),
        ("1", 1, 1),
        ("2", 0, 0),
        ("3", 0, 0),
    ]
    config = score_config(path, 5.0)
    out = tmp_path / "scored.jsonl"
    results = score_samples(samples, config, out, progress=io.StringIO())
    assert [r.outcome for r in results] == ["pass", "wrong", "pass", "pass", "error"]
    assert results[1].answer == "2"  # an empty last turn: `x = print(2)`, as the reference
    report = format_report(summarize(problems, results, config, 2, problems))
    assert "pass rate  75.00 %  (3 / 4)  over the runnable problems run" in report
    assert " 37.50 %  (3 / 8)  over all 3 problems' test cases" in report
    assert "scored samples.jsonl, 5 s per program" in report
    # The results are scorable samples themselves, in the same format.
    again = read_samples(out, problems)
    assert [s.program for s in again] == [s.program for s in samples]
    # Resumable: a cut last line is scored again, nothing else.
    text = out.read_text()
    out.write_text(text[: text.rstrip("\n").rfind("\n") + 1] + '{"id": "3", "ca')
    after = score_samples(samples, config, out, progress=io.StringIO())
    assert after[:4] == results[:4] and after[4].outcome == "error"
    assert len(out.read_text().splitlines()) == 5


def test_bad_samples_are_named(files: tuple[Path, Path], tmp_path: Path) -> None:
    data, _ = files
    problems = load_problems(data)
    bad = tmp_path / "bad.jsonl"
    for line, match in [
        ("{not json", r"bad\.jsonl:1 is not an MTPB sample"),
        (reference_sample("9", {}, 1), "no problem with id 9"),
        (reference_sample("1", {"x": 7}, 1), "none of problem 1's test cases"),
    ]:
        bad.write_text(line + "\n")
        with pytest.raises(MtpbError, match=match):
            read_samples(bad, problems)


def test_cli_score(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, samples = files
    out = tmp_path / "r.jsonl"
    argv = ["mtpb", "score", str(samples), "--data", str(data), "--out", str(out)]
    assert main(["mtpb", "--checkers", "2", *argv[1:]]) == 0  # flags before score count too
    report = capsys.readouterr().out
    assert "(3 / 4)  over the runnable problems run" in report and f"results: {out}" in report
    assert "this run: 5 samples of 3 problems" in report and "with 2 kernel(s)" in report
    assert main(argv) == 0
    assert "this run" not in capsys.readouterr().out
    assert main(["mtpb", "score", str(samples), "--data", str(data), "--out", str(samples)]) == 2
