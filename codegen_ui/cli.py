"""The command line: `codegen-ui run` and friends. Parses flags, wires the seams, prints.

Domain errors become one clear line on stderr and a non-zero exit, here and nowhere else.
Errors raised by generated code are results, not failures.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from codegen_ui.prompt import PREAMBLE
from codegen_ui.settings import Settings, SettingsError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def output_text(output: dict[str, Any]) -> str:
    """A kernel output as plain terminal text."""
    kind = output.get("output_type")
    if kind == "stream":
        return str(output.get("text", ""))
    if kind == "error":
        return _ANSI.sub("", "\n".join(output.get("traceback", []))) + "\n"
    data = output.get("data", {})
    if "text/plain" in data:
        text = data["text/plain"]
        return ("".join(text) if isinstance(text, list) else str(text)) + "\n"
    return f"[{', '.join(sorted(data))}]\n"


def read_turns_file(path: str) -> list[str]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CliError(f"turns file {path!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read turns file {path!r}: {exc}") from None
    turns = [line.strip() for line in lines if line.strip()]
    if not turns:
        raise CliError(f"turns file {path!r} has no instructions (one per non-empty line)")
    return turns


def _add_model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="hub id or local folder of the model")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where the model runs")
    p.add_argument("--max-new-tokens", type=int, help="most tokens per turn")
    p.add_argument("--temperature", type=float, help="0 = greedy")
    p.add_argument("--top-p", type=float, help="nucleus sampling mass")
    p.add_argument("--seed", type=int, help="sampling seed")


def _settings(args: argparse.Namespace) -> Settings:
    keys = ("model", "device", "max_new_tokens", "temperature", "top_p", "seed", "run_timeout")
    return Settings.from_env().replace(**{k: getattr(args, k, None) for k in keys})


def cmd_run(args: argparse.Namespace) -> int:
    from codegen_ui.kernel import Kernel, KernelError
    from codegen_ui.model import SamplingParams, load_model
    from codegen_ui.notebook import save, to_notebook
    from codegen_ui.prompt import PromptTooLongError
    from codegen_ui.sandbox import KernelConfig
    from codegen_ui.session import Session, finish

    settings = _settings(args)
    instructions = read_turns_file(args.turns_file)
    earlier, meta = _resumed(args)
    model = load_model(
        settings.model, settings.device, precision=settings.precision, cache_mib=settings.cache_mib
    )
    params = SamplingParams(
        settings.max_new_tokens, settings.temperature, settings.top_p, settings.seed
    )
    out = Path(args.out or args.resume or _default_out(settings))
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        kernel = Kernel(config=KernelConfig.from_settings(settings))
        kernel.start()
    except KernelError as exc:
        raise CliError(str(exc)) from None
    try:
        session = Session(model, kernel, earlier, settings.run_timeout, meta["preamble"])
        session.on_change = lambda s: save(to_notebook(s.turns, {**meta, "model": model.name}), out)
        if earlier and not args.no_replay:
            _replay(session)
        for number, instruction in enumerate(instructions, 1):
            print(f"\n=== turn {number}: {instruction}", flush=True)
            try:
                turn = finish(session.add_turn(instruction, params))
            except (PromptTooLongError, KernelError) as exc:
                raise CliError(str(exc)) from None
            if args.show_prompt and session.last_prompt is not None:
                print(f"--- prompt ({session.last_prompt.tokens} tokens) ---")
                print(session.last_prompt.text, end="")
                print("--- end of prompt ---")
            print(turn.code if turn.code.strip() else "(no code)")
            for output in turn.outputs:
                print(output_text(output), end="")
            if turn.message:
                print(f"[{turn.status}] {turn.message}")
    finally:
        kernel.shutdown()
    print(f"\nsaved {len(session.turns)} turns to {out}")
    return 0


def _default_out(settings: Settings) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(settings.sessions_dir) / f"run-{stamp}.ipynb"


def _add_serve(sub: Any) -> None:
    serve = sub.add_parser("serve", help="start the web app")
    serve.add_argument("--model", help="hub id or local folder of the model")
    serve.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where the model runs")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 7860)")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from codegen_ui.ui import serve

    settings = Settings.from_env().replace(
        model=args.model, device=args.device, host=args.host, port=args.port
    )
    serve(settings)
    return 0


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
    from codegen_ui.kernel import KernelError
    from codegen_ui.model import load_model
    from codegen_ui.mtpb import MtpbError, fetch_data, load_problems, select
    from codegen_ui.mtpb_report import format_report, summarize
    from codegen_ui.mtpb_run import ResultsFile, RunConfig, run_benchmark

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


def _add_resume_flags(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--resume",
        metavar="NOTEBOOK",
        help="continue this saved session with the same prompt history; saved back to it "
        "unless --out is given",
    )
    run.add_argument(
        "--no-replay",
        action="store_true",
        help="with --resume: do not re-run the earlier turns to rebuild the kernel's state",
    )


def _resumed(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any]]:
    """The earlier turns and metadata of `--resume NOTEBOOK` (none without it)."""
    from codegen_ui.nbimport import convert
    from codegen_ui.notebook import NotebookError, load
    from codegen_ui.session import now

    fresh = {"title": Path(args.turns_file).stem, "created": now(), "preamble": PREAMBLE}
    if not args.resume:
        return [], fresh
    try:
        result = convert(load(args.resume))
    except NotebookError as exc:
        raise CliError(str(exc)) from None
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.dropped and not args.out:
        raise CliError(
            f"{args.resume} has cells a session does not keep; saving back would drop them, "
            "so give --out for the continued session"
        )
    kept = {k: v for k, v in result.meta.items() if k not in ("updated", "version")}
    return list(result.turns), {**fresh, **kept}


def _replay(session: Any) -> None:
    """Re-run the resumed turns: the kernel's variables are not saved, only the code."""
    for _ in session.replay():
        pass
    ran = [t for t in session.turns if t.code.strip()]
    failed = sum(t.status != "ok" for t in ran)
    print(f"replayed {len(ran)} earlier turns" + (f" ({failed} failed)" if failed else ""))


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
    from codegen_ui.nbimport import convert
    from codegen_ui.notebook import NotebookError, dumps, load, to_notebook, to_script, write_atomic

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
    from codegen_ui.kernel import Kernel, KernelError
    from codegen_ui.notebook import NotebookError, load, save
    from codegen_ui.replay import replay_notebook
    from codegen_ui.sandbox import KernelConfig

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
        from codegen_ui.benchmodel import build, default_dir

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codegen-ui", description="Conversational program synthesis in a notebook."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the turns of a file, one instruction per line")
    run.add_argument("turns_file", help="text file, one instruction per non-empty line")
    run.add_argument("--out", help="notebook to write (default: sessions/run-<time>.ipynb)")
    run.add_argument("--show-prompt", action="store_true", help="print each exact prompt")
    run.add_argument("--timeout", dest="run_timeout", type=float, help="seconds per cell")
    _add_model_flags(run)
    run.set_defaults(func=cmd_run)
    _add_mtpb(sub)
    _add_resume_flags(run)
    _add_export(sub)
    _add_replay(sub)
    _add_serve(sub)
    _add_bench(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from codegen_ui.model import ModelLoadError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (CliError, ModelLoadError, SettingsError) as exc:
        print(f"codegen-ui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("codegen-ui: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
