"""The MTPB pipeline end to end: real kernels, the scripted model and the tiny real model."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.cli import main
from codegen_ui.mtpb import (
    MtpbError,
    Problem,
    RunConfig,
    SampleResult,
    format_report,
    load_problems,
    run_benchmark,
    summarize,
)
from codegen_ui.mtpb import problems as mtpb
from codegen_ui.mtpb.program import PREFIX
from tests.fakes import ScriptedModel

CONFIG = RunConfig("scripted", limit_s=3.0)


def problem(pid: str, prompts: list[str], cases: list[tuple[Any, Any]], **extra: Any) -> str:
    raw = {
        "id": pid,
        "name": f"problem {pid}",
        "description": "",
        "category": extra.pop("category", "math"),
        "prompts": prompts,
        "inputs": [i for i, _ in cases],
        "outputs": [o for _, o in cases] + extra.pop("extra_outputs", []),
        "max_gen_length": 64,
    }
    return json.dumps(raw)


def write(tmp_path: Path, *lines: str) -> list[Problem]:
    path = tmp_path / "problems.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return load_problems(path)


TWO_TURNS = ["Assign {x} to a variable named x.", "Print x doubled."]


@pytest.fixture
def problems(tmp_path: Path) -> list[Problem]:
    return write(
        tmp_path,
        problem("1", TWO_TURNS, [({"x": 1}, 2), ({"x": 2}, 4), ({"x": 3}, 6)]),
        problem(
            "2", ["Make an array.", "Print it."], [({}, [1, 2]), ({}, [1, 2])], category="array"
        ),
        problem("3", ["Loop forever."], [({}, 1)]),
        problem("4", ["Print two.", "Then more."], [({}, 2), ({}, 2)]),
        problem("5", ["Print {v}."], [({"v": 1}, 1), ({"v": 2}, 3)], extra_outputs=[9]),
        problem("6", ['Read "df" from "./datasets/gone.csv".'], [({}, 1)]),
    )


# The code each turn "writes", in sample order (problem, test case), with its expected outcome.
SCRIPT = [
    (["x = 1\n", "print(x * 2)\n"], "pass"),
    (["x = 2\n", "x * 2\n"], "pass"),  # no print: the last expression is printed
    (["x = 3\n", "print(x + 1)\n"], "wrong"),
    (["a = np.array([1, 2])\n", "print(a)\n"], "pass"),  # numpy from the preamble's import
    (["a = [1, 2]\n", "print(b)\n"], "error"),
    (["while True:\n    pass\n"], "timeout"),
    (["print(2)\n", "1 / 0\n"], "pass"),  # the last print before the exception counts
    (["print(2)\n", "y = )\n"], "syntax-error"),  # the whole program must compile
    (["print(1)\n"], "pass"),
    (["print(2)\n"], "wrong"),  # problem 5's third output has no input: never asked
]


def scripted_model() -> ScriptedModel:
    model = ScriptedModel()
    for turns, _ in SCRIPT:
        model.enqueue(*turns)
    return model


def test_pipeline_gives_exactly_the_expected_pass_rate(
    problems: list[Problem], tmp_path: Path
) -> None:
    model = scripted_model()
    out = tmp_path / "results.jsonl"
    results = run_benchmark(problems, model, CONFIG, out, progress=io.StringIO())
    assert [r.outcome for r in results] == [outcome for _, outcome in SCRIPT]
    assert not model.queue  # every scripted turn was asked for, none more
    # The reference's history: prefix, `# {prompt}\n`, cut code, blank line.
    assert model.calls[0][0] == PREFIX + "# Assign 1 to a variable named x.\n"
    second = "# Assign 1 to a variable named x.\nx = 1\n\n\n# Print x doubled.\n"
    assert model.calls[1][0] == PREFIX + second
    assert {params.max_new_tokens for _, params in model.calls} == {64}
    assert {params.top_k for _, params in model.calls} == {50}  # transformers' default
    assert len({params.seed for _, params in model.calls[::2][:3]}) == 3  # a seed per sample

    report = summarize(problems, results, CONFIG, 1)
    assert (report.overall.passed, report.overall.total) == (5, 10)
    assert report.by_category["array"].passed == 1 and report.by_category["math"].passed == 4
    text = format_report(report)
    assert "pass rate  50.00 %  (5 / 10)" in text
    assert "6 problem 6: reads ./datasets/gone.csv" in text and "3 outputs for 2 inputs" in text
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 10 and lines[2]["answer"] == "4" and lines[2]["gold_output"] == 6
    assert lines[4]["reason"].startswith("NameError")
    # Each line is also a sample in the reference sampler's format.
    assert lines[0]["prompts_completions"] == [
        PREFIX,
        "# Assign 1 to a variable named x.\n",
        "x = 1\n\n\n",
        "# Print x doubled.\n",
        "print(x * 2)\n\n\n",
    ]
    assert lines[0]["completions"] == "".join(lines[0]["prompts_completions"])
    assert (lines[0]["id"], lines[0]["input"], lines[0]["config"]["top_k"]) == ("1", {"x": 1}, 50)


def test_resume_skips_samples_already_in_the_file(problems: list[Problem], tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    few = [p for p in problems if p.id in ("1", "5")]
    first = ScriptedModel().enqueue(*SCRIPT[0][0], *SCRIPT[1][0], *SCRIPT[2][0])
    first.enqueue(*SCRIPT[8][0], *SCRIPT[9][0])
    before = run_benchmark(few, first, CONFIG, out, progress=io.StringIO())

    # Everything is there: nothing runs and nothing is asked of the model.
    idle = ScriptedModel()
    assert run_benchmark(few, idle, CONFIG, out, progress=io.StringIO()) == before
    assert idle.calls == []

    # A crash in the middle of writing the last line: that one sample runs again.
    text = out.read_text()
    out.write_text(text[: text.rstrip("\n").rfind("\n") + 1] + '{"problem": "5", "ca')
    again = ScriptedModel().enqueue(*SCRIPT[9][0])
    after = run_benchmark(few, again, CONFIG, out, progress=io.StringIO())
    assert len(again.calls) == 1 and [r.outcome for r in after] == [r.outcome for r in before]
    assert len(out.read_text().splitlines()) == 5

    # More samples per case: only the new ones run.
    more = ScriptedModel().enqueue(*(["print(1)\n"] * 8))  # 3 cases x 2 turns + 2 x 1
    results = run_benchmark(few, more, CONFIG, out, samples=2, progress=io.StringIO())
    assert len(results) == 10 and len(more.calls) == 8 and not more.queue
    assert sum(r.passed for r in results if r.sample == 1) == 1  # only problem 5's first case

    with pytest.raises(MtpbError, match="another configuration"):
        run_benchmark(few, idle, RunConfig("other model"), out)


def test_workers_run_kernels_in_parallel_with_one_model(tmp_path: Path) -> None:
    golds = [10, 10, 11, 10]
    problems = write(tmp_path, problem("1", ["Print the answer."], [({}, g) for g in golds]))
    model = ScriptedModel().enqueue(*(["print(10)\n"] * 4))
    stream = io.StringIO()
    results = run_benchmark(
        problems, model, CONFIG, tmp_path / "r.jsonl", workers=2, progress=stream
    )
    assert [r.passed for r in results] == [g == 10 for g in golds]
    assert "4/4 passed 3" in stream.getvalue()  # the progress line
    assert "left ~" in stream.getvalue()


def test_problem_that_cannot_run_is_reported_not_run(tmp_path: Path) -> None:
    problems = write(tmp_path, problem("38", ['Read "./datasets/gone.csv".'], [({}, 1)]))
    model = ScriptedModel()
    results = run_benchmark(problems, model, CONFIG, tmp_path / "r.jsonl")
    assert results == [] and model.calls == []
    text = format_report(summarize(problems, results, CONFIG, 1))
    assert "38 problem 38: reads ./datasets/gone.csv, which the benchmark does not ship" in text


def real_subset(mtpb_path: Path, tmp_path: Path, ids: set[str]) -> Path:
    """Real MTPB problems, with few new tokens per turn so the tiny model is quick."""
    lines = [json.loads(line) for line in mtpb_path.read_text().splitlines()]
    chosen = [dict(raw, max_gen_length=12) for raw in lines if raw["id"] in ids]
    path = tmp_path / "subset.jsonl"
    path.write_text("".join(json.dumps(raw) + "\n" for raw in chosen))
    return path


def test_cli_on_real_problems_with_the_tiny_model(
    mtpb_path: Path, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = real_subset(mtpb_path, tmp_path, {"1", "38", "57"})
    out = tmp_path / "tiny.jsonl"
    argv = ["mtpb", "--data", str(data), "--model", str(tiny_model_dir), "--out", str(out)]
    assert main([*argv, "--problems", "1,38,57", "--checkers", "2"]) == 0
    report = capsys.readouterr().out
    results = [SampleResult.from_json(line) for line in out.read_text().splitlines()]
    assert sorted(r.key for r in results) == [(p, c, 0) for p in ("1", "57") for c in range(5)]
    assert all(
        len(r.prompts_completions) == 11 and r.max_new_tokens == 12
        for r in results
        if r.problem == "1"
    )
    assert all(r.outcome in ("pass", "wrong", "no-print", "error", "syntax-error") for r in results)
    passed = sum(r.passed for r in results)
    assert f"pass rate {100 * passed / 10:6.2f} %  ({passed} / 10)" in report
    assert f"{100 * passed / 15:6.2f} %  ({passed} / 15)  over all 3 problems" in report
    assert "38 Load dataset: reads ./datasets/mlbootcamp5_train.csv" in report
    assert "57 Maximum subarray: 6 outputs for 5 inputs" in report
    assert "this run: 10 samples of 2 problems in" in report
    # The same command again resumes: nothing left to do, the same report.
    assert main([*argv, "--problems", "1,38,57"]) == 0
    again = capsys.readouterr().out
    assert "this run" not in again
    assert again.splitlines() == [x for x in report.splitlines() if not x.startswith("this run")]
    # The results are samples in the reference's format: `score` judges them the same way.
    scored = tmp_path / "scored.jsonl"
    assert main(["mtpb", "score", str(out), "--data", str(data), "--out", str(scored)]) == 0
    rescored = [SampleResult.from_json(line) for line in scored.read_text().splitlines()]
    assert [(r.key, r.outcome, r.answer) for r in rescored] == [
        (r.key, r.outcome, r.answer) for r in results
    ]


def test_cli_offline_default_data_fails_fast_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(mtpb, "MTPB_URL", f"http://127.0.0.1:{port}/mtpb.jsonl")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["mtpb", "--model", str(tmp_path / "no-model"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "cannot download the MTPB data" in err and "--data PATH" in err
    assert not (tmp_path / "o").exists()


def test_a_program_that_kills_its_kernel_fails_and_the_next_one_runs(tmp_path: Path) -> None:
    problems = write(tmp_path, problem("1", ["Do it.", "Finish."], [({}, 1)] * 3))
    model = ScriptedModel().enqueue(
        "import os\n",
        "os._exit(1)\n",  # the kernel process dies
        "x = 1\n",
        "for i in range(2):\n    x += i\n",  # no print, and no value to print
        "x = 0\n",
        "x = x + 1\n",  # a final assignment: its value is printed
    )
    results = run_benchmark(problems, model, CONFIG, tmp_path / "r.jsonl")
    assert [r.outcome for r in results] == ["died", "no-print", "pass"]
    assert results[0].reason.startswith("KernelDied")
    assert results[2].answer == "1" and results[2].prompts_completions[4] == "x = x + 1\n\n\n"


def own_problem(
    model: Path, tmp_path: Path, cases: int, max_gen_length: int
) -> tuple[list[str], Path]:
    """The mtpb command's arguments on one problem written here ("Print {x}." with x = 1 to
    `cases`), and its results file."""
    tests = [({"x": x}, x) for x in range(1, cases + 1)]
    raw = json.loads(problem("9", ["Print {x}."], tests))
    data = tmp_path / "own.jsonl"
    data.write_text(json.dumps(dict(raw, max_gen_length=max_gen_length)) + "\n")
    out = tmp_path / "r.jsonl"
    return ["mtpb", "--data", str(data), "--model", str(model), "--out", str(out)], out


def test_cli_with_the_tiny_model_without_the_shared_data(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same command in a checkout without ../shared/data: problems written here.
    argv, out = own_problem(tiny_model_dir, tmp_path, cases=2, max_gen_length=8)
    assert main([*argv, "--seed", "3", "--temperature", "0"]) == 0
    report = capsys.readouterr().out
    results = [SampleResult.from_json(line) for line in out.read_text().splitlines()]
    assert [(r.problem, r.case) for r in results] == [("9", 0), ("9", 1)]
    assert all(r.config.seed == 3 and r.config.temperature == 0 for r in results)
    assert "pass rate" in report and "this run: 2 samples of 1 problems" in report
    # Another configuration may not be mixed into the same file.
    assert main([*argv, "--seed", "4"]) == 2
    assert "another configuration" in capsys.readouterr().err


def test_cli_cases_runs_each_problems_first_test_cases_only(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, out = own_problem(tiny_model_dir, tmp_path, cases=3, max_gen_length=4)
    assert main([*argv, "--temperature", "0", "--cases", "1"]) == 0
    report = capsys.readouterr().out
    results = [SampleResult.from_json(line) for line in out.read_text().splitlines()]
    assert [(r.problem, r.case) for r in results] == [("9", 0)]
    assert "each problem's first 1 only" in report
    assert "/ 3)  over all 1 problems' test cases" in report  # the paper's basis: all three
    assert main([*argv, "--cases", "0"]) == 2


def test_a_result_with_line_separators_in_its_code_stays_one_line(tmp_path: Path) -> None:
    # Model-written code can hold U+2028 or U+0085: the results file must still resume.
    problems = write(tmp_path, problem("1", ["Do it."], [({}, 1)]))
    out = tmp_path / "r.jsonl"
    model = ScriptedModel().enqueue("x = '\u2028\x85'\nprint(1)\n")
    first = run_benchmark(problems, model, CONFIG, out, progress=io.StringIO())
    (line,) = out.read_text().splitlines()
    assert line.isascii() and SampleResult.from_json(line) == first[0]
    idle = ScriptedModel()
    assert run_benchmark(problems, idle, CONFIG, out, progress=io.StringIO()) == first
    assert idle.calls == []


def test_a_model_server_failure_stops_the_run_and_keeps_what_is_done(tmp_path: Path) -> None:
    from codegen_ui.core import Delta, Finished
    from codegen_ui.engine import ModelLoadError

    class FailsOnSecondCall(ScriptedModel):
        def stream(self, prompt, params, cancel=None, prompt_format="paper"):  # type: ignore[no-untyped-def]
            if not self.calls:
                yield from super().stream(prompt, params, cancel)
                return
            yield Delta("print(")
            yield Finished("error", 3, 1, message="the model server broke off the stream")

    problems = write(tmp_path, problem("1", ["Print the answer."], [({}, 10), ({}, 10)]))
    out = tmp_path / "r.jsonl"
    with pytest.raises(ModelLoadError, match="broke off the stream; the results so far are kept"):
        run_benchmark(problems, FailsOnSecondCall().enqueue("print(10)\n"), CONFIG, out)
    assert [SampleResult.from_json(line).passed for line in out.read_text().splitlines()] == [True]


def test_fix_shows_the_programs_own_error_and_keeps_the_final_code(tmp_path: Path) -> None:
    problems = write(
        tmp_path,
        problem("1", TWO_TURNS, [({"x": 1}, 2)]),
        problem("2", ["Print {v}."], [({"v": 5}, 5)]),
    )
    model = ScriptedModel().enqueue(
        "x = 1\n", "print(X * 2)\n", "print(x * 2)\n",  # turn 2 raises; the first try runs
        "print(w)\n", "print(w)\n",  # the try repeats the failed code: not run, no second try
    )  # fmt: skip
    config = RunConfig("scripted", limit_s=3.0, fix=2)
    results = run_benchmark(problems, model, config, tmp_path / "r.jsonl", progress=io.StringIO())
    assert [r.outcome for r in results] == ["pass", "error"]
    assert [(r.fix_tries, r.fix_tokens > 0) for r in results] == [(1, True), (1, True)]
    assert not model.queue and len(model.calls) == 5
    fix_prompt = model.calls[2][0]
    assert fix_prompt == (
        PREFIX + "# Assign 1 to a variable named x.\nx = 1\n\n\n"
        "# The code `print(X * 2)` raised NameError: name 'X' is not defined.\n"
        "# Print x doubled.\n"
    )
    # (exactly that: the program's own error, never the gold output or the verdict)
    # The history holds the final code only; the results file records the run's feedback.
    assert results[0].completions.endswith("# Print x doubled.\nprint(x * 2)\n\n\n")
    line = json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0])
    assert line["config"]["fix"] == 2 and line["config"]["state"] is False
    assert "--fix: 2 tries" in format_report(summarize(problems, results, config, 1))


def test_state_tells_the_programs_names_before_each_turn(tmp_path: Path) -> None:
    problems = write(tmp_path, problem("1", TWO_TURNS, [({"x": 4}, 8)]))
    model = ScriptedModel().enqueue("x = 4\n", "print(x * 2)\n")
    config = RunConfig("scripted", limit_s=3.0, state=True)
    results = run_benchmark(problems, model, config, tmp_path / "r.jsonl", progress=io.StringIO())
    assert results[0].outcome == "pass"
    assert model.calls[0][0] == PREFIX + "# Assign 4 to a variable named x.\n"  # nothing yet
    assert model.calls[1][0] == (
        PREFIX + "# Assign 4 to a variable named x.\nx = 4\n\n\n"
        '"""The kernel holds:\nx: int, 4\n"""\n# Print x doubled.\n'
    )
    # The program scored is the reference's: no state block in it.
    assert "kernel holds" not in results[0].completions


def test_the_chat_format_asks_in_chat_judges_the_same_program_and_records_the_format(
    tmp_path: Path,
) -> None:
    import dataclasses

    problems = write(tmp_path, problem("1", TWO_TURNS, [({"x": 1}, 2)]))
    model = ScriptedModel(has_chat_template=True).enqueue(
        "x = 1\n```\n", "Here is the code:\n```python\nprint(x * 2)\n```\nThis prints x."
    )
    config = dataclasses.replace(CONFIG, prompt_format="chat")
    out = tmp_path / "results.jsonl"
    (result,) = run_benchmark(problems, model, config, out, progress=io.StringIO())
    assert result.outcome == "pass" and model.formats == ["chat", "chat"]
    assert result.completions == (
        PREFIX + "# Assign 1 to a variable named x.\nx = 1\n\n# Print x doubled.\nprint(x * 2)\n\n"
    )
    assert model.calls[1][0].endswith(
        "Print x doubled.<|im_end|>\n<|im_start|>assistant\n```python\n"
    )
    assert json.loads(out.read_text().splitlines()[0])["config"]["prompt_format"] == "chat"


def test_fix_and_state_in_chat_tell_the_error_and_the_names_as_chat_messages(
    tmp_path: Path,
) -> None:
    import dataclasses

    problems = write(tmp_path, problem("1", TWO_TURNS, [({"x": 1}, 2)]))
    model = ScriptedModel(has_chat_template=True).enqueue(
        "x = 1\n```\n", "print(X * 2)\n```\n", "print(x * 2)\n```\n"
    )
    config = dataclasses.replace(CONFIG, prompt_format="chat", fix=1, state=True)
    (result,) = run_benchmark(problems, model, config, tmp_path / "r.jsonl", progress=io.StringIO())
    assert result.outcome == "pass" and result.fix_tries == 1
    assert model.formats == ["chat"] * 3
    # The second turn's user message leads with the names; the first had none to tell.
    assert "<|im_start|>user\nThe kernel holds:" not in model.calls[0][0]
    assert model.calls[1][0].endswith(
        "<|im_start|>user\nThe kernel holds:\nx: int, 1\n\nPrint x doubled.<|im_end|>\n"
        "<|im_start|>assistant\n```python\n"
    )
    # The try: the failed code as the assistant's answer, the error as the next user message.
    assert model.calls[2][0].endswith(
        "<|im_start|>assistant\n```python\nprint(X * 2)\n```<|im_end|>\n"
        "<|im_start|>user\nRunning that code failed:\nNameError: name 'X' is not defined\n"
        "Write the corrected code.<|im_end|>\n<|im_start|>assistant\n```python\n"
    )
    assert "gold" not in model.calls[2][0] and "2" not in model.calls[2][0].split("failed:")[1]
    # The program judged holds the final code only, and no state.
    assert result.completions.endswith("# Print x doubled.\nprint(x * 2)\n\n")
    assert "kernel holds" not in result.completions
