"""The MTPB pipeline: every (problem, test case, sample) as its own app session, in parallel.

Each sample is a conversation built by the app's own `Session` (so the app's prompt rendering,
model streaming and cutting), run in a kernel through `mtpb_exec.ProgramRunner`, and judged.
`--workers K` gives K kernels, each in its own thread; they share the one model (in process, a
lock serialises generation; a model server batches them). Results are JSON lines, one per
sample, appended as they finish: a re-run skips what the file holds. Report: `mtpb_report`.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from codegen_ui.core import PromptTooLongError, Session, finish, program_text
from codegen_ui.engine import CodeModel, ModelLoadError, SamplingParams
from codegen_ui.kernel import Kernel
from codegen_ui.mtpb.execute import ProgramRunner, Verdict, judge
from codegen_ui.mtpb.problems import MtpbError, Problem

SampleKey = tuple[str, int, int]  # (problem id, test case, sample)


@dataclass(frozen=True)
class RunConfig:
    """What makes two runs' samples comparable; a results file holds one config only."""

    model: str
    temperature: float = 0.2  # the paper's sampling
    top_p: float = 0.95
    seed: int = 0  # each sample's seed is derived from this and the sample's key
    limit_s: float = 20.0  # the reference's time limit per program


@dataclass(frozen=True)
class TurnRecord:
    instruction: str
    code: str
    status: str


@dataclass(frozen=True)
class SampleResult:
    problem: str
    case: int
    sample: int
    category: str
    outcome: str  # pass, wrong, no-print, error, timeout, died, syntax-error
    reason: str
    answer: str  # repr of the printed value
    gold: Any
    seed: int
    max_new_tokens: int
    turns: tuple[TurnRecord, ...]
    generate_s: float
    run_s: float
    seconds: float  # wall time of the whole sample
    config: RunConfig = field(default_factory=lambda: RunConfig(""))

    @property
    def key(self) -> SampleKey:
        return (self.problem, self.case, self.sample)

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    def to_json(self) -> str:
        # ASCII only: model-written code may hold U+2028 or U+0085, which split lines for
        # `str.splitlines` and many JSON-lines readers; escaped, a record stays one line.
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, line: str) -> SampleResult:
        raw = json.loads(line)
        raw["turns"] = tuple(TurnRecord(**t) for t in raw["turns"])
        raw["config"] = RunConfig(**raw["config"])
        return cls(**raw)


def sample_seed(base: int, key: SampleKey) -> int:
    """A seed per sample that does not depend on run order, so runs and re-runs agree."""
    return zlib.crc32(f"{base}:{key[0]}:{key[1]}:{key[2]}".encode()) & 0x7FFFFFFF


def run_sample(
    model: CodeModel, runner: ProgramRunner, problem: Problem, key: SampleKey, config: RunConfig
) -> SampleResult:
    """Generate one test case's conversation turn by turn, run it, and judge its answer."""
    start = time.monotonic()
    case = key[1]
    seed = sample_seed(config.seed, key)
    # A small-context model could not fit 512 new tokens at all; CodeGen (2048) never hits this.
    max_new = min(problem.max_gen_length, model.context_size // 2)
    params = SamplingParams(max_new, config.temperature, config.top_p, seed)
    runner.begin()
    # The runner's begin() already set up the namespace and ran the preamble for this program.
    session = Session(model, runner, run_timeout=config.limit_s, run_preamble=False)
    instructions = problem.instructions(case)
    failed = ""
    for number, instruction in enumerate(instructions, 1):
        runner.final = number == len(instructions)
        try:
            turn = finish(session.add_turn(instruction, params))
        except PromptTooLongError as exc:
            failed = f"turn {number} could not be generated: {exc}"
            break
        if turn.stats.stop_reason == "error":  # a model server failed: stop, keep what is done
            raise ModelLoadError(f"{turn.message}; the results so far are kept")
    answer = runner.answer()
    gold = problem.cases[case][1]
    verdict = judge(program_text(session.history()), runner, answer, gold)
    if failed:
        verdict = Verdict("error", failed)
    return SampleResult(
        problem=problem.id,
        case=case,
        sample=key[2],
        category=problem.category,
        outcome=verdict.outcome,
        reason=verdict.reason,
        answer=verdict.answer,
        gold=gold,
        seed=seed,
        max_new_tokens=max_new,
        turns=tuple(TurnRecord(t.instruction, t.code, t.status) for t in session.turns),
        generate_s=round(sum(t.stats.generate_s for t in session.turns), 3),
        run_s=round(sum(r.seconds for r in runner.results), 3),
        seconds=round(time.monotonic() - start, 3),
        config=config,
    )


class ResultsFile:
    """The JSON lines file of one run: read on open, appended to sample by sample."""

    def __init__(self, path: Path, config: RunConfig) -> None:
        self.path = path
        self.config = config
        self.results: dict[SampleKey, SampleResult] = {}
        self._lock = threading.Lock()
        if path.exists():
            self._load()

    def _load(self) -> None:
        text = self.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):
            # The last line was cut by a crash mid-write: drop it, so that sample runs again.
            text = text[: text.rfind("\n") + 1]
            self.path.write_text(text, encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            try:
                result = SampleResult.from_json(line)
            except (ValueError, TypeError, KeyError) as exc:
                raise MtpbError(f"{self.path}:{number} is not an MTPB result ({exc})") from None
            if result.config != self.config:
                raise MtpbError(
                    f"{self.path} holds results of another configuration ({result.config}); "
                    "pass a different --out, or delete the file to start again"
                )
            self.results[result.key] = result

    def add(self, result: SampleResult) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(result.to_json() + "\n")
            self.results[result.key] = result


class Progress:
    """A one-line progress bar with the time left, on stderr (one line per update off a TTY)."""

    def __init__(self, total: int, stream: TextIO | None = None, every_s: float = 10.0) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self.start = time.monotonic()
        self.done = self.passed = 0
        self._last = 0.0

    def update(self, result: SampleResult) -> None:
        self.done += 1
        self.passed += result.passed
        now = time.monotonic()
        if not self.tty and now - self._last < self.every_s and self.done < self.total:
            return
        self._last = now
        line = self.line(now - self.start)
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()

    def line(self, elapsed: float) -> str:
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        filled = int(30 * self.done / self.total) if self.total else 30
        return (
            f"mtpb [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
            f"passed {self.passed}  elapsed {_clock(elapsed)}  left ~{_clock(left)}"
        )


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def sample_keys(problems: Iterable[Problem], samples: int) -> list[SampleKey]:
    """Every sample of the runnable problems, problem by problem."""
    return [
        (p.id, case, n)
        for p in problems
        if p.runnable
        for case in range(len(p.cases))
        for n in range(samples)
    ]


def run_benchmark(
    problems: list[Problem],
    model: CodeModel,
    config: RunConfig,
    out: Path,
    samples: int = 1,
    workers: int = 1,
    progress: TextIO | None = None,
    kernel_factory: Callable[[], Kernel] = Kernel,
) -> list[SampleResult]:
    """Run every sample not yet in `out`; return all results for these problems, in order."""
    results = ResultsFile(out, config)
    keys = sample_keys(problems, samples)
    todo = [k for k in keys if k not in results.results]
    if todo:
        by_id = {p.id: p for p in problems}
        _run_pool(todo, by_id, model, config, results, max(1, workers), progress, kernel_factory)
    return [results.results[k] for k in keys]


def _run_pool(
    todo: list[SampleKey],
    problems: dict[str, Problem],
    model: CodeModel,
    config: RunConfig,
    results: ResultsFile,
    workers: int,
    stream: TextIO | None,
    kernel_factory: Callable[[], Kernel],
) -> None:
    jobs: queue.Queue[SampleKey] = queue.Queue()
    for key in todo:
        jobs.put(key)
    finished: queue.Queue[SampleResult | BaseException] = queue.Queue()
    stop = threading.Event()
    kernels: list[Kernel] = []
    threads: list[threading.Thread] = []
    try:
        for _ in range(min(workers, len(todo))):
            kernels.append(kernel_factory())
            kernels[-1].start()  # one at a time: a failure surfaces here, plainly
        for n, kernel in enumerate(kernels):

            def work(kernel: Kernel = kernel) -> None:
                runner = ProgramRunner(kernel, config.limit_s)
                while not stop.is_set():
                    try:
                        key = jobs.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        finished.put(run_sample(model, runner, problems[key[0]], key, config))
                    except BaseException as exc:  # surfaced by the main thread
                        finished.put(exc)
                        return

            thread = threading.Thread(target=work, daemon=True, name=f"mtpb-worker-{n}")
            thread.start()
            threads.append(thread)
        progress = Progress(len(todo), stream)
        for _ in todo:
            item = finished.get()
            if isinstance(item, BaseException):
                raise item
            results.add(item)
            progress.update(item)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)  # let a sample in flight finish before its kernel goes
        for kernel in kernels:
            kernel.shutdown()
