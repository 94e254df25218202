"""`codegen-ui export` and `codegen-ui replay`: notebooks as scripts or sessions, and re-run.

`export` converts any Jupyter notebook to the paper's `.py` program or a session notebook;
`replay` re-runs a notebook's code cells in one fresh sandboxed kernel and saves the outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from codegen_ui.cli.common import CliError, add_kernel_flags, kernel_settings
from codegen_ui.settings import Settings


def add(sub: Any) -> None:
    _add_export(sub)
    _add_replay(sub)


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
        convert,
        dumps,
        load,
        to_notebook,
        to_script,
        write_atomic,
    )

    source = Path(args.notebook)
    result = convert(load(source))
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
    add_kernel_flags(p)
    p.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    """Exit status 0 when every cell ran without error, 1 otherwise, 2 when it could not run.

    The notebook's turns run in a session of their own (`Session.replay`, what the page's
    Replay all runs), one line per cell as it ends; their outputs go back into its cells."""
    from codegen_ui.core import NoModel, Session
    from codegen_ui.kernel import new_kernel
    from codegen_ui.notebooks import from_notebook, is_preamble_cell, load, put_runs, save

    settings = Settings.from_env().replace(run_timeout=args.run_timeout, **kernel_settings(args))
    nb = load(args.notebook)
    turns, meta = from_notebook(nb)
    kernel = new_kernel(settings)
    kernel.start()
    print(kernel.describe(), flush=True)
    session = Session(
        NoModel(),
        kernel,
        turns,
        settings.run_timeout,
        preamble=meta["preamble"],
        run_preamble=any(is_preamble_cell(c) for c in nb.cells),
    )
    try:
        statuses = _replay(session)
    finally:
        kernel.shutdown()
    put_runs(nb, session.turns)
    out = Path(args.out or args.notebook)
    out.parent.mkdir(parents=True, exist_ok=True)
    save(nb, out)
    bad = [s for s in statuses if s not in ("ok", "empty")]
    print(f"replayed {len(statuses)} code cells ({len(bad)} not ok) into {out}")
    return 1 if bad else 0


def _replay(session: Any) -> list[str]:
    """Replay the session, printing a line per cell as it ends; each cell's status ("empty"
    for a cell without code, which replay passes over)."""
    total, statuses = len(session.turns), []

    def report(index: int) -> None:
        turn = session.turns[index]
        status = turn.status if turn.code.strip() else "empty"
        statuses.append(status)
        line = f"cell {index + 1}/{total}: {status}"
        if status != "empty":
            line += f" ({turn.stats.run_s:.2f} s)"
        note = _note(turn)
        print(f"{line}: {note}" if note else line, flush=True)

    for turn in session.replay():
        if turn.status == "running":
            continue
        index = next(i for i in range(len(statuses), total) if session.turns[i] is turn)
        while len(statuses) <= index:
            report(len(statuses))
    while len(statuses) < total:
        report(len(statuses))
    return statuses


def _note(turn: Any) -> str:
    """A finished cell's last error as one line, else what happened to its kernel."""
    errors = [o for o in turn.outputs if o.get("output_type") == "error"]
    if errors:
        last = errors[-1]
        return f"{last.get('ename', '')}: {last.get('evalue', '')}".strip(": ")[:200]
    return str(turn.message)
