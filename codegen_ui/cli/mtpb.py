"""`codegen-ui mtpb`: the paper's Multi-Turn Programming Benchmark through the app's engine.

Parses the flags, loads the problems and the model, runs (or resumes) the samples and prints
the report; the benchmark itself lives in `codegen_ui.mtpb`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codegen_ui.cli.common import CliError, add_server_flags
from codegen_ui.settings import Settings


def add(sub: Any) -> None:
    p = sub.add_parser(
        "mtpb", help="the paper's Multi-Turn Programming Benchmark, through the app's engine"
    )
    p.add_argument("--data", help="MTPB jsonl file or URL (default: the CodeGen repository's)")
    p.add_argument("--problems", help="ids and ranges, e.g. 1-10,57 (default: all)")
    p.add_argument("--samples", type=int, default=1, help="samples per test case")
    p.add_argument("--temperature", type=float, default=0.2, help="0 = greedy (paper: 0.2)")
    p.add_argument("--top-p", type=float, default=0.95, help="nucleus mass (paper: 0.95)")
    p.add_argument("--seed", type=int, default=0, help="base seed; each sample derives its own")
    add_server_flags(p)
    p.add_argument("--out", help="results, one JSON line per sample; a re-run resumes it")
    p.add_argument("--workers", type=int, default=1, help="kernels running programs at once")
    p.set_defaults(func=cmd_mtpb)


def cmd_mtpb(args: argparse.Namespace) -> int:
    from codegen_ui.engine import is_server_url, load_model, server_options
    from codegen_ui.mtpb import (
        ResultsFile,
        RunConfig,
        fetch_data,
        format_report,
        load_problems,
        run_benchmark,
        select,
        summarize,
    )

    settings = Settings.from_env().replace(
        model=args.model, served_model=args.served_model, tokenizer=args.tokenizer
    )
    if args.samples < 1 or args.workers < 1:
        raise CliError("--samples and --workers must be at least 1")
    if args.temperature < 0 or not 0 < args.top_p <= 1:
        raise CliError("--temperature must be 0 or more and --top-p in (0, 1]")
    config = RunConfig(settings.model, args.temperature, args.top_p, args.seed)
    named = settings.model.rstrip("/")
    if is_server_url(named):  # a server: its model's name, else its address
        named = settings.served_model.rstrip("/") or urlsplit(named).netloc
    stem = re.sub(r"[^\w.-]+", "_", Path(named).name)
    out = Path(
        args.out
        or f"mtpb-results/{stem}-t{config.temperature:g}-p{config.top_p:g}-seed{config.seed}.jsonl"
    )
    problems = select(load_problems(fetch_data(args.data)), args.problems)
    # A file from another configuration fails here, before the model loads.
    before = set(ResultsFile(out, config).results)
    model = load_model(
        settings.model,
        settings.device,
        lambda m: print(m, file=sys.stderr),
        precision=settings.precision,
        cache_mib=settings.cache_mib,
        server=server_options(settings),
    )
    start = time.monotonic()
    results = run_benchmark(problems, model, config, out, args.samples, args.workers)
    wall = time.monotonic() - start
    print(format_report(summarize(problems, results, config, args.samples)), end="")
    new = [r for r in results if r.key not in before]
    if new:
        ran = len({r.problem for r in new})
        print(
            f"this run: {len(new)} samples of {ran} problems in {wall:.1f} s wall with "
            f"{args.workers} worker(s), {wall / ran:.1f} s per problem"
        )
    print(f"results: {out}")
    return 0
