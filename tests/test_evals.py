"""What the two benchmarks share (`codegen_ui.evals`): the resumable run file and the seeds.

The file is driven through a small subclass of its own here; each benchmark's resume tests
(`test_mtpb_run.py`, `test_humaneval.py`) drive their real ones. The worker pool and the harness
run on real kernels in those tests and in the verdict tests.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.errors import UserError
from codegen_ui.evals import RunFile, sample_seed


class NotesError(UserError):
    pass


class Notes(RunFile[str, dict[str, Any]]):
    error = NotesError
    one_is = "a note"
    records_are = "notes"

    def read(self, line: str) -> tuple[str, Any, dict[str, Any]]:
        raw = json.loads(line)
        return str(raw["key"]), raw["config"], raw

    def write(self, record: dict[str, Any]) -> tuple[str, str]:
        return record["key"], json.dumps(record)


def test_a_run_file_resumes_its_records_and_drops_a_line_cut_mid_write(tmp_path: Path) -> None:
    path = tmp_path / "out" / "notes.jsonl"
    first = Notes(path, "c1")
    first.add({"key": "a", "config": "c1", "text": "one\u2028line"})
    first.add({"key": "b", "config": "c1"})
    with path.open("a", encoding="utf-8") as f:
        f.write('{"key": "c", "conf')  # a crash mid-write
    again = Notes(path, "c1")
    assert list(again.records) == ["a", "b"]
    assert again.records["a"]["text"] == "one\u2028line"  # one record, not split at U+2028
    assert path.read_text(encoding="utf-8").endswith("}\n")  # the cut line is gone from disk


def test_a_run_file_refuses_another_configuration_and_a_line_that_is_no_record(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.jsonl"
    Notes(path, "c1").add({"key": "a", "config": "c1"})
    with pytest.raises(NotesError, match="holds notes of another configuration"):
        Notes(path, "c2")
    path.write_text('{"key": "a", "config": "c1"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(NotesError, match=r"notes.jsonl:2 is not a note \(TypeError"):
        Notes(path, "c1")


def test_a_sample_seed_depends_on_its_key_alone() -> None:
    assert sample_seed(0, "HumanEval/3", 1) == sample_seed(0, "HumanEval/3", 1)
    seeds = {sample_seed(base, "7", case, n) for base in (0, 1) for case in (0, 1) for n in (0, 1)}
    assert len(seeds) == 8
    assert all(0 <= s < 2**31 for s in seeds)


# Lines as the benchmarks wrote them before their run configurations shared one shape (the
# MTPB one in its old field order): a re-run of the same configuration must resume them.
OLD_MTPB_CONFIG = {
    "model": "m", "temperature": 0.2, "top_p": 0.95, "seed": 0, "limit_s": 20.0, "top_k": 50,
    "clean_up": True, "prompt_format": "paper", "fix": 0, "state": False,
}  # fmt: skip
OLD_HUMANEVAL_CONFIG = {
    "model": "m", "temperature": 0.2, "top_p": 0.95, "top_k": 50, "seed": 0,
    "max_new_tokens": 512, "prompt_format": "paper", "fix": 0,
}  # fmt: skip


def test_both_benchmarks_run_configurations_share_one_shape_and_the_papers_sampling() -> None:
    from codegen_ui import evals, humaneval, mtpb

    shared = [f.name for f in fields(evals.RunConfig)]
    for config in (mtpb.RunConfig("m"), humaneval.RunConfig("m")):
        assert isinstance(config, evals.RunConfig)
        assert [f.name for f in fields(config)][: len(shared)] == shared
        assert (config.temperature, config.top_p, config.top_k) == (0.2, 0.95, 50)
    with pytest.raises(evals.RunConfigError, match=r"--top-p in \(0, 1\]"):
        mtpb.RunConfig("m", top_p=0.0).check()
    with pytest.raises(UserError):
        humaneval.RunConfig("m", temperature=-1).check()


def test_results_files_written_before_the_shared_shape_still_resume(tmp_path: Path) -> None:
    from codegen_ui import humaneval, mtpb

    result = mtpb.SampleResult(
        id="1", case=0, sample=0, category="math", input={}, gold_output=1,
        completions="print(1)", prompts_completions=("print(1)",), outcome="pass", reason="",
        answer="1", reference=True, config=mtpb.RunConfig("m"),
    )  # fmt: skip
    line = json.loads(result.to_json()) | {"config": OLD_MTPB_CONFIG}
    (tmp_path / "mtpb.jsonl").write_text(json.dumps(line) + "\n")
    assert set(mtpb.ResultsFile(tmp_path / "mtpb.jsonl", mtpb.RunConfig("m")).results) == {
        ("1", 0, 0)
    }
    with pytest.raises(mtpb.MtpbError, match="another configuration"):
        mtpb.ResultsFile(tmp_path / "mtpb.jsonl", mtpb.RunConfig("m", top_k=0))

    sample = {"task_id": "HumanEval/0", "completion": "  pass", "sample": 0, "seed": 1}
    (tmp_path / "he.jsonl").write_text(json.dumps(sample | {"config": OLD_HUMANEVAL_CONFIG}) + "\n")
    assert set(humaneval.SamplesFile(tmp_path / "he.jsonl", humaneval.RunConfig("m")).records) == {
        ("HumanEval/0", 0)
    }
    with pytest.raises(humaneval.HumanEvalError, match="another configuration"):
        humaneval.SamplesFile(tmp_path / "he.jsonl", humaneval.RunConfig("m", max_new_tokens=64))
