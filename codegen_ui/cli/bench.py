"""`codegen-ui bench`: the speed and memory benchmark against plain float32 transformers.

Parses the flags, builds the benchmark model on first use, runs the plan of `codegen_ui.bench`
and prints (and optionally writes) its figures; with `--api-load N --url URL` it load-tests a
running server through its session API instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from codegen_ui.cli.common import CliError
from codegen_ui.errors import require_extra
from codegen_ui.settings import DEFAULTS


def add(sub: Any) -> None:
    from codegen_ui.bench import LoadPlan, Plan

    # The defaults are the plans' own, written once there.
    bench = sub.add_parser(
        "bench", help="measure the engine against plain float32 transformers (slow: minutes)"
    )
    bench.add_argument("--json", dest="json_path", help="also write the figures to this file")
    bench.add_argument(
        "--model",
        help="model folder or hub id (default: codegen-350M-mono's architecture "
        "with random weights, built and cached on first use)",
    )
    bench.add_argument(
        "--repeats", type=int, default=Plan.repeats, help="repetitions (medians quoted)"
    )
    bench.add_argument(
        "--histories",
        default=",".join(map(str, Plan.histories)),
        help="history sizes in tokens, comma-separated",
    )
    bench.add_argument(
        "--session-turns", type=int, default=Plan.session_turns, help="turns of the session"
    )
    bench.add_argument(
        "--new-tokens", type=int, default=Plan.new_tokens, help="tokens for the decode rate"
    )
    bench.add_argument(
        "--turn-tokens", type=int, default=Plan.turn_tokens, help="most tokens a session turn"
    )
    bench.add_argument(
        "--classroom",
        type=int,
        default=Plan.classroom,
        metavar="N",
        help="N sessions submit a turn at once, one at a time vs batched (0: skip)",
    )
    bench.add_argument(
        "--classroom-repeats",
        type=int,
        default=Plan.classroom_repeats,
        help="repetitions of the classroom",
    )
    bench.add_argument("--only-classroom", action="store_true", help="skip the single-user figures")
    bench.add_argument(
        "--llama-server",
        metavar="PATH",
        help="a llama.cpp llama-server binary (`python -m scripts.llama_cpp build`): also run "
        "llama.cpp on the same --model FILE.gguf, in the same run",
    )
    load = bench.add_argument_group("load test of a running server, through its session API")
    load.add_argument(
        "--api-load",
        type=int,
        metavar="N",
        help="N sessions at once through gradio_client, --api-turns turns each (needs --url)",
    )
    load.add_argument("--url", help=f"the server, e.g. http://{DEFAULTS.host}:{DEFAULTS.port}/")
    load.add_argument("--api-turns", type=int, default=LoadPlan.turns, help="turns per session")
    load.add_argument(
        "--api-tokens",
        type=int,
        default=LoadPlan.max_new_tokens,
        help="most new tokens per turn",
    )
    load.add_argument("--server-pid", type=int, help="the server's process, for its memory")
    bench.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    import json

    from codegen_ui.bench import Plan, run, table

    if args.api_load is not None:
        return cmd_api_load(args)
    # It measures the in-process engine against plain transformers.
    require_extra("local", "the speed bench", "torch")
    try:
        histories = tuple(int(h) for h in args.histories.split(","))
    except ValueError:
        raise CliError(f"--histories must be whole numbers, not {args.histories!r}") from None
    if args.llama_server and not Path(args.llama_server).is_file():
        raise CliError(f"--llama-server: no such file: {args.llama_server}")
    if args.llama_server and not str(args.model or "").endswith(".gguf"):
        raise CliError("--llama-server compares on the same file: give --model FILE.gguf")
    if args.model:
        model = args.model
    else:
        from codegen_ui.bench import build, default_dir

        if not (default_dir() / "config.json").exists():
            print("building the benchmark model (once, about a minute) ...", file=sys.stderr)
        model = str(build())
    plan = Plan(
        model,
        args.repeats,
        histories,
        args.session_turns,
        args.new_tokens,
        args.turn_tokens,
        classroom=max(0, args.classroom),
        classroom_repeats=max(1, args.classroom_repeats),
        only_classroom=args.only_classroom,
        llama_server=args.llama_server,
    )
    result = run(plan, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(table(result))
    if args.json_path:
        out = Path(args.json_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0


def cmd_api_load(args: argparse.Namespace) -> int:
    """`bench --api-load N --url URL`: the figures of N sessions at once; status 1 on errors."""
    import json

    from codegen_ui.bench import LoadPlan, load_table, run_load

    if not args.url:
        raise CliError("--api-load needs --url: the address of a running codegen-ui serve")
    if args.api_load < 1 or args.api_turns < 1 or args.api_tokens < 1:
        raise CliError("--api-load, --api-turns and --api-tokens must be at least 1")
    plan = LoadPlan(args.url, args.api_load, args.api_turns, args.api_tokens, args.server_pid)
    result = run_load(plan, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(load_table(result))
    if args.json_path:
        out = Path(args.json_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 1 if result.errors else 0
