"""`codegen-ui mtpb` (sample with the app's engine, then score) and `codegen-ui mtpb score`
(score samples made elsewhere), the paper's Multi-Turn Programming Benchmark.

Parses the flags, loads the problems (and the model), runs or resumes the samples and prints
the report; the benchmark itself lives in `codegen_ui.mtpb`.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from codegen_ui.cli.common import (
    CliError,
    add_fix_flag,
    add_run_flags,
    add_server_flags,
    kernel_settings,
    load_benchmark_model,
    model_stem,
    run_fields,
    run_stem,
)
from codegen_ui.errors import require_extra
from codegen_ui.settings import Settings


def add(sub: Any) -> None:
    from codegen_ui.mtpb import RunConfig

    p = sub.add_parser(
        "mtpb", help="the paper's Multi-Turn Programming Benchmark, through the app's engine"
    )
    _add_shared(p)
    p.add_argument("--problems", help="ids and ranges, e.g. 1-10,57 (default: all)")
    p.add_argument("--samples", type=int, default=1, help="samples per test case")
    p.add_argument(
        "--cases",
        type=int,
        help="run each problem's first N test cases only (default: all; the report says so)",
    )
    add_run_flags(p, RunConfig, f"{RunConfig.temperature:g}")
    p.add_argument(
        "--no-clean-up",
        dest="clean_up",
        action="store_false",
        help="keep the decoded completion as it is (the reference drops spaces before . , ? !)",
    )
    add_fix_flag(p, "a turn whose program raised, shown its error (never the gold output)")
    p.add_argument(
        "--state",
        action="store_true",
        help="tell the model what the program's names hold before each turn",
    )
    add_server_flags(p, prompt_format="paper")
    p.set_defaults(func=cmd_mtpb)
    actions = p.add_subparsers(dest="action", metavar="{score}")
    s = actions.add_parser(
        "score", help="execute and score samples another engine made (the reference's format)"
    )
    s.add_argument("samples_file", metavar="SAMPLES.jsonl", help="one JSON sample a line")
    _add_shared(s, inherit=True)
    s.set_defaults(func=cmd_score)


def _add_shared(p: argparse.ArgumentParser, inherit: bool = False) -> None:
    # inherit: a subcommand's flags may also stand before it (`mtpb --checkers 2 score F`); no
    # default of its own, so argparse keeps the value the parent parsed.
    none: Any = argparse.SUPPRESS if inherit else None
    p.add_argument(
        "--data", default=none, help="MTPB jsonl file or URL (default: the CodeGen repository's)"
    )
    p.add_argument("--out", default=none, help="results, one JSON line per sample; resumable")
    p.add_argument("--kernels", metavar="URL", default=none, help="a kernel gateway to run on")
    p.add_argument("--kernel-spec", metavar="NAME", default=none, help="the gateway's spec")
    p.add_argument(
        "--checkers",
        type=int,
        default=none,
        help="kernels running programs at once, one sample each (default 1; as in humaneval)",
    )
    p.add_argument(
        "--workers",
        dest="old_workers",
        type=int,
        default=none,
        help="deprecated: the old name of --checkers here, accepted until the next release "
        "(in humaneval, --workers is generations in flight)",
    )


def checkers(args: argparse.Namespace) -> int:
    """The kernels to run programs on: --checkers, else the deprecated --workers (said so on
    stderr), else 1."""
    count = getattr(args, "checkers", None)
    old = getattr(args, "old_workers", None)
    if old is not None:
        print(
            "codegen-ui: mtpb --workers is deprecated (it counted kernels): use --checkers; "
            "--workers goes in the next release",
            file=sys.stderr,
        )
        count = old if count is None else count
    count = 1 if count is None else count
    if count < 1:
        raise CliError("--checkers must be at least 1")
    return int(count)


def need_problem_libraries(settings: Settings) -> None:
    """Two of MTPB's problems import scikit-learn (the `eval` extra): kernels on this machine
    must find it, or those problems fail for want of it, not for the model's code."""
    if not settings.kernels:
        require_extra("eval", "MTPB (two of its problems import scikit-learn)", "sklearn")


def cmd_mtpb(args: argparse.Namespace) -> int:
    from codegen_ui.kernel import kernel_maker
    from codegen_ui.mtpb import ResultsFile, RunConfig, run_benchmark

    settings = Settings.from_env().replace(
        model=args.model,
        served_model=args.served_model,
        tokenizer=args.tokenizer,
        **kernel_settings(args),
    )
    need_problem_libraries(settings)
    make = kernel_maker(settings)
    kernels = checkers(args)
    if args.samples < 1:
        raise CliError("--samples must be at least 1")
    config = RunConfig(settings.model, clean_up=args.clean_up, state=args.state, **run_fields(args))
    config.check()
    name = run_stem(model_stem(settings), config) + ("-state" if config.state else "")
    out = Path(args.out or f"mtpb-results/{name}.jsonl")
    universe, problems = _problems(args.data, args.problems)
    if args.cases is not None:
        if args.cases < 1:
            raise CliError("--cases must be at least 1")
        problems = [replace(p, cases=p.cases[: args.cases]) for p in problems]
    # A file from another configuration fails here, before the model loads.
    before = set(ResultsFile(out, config).results)
    model = load_benchmark_model(settings)
    if config.prompt_format == "chat" and not model.has_chat_template:
        raise CliError(f"{model.name} has no chat template: --prompt-format chat cannot run")
    start = time.monotonic()
    results = run_benchmark(
        problems, model, config, out, args.samples, kernels, kernel_factory=lambda: make(None)
    )
    _print_report(problems, universe, results, config, args.samples, before, start, kernels)
    if args.cases is not None:
        print(f"test cases: each problem's first {args.cases} only (--cases {args.cases})")
    print(f"results: {out}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from codegen_ui.kernel import kernel_maker
    from codegen_ui.mtpb import ResultsFile, read_samples, score_config, score_samples

    kernels = checkers(args)
    settings = Settings.from_env().replace(**kernel_settings(args))
    need_problem_libraries(settings)
    source = Path(args.samples_file)
    universe, _ = _problems(args.data, None)
    samples = read_samples(source, universe)
    config = score_config(source, 20.0)
    out = Path(args.out or source.with_name(source.stem + ".scored.jsonl"))
    if out.resolve() == source.resolve():
        raise CliError(f"{out} is the samples file; choose another --out")
    before = set(ResultsFile(out, config).results)
    start = time.monotonic()
    make = kernel_maker(settings)
    results = score_samples(samples, config, out, kernels, kernel_factory=lambda: make(None))
    per_case = max(s.key[2] for s in samples) + 1
    _print_report(universe, universe, results, config, per_case, before, start, kernels)
    print(f"results: {out}")
    return 0


def _problems(data: str | None, spec: str | None) -> tuple[list[Any], list[Any]]:
    from codegen_ui.mtpb import fetch_data, load_problems, select

    universe = load_problems(fetch_data(data))
    return universe, select(universe, spec)


def _print_report(
    problems: list[Any],
    universe: list[Any],
    results: list[Any],
    config: Any,
    samples: int,
    before: set[Any],
    start: float,
    kernels: int,
) -> None:
    from codegen_ui.mtpb import format_report, summarize

    wall = time.monotonic() - start
    print(format_report(summarize(problems, results, config, samples, universe)), end="")
    new = [r for r in results if r.key not in before]
    if new:
        ran = len({r.problem for r in new})
        print(
            f"this run: {len(new)} samples of {ran} problems in {wall:.1f} s wall with "
            f"{kernels} kernel(s), {wall / ran:.1f} s per problem"
        )
