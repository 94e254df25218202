"""The MTPB report: pass rates overall, per category and per problem, from sample results.

The pass rate is passed samples over samples (each one test case of one problem), first over
the runnable problems run, then on the paper's basis: over every test case of all the
problems in the data (115), a sample not run or not runnable counting as failed. Beside it,
the rate by the reference's rules exactly (which never pass a dict or None gold). Problems
whose data are defective are listed with what is wrong. Pure: it reads results and problems,
and returns data or text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from codegen_ui.mtpb.problems import Problem
from codegen_ui.mtpb.results import RunConfig, SampleResult

PAPER_350M_MONO = (16.98, 5.75)  # MTPB pass rate of CodeGen-Mono 350M: multi-turn, single-turn
REFERENCE_PROMPT_TOKENS = 1024  # the reference's tokenizer cuts every prompt to this many


@dataclass(frozen=True)
class Tally:
    passed: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.rate:6.2f} %  ({self.passed} / {self.total})"


@dataclass(frozen=True)
class ProblemLine:
    id: str
    name: str
    category: str
    tally: Tally
    outcomes: dict[str, int]  # how the samples ended: pass, wrong, error, ...
    seconds: float  # summed over its samples


@dataclass(frozen=True)
class Report:
    config: RunConfig
    overall: Tally
    by_category: dict[str, Tally]
    problems: tuple[ProblemLine, ...]
    outcomes: dict[str, int]
    defective: tuple[tuple[str, str, tuple[str, ...]], ...]  # (id, name, what is wrong)
    samples_per_case: int = 1
    paper_basis: Tally = Tally()  # passed over every test case of every problem in the data
    basis_problems: int = 0  # how many problems that basis counts
    reference: Tally = Tally()  # the runnable rate by the reference's rules exactly
    long_prompts: int = 0  # samples with a prompt over REFERENCE_PROMPT_TOKENS tokens
    fix_tries: int = 0  # `--fix`: tries made at turns that raised, over every sample
    fix_tokens: int = 0  # the tokens they wrote


def _tally(results: Sequence[SampleResult]) -> Tally:
    return Tally(sum(r.passed for r in results), len(results))


def summarize(
    problems: Sequence[Problem],
    results: Sequence[SampleResult],
    config: RunConfig,
    samples: int,
    universe: Sequence[Problem] | None = None,
) -> Report:
    """The report of `results` for `problems`; `universe`: every problem in the data."""
    runnable = {p.id for p in problems if p.runnable}
    everything = universe or problems
    basis = samples * sum(len(p.cases) for p in everything)
    results = list(results)
    kept = [r for r in results if r.id in runnable]
    by_problem: dict[str, list[SampleResult]] = {}
    for r in kept:
        by_problem.setdefault(r.problem, []).append(r)
    lines = tuple(
        ProblemLine(
            p.id,
            p.name,
            p.category,
            _tally(by_problem.get(p.id, [])),
            dict(Counter(r.outcome for r in by_problem.get(p.id, []))),
            round(sum(r.seconds for r in by_problem.get(p.id, [])), 3),
        )
        for p in problems
        if p.runnable
    )
    categories = sorted({r.category for r in kept})
    return Report(
        config=config,
        overall=_tally(kept),
        by_category={c: _tally([r for r in kept if r.category == c]) for c in categories},
        problems=lines,
        outcomes=dict(Counter(r.outcome for r in kept).most_common()),
        defective=tuple((p.id, p.name, p.defects) for p in problems if p.defects),
        samples_per_case=samples,
        paper_basis=Tally(sum(r.passed for r in results), max(basis, len(results))),
        basis_problems=len(everything),
        fix_tries=sum(r.fix_tries for r in kept),
        fix_tokens=sum(r.fix_tokens for r in kept),
        reference=Tally(sum(r.reference for r in kept), len(kept)),
        long_prompts=sum(r.prompt_tokens > REFERENCE_PROMPT_TOKENS for r in results),
    )


def _settings_line(c: RunConfig) -> str:
    if c.model.startswith("samples:"):
        return f"scored {c.model.removeprefix('samples:')}, {c.limit_s:g} s per program"
    return (
        f"model {c.model}, temperature {c.temperature:g}, top-p {c.top_p:g}, "
        f"top-k {c.top_k or 'off'}, seed {c.seed}, {c.limit_s:g} s per program, "
        f"{c.prompt_format} prompt format"
        + ("" if c.clean_up else ", no decode clean-up")
        + (f", --fix {c.fix}" if c.fix else "")
        + (", --state" if c.state else "")
    )


def format_report(report: Report) -> str:
    run = [p for p in report.problems if p.tally.total]
    out = [
        f"MTPB: {len(run)} problems, {report.overall.total} samples "
        f"({report.samples_per_case} per test case)",
        _settings_line(report.config),
        "",
        f"pass rate {report.overall}  over the runnable problems run",
        f"          {report.paper_basis}  over all {report.basis_problems} problems' test cases "
        "(the paper's basis; not run = failed)",
        f"reference rules {report.reference}  (dict and None golds never pass)",
        "outcomes: " + ", ".join(f"{k} {v}" for k, v in report.outcomes.items()),
        "",
        "by category:",
        *(f"  {name:<14} {tally}" for name, tally in report.by_category.items()),
        "",
        "by problem:",
    ]
    for p in run:
        how = ", ".join(f"{k} {v}" for k, v in sorted(p.outcomes.items()))
        title = f"{p.id:>4} {p.name[:28]:<28} {p.category:<13}"
        out.append(f"{title} {p.tally.passed}/{p.tally.total}  [{how}]")
    if report.defective:
        out += ["", "defective data:"]
        out += [f"{pid:>4} {name}: {'; '.join(what)}" for pid, name, what in report.defective]
    if run:
        seconds = sum(p.seconds for p in run)
        out += [
            "",
            f"time summed over samples: {seconds:.1f} s, {seconds / len(run):.1f} s per "
            f"problem, {seconds / max(report.overall.total, 1):.2f} s per sample",
        ]
    if report.config.fix:
        out.append(
            f"--fix: {report.fix_tries} tries at turns that raised, "
            f"{report.fix_tokens} tokens written by them"
        )
    if report.long_prompts:
        out.append(
            f"{report.long_prompts} samples had a prompt over {REFERENCE_PROMPT_TOKENS} tokens, "
            "which the reference's tokenizer would have cut"
        )
    multi, single = PAPER_350M_MONO
    out.append(
        f"paper, CodeGen-Mono 350M over 115 problems: {multi} % multi-turn, {single} % single-turn"
    )
    return "\n".join(out) + "\n"
