"""`mtpb score`: execute and judge samples another engine (or this runner) produced.

A samples file is JSON lines in the reference sampler's format (`id`, `input`, `gold_output`,
`completions`, `prompts_completions`), which this runner's results files also are. Each line
is one sample; its program is `completions` (else the joined `prompts_completions`), its gold
the line's `gold_output`, as the reference's scorer reads them. Its test case is the index of
its `input` (and gold) among the problem's test cases in the data; the n-th line with the
same problem and case is sample n. The results go to a results file like a run's, so a re-run
resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from codegen_ui.kernel import Kernel, LiveKernel
from codegen_ui.mtpb.execute import Executor
from codegen_ui.mtpb.parallel import run_pool
from codegen_ui.mtpb.problems import MtpbError, Problem
from codegen_ui.mtpb.results import ResultsFile, RunConfig, SampleKey, SampleResult


@dataclass(frozen=True)
class Sample:
    key: SampleKey
    category: str
    input: dict[str, Any]
    gold_output: Any
    program: str
    pieces: tuple[str, ...]


def read_samples(path: Path, problems: list[Problem]) -> list[Sample]:
    """Every sample in a file, keyed by (problem, test case, n); raises MtpbError on a bad line."""
    by_id = {p.id: p for p in problems}
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as exc:
        raise MtpbError(f"cannot read samples {str(path)!r}: {exc.strerror or exc}") from None
    seen: dict[tuple[str, int], int] = {}
    samples = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            pid = str(raw["id"])
            inputs = raw.get("input", {})
            pieces = tuple(str(p) for p in raw.get("prompts_completions") or ())
            program = raw["completions"] if "completions" in raw else "".join(pieces)
            gold = raw["gold_output"]
        except (ValueError, KeyError, TypeError) as exc:
            raise MtpbError(f"{path}:{number} is not an MTPB sample ({exc!r})") from None
        problem = by_id.get(pid)
        if problem is None:
            raise MtpbError(f"{path}:{number}: no problem with id {pid} in the data")
        case = _case(problem, inputs, gold, seen)
        if case is None:
            raise MtpbError(f"{path}:{number}: its input is none of problem {pid}'s test cases")
        n = seen.get((pid, case), 0)
        seen[(pid, case)] = n + 1
        samples.append(Sample((pid, case, n), problem.category, inputs, gold, str(program), pieces))
    if not samples:
        raise MtpbError(f"{path} holds no samples")
    return samples


def _case(problem: Problem, inputs: Any, gold: Any, seen: dict[tuple[str, int], int]) -> int | None:
    """The test case with this input (and gold), the least sampled so far when several are
    alike (problem 10 has the same input twice), so a file with each case once maps one to one."""
    alike = [c for c, (known, _) in enumerate(problem.cases) if known == inputs]
    same_gold = [c for c in alike if problem.cases[c][1] == gold]
    cases = same_gold or alike
    return min(cases, key=lambda c: seen.get((problem.id, c), 0)) if cases else None


def score_config(path: Path, limit_s: float) -> RunConfig:
    """The results' configuration: the samples file, no sampling settings of this runner."""
    return RunConfig(
        f"samples:{path.name}", temperature=0.0, top_p=0.0, top_k=0, limit_s=limit_s, clean_up=False
    )


def score_samples(
    samples: list[Sample],
    config: RunConfig,
    out: Path,
    workers: int = 1,
    progress: TextIO | None = None,
    kernel_factory: Callable[[], LiveKernel] = Kernel,
) -> list[SampleResult]:
    """Score every sample not yet in `out`; return all their results, in file order."""
    results = ResultsFile(out, config)
    by_key = {s.key: s for s in samples}
    todo = [s.key for s in samples if s.key not in results.results]
    if todo:

        def job(executor: Executor, key: SampleKey) -> SampleResult:
            return score_one(executor, by_key[key], config)

        run_pool(todo, job, results, workers, progress, kernel_factory, config.limit_s)
    return [results.results[s.key] for s in samples]


def score_one(executor: Executor, sample: Sample, config: RunConfig) -> SampleResult:
    start = time.monotonic()
    verdict = executor.score(sample.program, sample.gold_output)
    return SampleResult(
        id=sample.key[0],
        case=sample.key[1],
        sample=sample.key[2],
        category=sample.category,
        input=sample.input,
        gold_output=sample.gold_output,
        completions=sample.program,
        prompts_completions=sample.pieces,
        **verdict.fields(),
        run_s=round(executor.seconds, 3),
        seconds=round(time.monotonic() - start, 3),
        config=config,
    )
