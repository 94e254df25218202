"""The command line: `codegen-ui run` and friends. Parses flags, wires the seams, prints.

Domain errors become one clear line on stderr and a non-zero exit, here and nowhere else.
Errors raised by generated code are results, not failures.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

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
    from codegen_ui.session import Session

    settings = _settings(args)
    instructions = read_turns_file(args.turns_file)
    model = load_model(
        settings.model, settings.device, precision=settings.precision, cache_mib=settings.cache_mib
    )
    params = SamplingParams(
        settings.max_new_tokens, settings.temperature, settings.top_p, settings.seed
    )
    out = Path(args.out) if args.out else _default_out(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        kernel = Kernel()
        kernel.start()
    except KernelError as exc:
        raise CliError(str(exc)) from None
    try:
        session = Session(model, kernel, run_timeout=settings.run_timeout)
        session.on_change = lambda s: save(
            to_notebook(s.turns, {"model": model.name, "title": Path(args.turns_file).stem}), out
        )
        for number, instruction in enumerate(instructions, 1):
            print(f"\n=== turn {number}: {instruction}", flush=True)
            try:
                turn = _last(session.add_turn(instruction, params))
            except PromptTooLongError as exc:
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


def _last(items: Any) -> Any:
    last = None
    for last in items:
        pass
    return last


def _default_out(settings: Settings) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(settings.sessions_dir) / f"run-{stamp}.ipynb"


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
