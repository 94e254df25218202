"""`codegen-ui run` and `codegen-ui serve`: a conversation headless, or the web app.

`run` reads one instruction per line, runs each turn through a session in one sandboxed kernel
(started and autosaved by the application layer, `codegen_ui.workspace`, as the page's are), prints
the code and outputs and saves the notebook after every change (`--resume` continues a saved one);
`serve` starts the web app. Errors raised by the generated code are results, not failures."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from codegen_ui.cli.common import (
    CliError,
    add_feedback_flags,
    add_kernel_flags,
    add_model_flags,
    add_server_flags,
    kernel_settings,
    sampling_params,
    settings_from,
)
from codegen_ui.core import PREAMBLE, output_text
from codegen_ui.settings import DEFAULTS, Settings


def read_turns_file(path: str) -> list[str]:
    try:
        # Not splitlines: U+2028 and the like are no line breaks in these files.
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise CliError(f"turns file {path!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read turns file {path!r}: {exc}") from None
    turns = [line.strip() for line in lines if line.strip()]
    if not turns:
        raise CliError(f"turns file {path!r} has no instructions (one per non-empty line)")
    return turns


def cmd_run(args: argparse.Namespace) -> int:
    from codegen_ui.core import finish
    from codegen_ui.kernel import new_kernel
    from codegen_ui.workspace import NotebookFile, SessionOptions, start_session

    settings = settings_from(args)
    instructions = read_turns_file(args.turns_file)
    earlier, meta = _resumed(args)
    from codegen_ui.engine import settings_model

    model = settings_model(settings)
    params = sampling_params(settings)
    out = Path(args.out or args.resume or _default_out(settings))
    out.parent.mkdir(parents=True, exist_ok=True)
    kernel = new_kernel(settings)
    kernel.start()
    try:
        # Started as the page's and the API's sessions are, from the same settings; every change
        # is saved to the one notebook file.
        options = SessionOptions.from_settings(settings)
        session = start_session(model, kernel, options, earlier, meta["preamble"])
        print(f"model: {model.describe()} · prompt format: {session.prompt_format}", flush=True)
        session.on_change = NotebookFile(out, meta, model.name)
        if earlier and not args.no_replay:
            _replay(session)
        for number, instruction in enumerate(instructions, 1):
            print(f"\n=== turn {number}: {instruction}", flush=True)
            turn = finish(session.add_turn(instruction, params))
            if args.show_prompt and session.last_prompt is not None:
                fitted = session.last_prompt
                print(f"--- {fitted.prompt_format} prompt ({fitted.tokens} tokens) ---")
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
    add_server_flags(serve)
    serve.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where the model runs")
    serve.add_argument("--host", help=f"address to listen on (default {DEFAULTS.host})")
    serve.add_argument("--port", type=int, help=f"port to listen on (default {DEFAULTS.port})")
    add_kernel_flags(serve)
    add_feedback_flags(serve)
    serve.add_argument(
        "--api",
        action=argparse.BooleanOptionalAction,
        default=None,
        help='the session API for scripts and agents, on "Use via API" (default: on)',
    )
    serve.add_argument(
        "--mcp",
        action="store_true",
        default=None,
        help="also serve the API's operations as MCP tools at /gradio_api/mcp",
    )
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from codegen_ui.web import serve

    settings = Settings.from_env().replace(
        model=args.model,
        served_model=args.served_model,
        tokenizer=args.tokenizer,
        prompt_format=args.prompt_format,
        device=args.device,
        host=args.host,
        port=args.port,
        **kernel_settings(args),
        api=args.api,
        mcp=args.mcp,
        auto_fix=args.auto_fix,
        kernel_state=args.kernel_state,
    )
    if settings.mcp and importlib.util.find_spec("mcp") is None:
        raise CliError("--mcp needs the mcp package: pip install 'codegen-ui[mcp]'")
    serve(settings)
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
    from codegen_ui.core import now
    from codegen_ui.notebooks import convert, load

    fresh = {"title": Path(args.turns_file).stem, "created": now(), "preamble": PREAMBLE}
    if not args.resume:
        return [], fresh
    result = convert(load(args.resume))
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


def add(sub: Any) -> None:
    run = sub.add_parser("run", help="run the turns of a file, one instruction per line")
    run.add_argument("turns_file", help="text file, one instruction per non-empty line")
    run.add_argument("--out", help="notebook to write (default: sessions/run-<time>.ipynb)")
    run.add_argument("--show-prompt", action="store_true", help="print each exact prompt")
    run.add_argument("--timeout", dest="run_timeout", type=float, help="seconds per cell")
    add_model_flags(run)
    add_kernel_flags(run)
    add_feedback_flags(run)
    run.set_defaults(func=cmd_run)
    _add_resume_flags(run)
    _add_serve(sub)
