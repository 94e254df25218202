"""What a kernel holds, read from inside it for the model's prompt: `read_state(runner)`.

One cell (`SOURCE`) runs in the session's own kernel: it lists the user's names with their
type's name, and for a numpy array, a pandas DataFrame or Series (only when the value's type is
exactly that class) its shape, columns and dtypes; for exact builtin numbers and short strings
the value, for builtin containers their length; then the files of the kernel's working folder
(a CSV's header line). It never calls a user object's `__repr__`, `__str__`, `__len__` or any
method of it, runs in globals of its own (no name of the user's shadows its builtins, none of its
names is left behind), stops at a deadline of its own (`LIMIT_S`, by SIGALRM) and at `MAX_NAMES`
and `MAX_FILES`, and prints one JSON line that `parse` reads into a `core.KernelState`.
Whatever goes wrong gives an empty state: the turn goes on without it.
"""

from __future__ import annotations

import json
from typing import Any

from codegen_ui.core import FileInfo, KernelState, NameInfo, Runner

LIMIT_S = 0.5  # the reading's own deadline inside the kernel
RUN_TIMEOUT_S = 5.0  # the run's, should the kernel not answer at all
MAX_NAMES = 30
MAX_FILES = 20
MARK = "\x1ecodegen-ui-state:"

SOURCE = r"""
def state(limit, max_names, max_files, mark):
    import json, os, signal, sys, types
    from IPython import get_ipython
    out = {"names": [], "files": [], "complete": True}
    class Late(Exception):
        pass
    def alarm(signum, frame):
        raise Late()
    def name_of(cls):
        return type.__dict__["__name__"].__get__(cls, type)
    def short(value):
        kind = type(value)
        if kind is bool or kind is float or (kind is int and -10**12 < value < 10**12):
            return repr(value)
        if kind is str:
            return repr(value) if len(value) <= 60 else f"{len(value)} characters"
        if kind in (list, tuple, set, frozenset, dict, bytes):
            return f"{len(value)} items" if kind is not bytes else f"{len(value)} bytes"
        return ""
    def label(value):
        return str(value)[:40] if type(value) in (str, int, float, bool) else name_of(type(value))
    def detail(value):
        kind = type(value)
        np, pd = sys.modules.get("numpy"), sys.modules.get("pandas")
        if np is not None and kind is np.ndarray:
            return f"shape {tuple(value.shape)}, dtype {str(value.dtype)[:40]}"
        if pd is not None and kind is pd.DataFrame:
            cols = [f"{label(c)} ({str(d)[:20]})" for c, d in
                    zip(value.columns[:12], value.dtypes.iloc[:12])]
            more = ", ..." if value.shape[1] > 12 else ""
            return f"shape {tuple(value.shape)}, columns " + ", ".join(cols) + more
        if pd is not None and kind is pd.Series:
            return f"length {value.shape[0]}, dtype {str(value.dtype)[:20]}"
        if kind is types.FunctionType:
            code = value.__code__
            return "(" + ", ".join(code.co_varnames[: code.co_argcount]) + ")"
        return short(value)
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        hidden = {"In", "Out", "exit", "quit", "get_ipython", "open", "print"}
        for name, value in list(NAMESPACE.items()):
            if name.startswith("_") or name in hidden or isinstance(value, types.ModuleType):
                continue
            if len(out["names"]) >= max_names:
                out["complete"] = False
                break
            kind = "class" if isinstance(value, type) else name_of(type(value))
            try:
                said = detail(value)
            except Late:
                raise
            except Exception:
                said = ""
            out["names"].append([name, kind, said])
        entries = sorted(e for e in os.listdir(".") if not e.startswith(".")) if max_files else []
        for name in entries:
            if len(out["files"]) >= max_files:
                out["complete"] = False
                break
            if not os.path.isfile(name) or os.path.islink(name):
                continue
            header = ""
            if name.lower().endswith((".csv", ".tsv")):
                with open(name, "rb") as f:
                    header = f.read(300).split(b"\n")[0].decode("utf-8", "replace").strip()
            out["files"].append([name, os.path.getsize(name), header])
    except Late:
        out["complete"] = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    print(mark + json.dumps(out))
state(LIMIT, MAX_NAMES, MAX_FILES, MARK)
"""


USER_NS = "get_ipython().user_ns"  # the names the kernel's cells define


def cell(limit: float = LIMIT_S, namespace: str = USER_NS, files: bool = True) -> str:
    """The cell that reads the state: `SOURCE` with its caps, run by `exec` in globals of its
    own, so the user's names neither shadow its builtins nor gain one of its names.
    `namespace`: an expression for the dict to read (it may use `sys`); `files`: list the
    working folder's files too."""
    caps = f"{limit!r}, {MAX_NAMES}, {MAX_FILES if files else 0}, {MARK!r}"
    source = SOURCE.replace("LIMIT, MAX_NAMES, MAX_FILES, MARK", caps)
    return f"exec({source.replace('NAMESPACE', f'({namespace})')!r}, {{}})"


def parse(text: str) -> KernelState:
    """The state from the cell's printed line; an empty state for anything else."""
    line = next((ln for ln in text.split("\n") if ln.startswith(MARK)), "")
    try:
        data: Any = json.loads(line[len(MARK) :]) if line else {}
        names = tuple(NameInfo(str(n), str(k), str(d)) for n, k, d in data.get("names", ()))
        files = tuple(FileInfo(str(n), int(s), str(h)) for n, s, h in data.get("files", ()))
    except (ValueError, TypeError, AttributeError):
        return KernelState()
    return KernelState(names, files, bool(data.get("complete", True)))


def read_state(
    runner: Runner, limit: float = LIMIT_S, namespace: str = USER_NS, files: bool = True
) -> KernelState:
    """What the runner's kernel holds now (its own kernel: nothing else is read); `namespace`
    and `files` as for `cell`."""
    result = runner.run(cell(limit, namespace, files), max(RUN_TIMEOUT_S, 4 * limit))
    text = "".join(
        str(o.get("text", "")) for o in result.outputs if o.get("output_type") == "stream"
    )
    return parse(text)
