"""The command line's tool commands: `mtpb`, `export`, `replay` and `bench`.

Each is an `_add_<name>` that declares its flags and a `cmd_<name>` that wires the seams and
prints. `codegen_ui.cli.main` owns the entry point, the conversation commands (`run`, `serve`) and
the one place where errors become messages; this module only raises `CliError`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

from codegen_ui.settings import Settings


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def add_tool_commands(sub: Any) -> None:
    for add in (_add_mtpb, _add_export, _add_replay, _add_bench):
        add(sub)


def _add_mtpb(sub: Any) -> None:
    p = sub.add_parser(
        "mtpb", help="the paper's Multi-Turn Programming Benchmark, through the app's engine"
    )
    p.add_argument("--data", help="MTPB jsonl file or URL (default: the CodeGen repository's)")
    p.add_argument("--problems", help="ids and ranges, e.g. 1-10,57 (default: all)")
    p.add_argument("--samples", type=int, default=1, help="samples per test case")
    p.add_argument("--temperature", type=float, default=0.2, help="0 = greedy (paper: 0.2)")
    p.add_argument("--top-p", type=float, default=0.95, help="nucleus mass (paper: 0.95)")
    p.add_argument("--seed", type=int, default=0, help="base seed; each sample derives its own")
    p.add_argument("--model", help="hub id or local folder of the model")
    p.add_argument("--out", help="results, one JSON line per sample; a re-run resumes it")
    p.add_argument("--workers", type=int, default=1, help="kernels running programs at once")
    p.set_defaults(func=cmd_mtpb)


def cmd_mtpb(args: argparse.Namespace) -> int:
    from codegen_ui.engine import load_model
    from codegen_ui.kernel import KernelError
    from codegen_ui.mtpb import (
        MtpbError,
        ResultsFile,
        RunConfig,
        fetch_data,
        format_report,
        load_problems,
        run_benchmark,
        select,
        summarize,
    )

    settings = Settings.from_env().replace(model=args.model)
    if args.samples < 1 or args.workers < 1:
        raise CliError("--samples and --workers must be at least 1")
    if args.temperature < 0 or not 0 < args.top_p <= 1:
        raise CliError("--temperature must be 0 or more and --top-p in (0, 1]")
    config = RunConfig(settings.model, args.temperature, args.top_p, args.seed)
    stem = re.sub(r"[^\w.-]+", "_", Path(settings.model.rstrip("/")).name)
    out = Path(
        args.out
        or f"mtpb-results/{stem}-t{config.temperature:g}-p{config.top_p:g}-seed{config.seed}.jsonl"
    )
    try:
        problems = select(load_problems(fetch_data(args.data)), args.problems)
        # A file from another configuration fails here, before the model loads.
        before = set(ResultsFile(out, config).results)
        model = load_model(
            settings.model,
            settings.device,
            lambda m: print(m, file=sys.stderr),
            precision=settings.precision,
            cache_mib=settings.cache_mib,
        )
        start = time.monotonic()
        results = run_benchmark(problems, model, config, out, args.samples, args.workers)
        wall = time.monotonic() - start
    except (MtpbError, KernelError) as exc:
        raise CliError(str(exc)) from None
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


def _add_export(sub: Any) -> None:
    export = sub.add_parser("export", help="write a notebook as a Python script or a session")
    export.add_argument("notebook", help="a saved session, or any Jupyter notebook")
    export.add_argument("--to", choices=["py", "ipynb"], required=True, help="what to write")
    export.add_argument(
        "--out",
        help="file to write, '-' for stdout (default: next to NOTEBOOK, .py or .session.ipynb)",
    )
    export.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    export.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from codegen_ui.notebooks import (
        NotebookError,
        convert,
        dumps,
        load,
        to_notebook,
        to_script,
        write_atomic,
    )

    source = Path(args.notebook)
    try:
        result = convert(load(source))
    except NotebookError as exc:
        raise CliError(str(exc)) from None
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.to == "py":
        text, default = to_script(result.turns, result.meta["preamble"]), source.with_suffix(".py")
    else:
        text = dumps(to_notebook(result.turns, result.meta))
        default = source.with_name(source.stem + ".session.ipynb")
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out or default)
    if out.resolve() == source.resolve():
        raise CliError(f"{out} is the notebook being exported; choose another --out")
    if out.exists() and not args.force:
        raise CliError(f"{out} exists; pass --force to overwrite it")
    try:
        write_atomic(out, text)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror}") from None
    print(f"wrote {len(result.turns)} turns to {out}")
    return 0


def _add_replay(sub: Any) -> None:
    p = sub.add_parser(
        "replay", help="re-run a notebook's code cells in order in one fresh sandboxed kernel"
    )
    p.add_argument("notebook", help="the .ipynb to replay")
    p.add_argument("--out", help="notebook to write (default: the input, in place)")
    p.add_argument("--timeout", dest="run_timeout", type=float, help="seconds per cell")
    p.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    """Exit status 0 when every cell ran without error, 1 otherwise, 2 when it could not run."""
    from codegen_ui.kernel import Kernel, KernelConfig, KernelError
    from codegen_ui.notebooks import NotebookError, load, replay_notebook, save

    settings = Settings.from_env().replace(run_timeout=args.run_timeout)
    try:
        nb = load(args.notebook)
    except NotebookError as exc:
        raise CliError(str(exc)) from None
    kernel = Kernel(config=KernelConfig.from_settings(settings))
    try:
        kernel.start()
    except KernelError as exc:
        raise CliError(str(exc)) from None
    print(kernel.describe(), flush=True)
    try:
        reports = replay_notebook(
            nb, kernel, settings.run_timeout, lambda r: print(r.line(), flush=True)
        )
    finally:
        kernel.shutdown()
    out = Path(args.out or args.notebook)
    out.parent.mkdir(parents=True, exist_ok=True)
    save(nb, out)
    bad = [r for r in reports if r.status not in ("ok", "empty")]
    print(f"replayed {len(reports)} code cells ({len(bad)} not ok) into {out}")
    return 1 if bad else 0


def _add_bench(sub: Any) -> None:
    bench = sub.add_parser(
        "bench", help="measure the engine against plain float32 transformers (slow: minutes)"
    )
    bench.add_argument("--json", dest="json_path", help="also write the figures to this file")
    bench.add_argument(
        "--model",
        help="model folder or hub id (default: codegen-350M-mono's architecture "
        "with random weights, built and cached on first use)",
    )
    bench.add_argument("--repeats", type=int, default=3, help="repetitions (medians quoted)")
    bench.add_argument(
        "--histories", default="0,500,1000,1500", help="history sizes in tokens, comma-separated"
    )
    bench.add_argument("--session-turns", type=int, default=10, help="turns of the session")
    bench.add_argument("--new-tokens", type=int, default=64, help="tokens for the decode rate")
    bench.add_argument("--turn-tokens", type=int, default=32, help="most tokens a session turn")
    bench.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    import json

    from codegen_ui.bench import Plan, run, table

    try:
        histories = tuple(int(h) for h in args.histories.split(","))
    except ValueError:
        raise CliError(f"--histories must be whole numbers, not {args.histories!r}") from None
    if args.model:
        model = args.model
    else:
        from codegen_ui.bench import build, default_dir

        if not (default_dir() / "config.json").exists():
            print("building the benchmark model (once, about a minute) ...", file=sys.stderr)
        model = str(build())
    plan = Plan(
        model, args.repeats, histories, args.session_turns, args.new_tokens, args.turn_tokens
    )
    try:
        result = run(plan, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    except RuntimeError as exc:
        raise CliError(str(exc)) from None
    print(table(result))
    if args.json_path:
        out = Path(args.json_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0
