"""The API load test (`codegen-ui bench --api-load N --url URL`): N sessions at once, from code.

Each of N threads is one client (`gradio_client`) of a running `codegen-ui serve`: it opens a
session, waits until every session is open, then sends its turns one after another; the
sessions' turns overlap as a class's would, with no browser in the way. It measures each turn
from the call to the finished cell (p50, p95, max), counts errors (a refused or failed call, a
turn that did not finish), and samples the server's memory (its own RSS and its kernels') when
it runs on this machine. It starts no server and knows nothing of the app's insides.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

# Three steps of one small program, as a student would ask for them.
INSTRUCTIONS = (
    "define a list of the numbers from 1 to 10",
    "compute the sum of the squares of the list",
    "print the result",
)
FINISHED = frozenset({"ok", "error", "timeout", "died", "empty", "cancelled", "not-run"})
SAMPLE_S = 0.5  # how often the server's memory is read
CALL_S = 900.0  # the longest one call may wait for its answer


@dataclass(frozen=True)
class LoadPlan:
    url: str
    sessions: int
    turns: int = 3
    max_new_tokens: int = 32
    server_pid: int | None = None  # found from the URL's port when the server is local


@dataclass(frozen=True)
class LoadResult:
    sessions: int
    turns: int
    latencies: tuple[float, ...]  # seconds per finished turn
    open_s: tuple[float, ...]  # seconds per new_session
    errors: tuple[str, ...]
    statuses: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    server_rss_mib: float | None = None  # peak, the server process alone
    kernels_rss_mib: float | None = None  # peak, all its child processes together

    def quantile(self, q: float) -> float:
        return quantile(self.latencies, q)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(p50_s=self.quantile(0.5), p95_s=self.quantile(0.95), max_s=self.quantile(1))
        return out


def quantile(values: tuple[float, ...], q: float) -> float:
    """The nearest-rank quantile (q in [0, 1]); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def run_load(plan: LoadPlan, progress: Callable[[str], None] = lambda _: None) -> LoadResult:
    """Drive the server with `plan.sessions` clients at once and gather their figures."""
    from gradio_client import Client

    ready = threading.Barrier(plan.sessions)
    lock = threading.Lock()
    latencies: list[float] = []
    opened: list[float] = []
    errors: list[str] = []
    statuses: dict[str, int] = {}

    def student(n: int) -> None:
        try:
            # httpx's 5 s default is shorter than a busy server's first answer.
            client = Client(
                plan.url, verbose=False, download_files=False, httpx_kwargs={"timeout": CALL_S}
            )
            start = time.monotonic()
            sid = client.predict(api_name="/new_session")
            with lock:
                opened.append(time.monotonic() - start)
        except Exception as exc:
            with lock:
                errors.append(f"session {n}: new_session: {type(exc).__name__}: {exc}")
            ready.wait()  # the others start their turns without this one
            return
        try:
            ready.wait()
            for t in range(plan.turns):
                instruction = INSTRUCTIONS[t % len(INSTRUCTIONS)]
                start = time.monotonic()
                cell = client.predict(
                    sid, instruction, 0.0, 0.95, plan.max_new_tokens, -1, api_name="/turn"
                )
                took = time.monotonic() - start
                with lock:
                    statuses[cell["status"]] = statuses.get(cell["status"], 0) + 1
                    if cell["status"] in FINISHED and cell["cell"] == t + 1:
                        latencies.append(took)
                    else:
                        errors.append(f"session {n} turn {t + 1}: ended {cell['status']!r}")
        except Exception as exc:
            with lock:
                errors.append(f"session {n}: {type(exc).__name__}: {exc}")
        finally:
            try:
                client.predict(sid, api_name="/close_session")
            except Exception as exc:
                with lock:
                    errors.append(f"session {n}: close_session: {exc}")

    memory = _Memory(plan.server_pid or server_pid(plan.url))
    memory.start()
    threads = [
        threading.Thread(target=student, args=(n,), daemon=True) for n in range(plan.sessions)
    ]
    begin = time.monotonic()
    progress(f"{plan.sessions} sessions, {plan.turns} turns each, against {plan.url} ...")
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - begin
    memory.stop()
    return LoadResult(
        sessions=plan.sessions,
        turns=plan.turns,
        latencies=tuple(latencies),
        open_s=tuple(opened),
        errors=tuple(errors),
        statuses=dict(statuses),
        wall_s=round(wall, 2),
        server_rss_mib=memory.server_peak,
        kernels_rss_mib=memory.children_peak,
    )


def table(result: LoadResult) -> str:
    """The figures as a few lines of text."""
    done = len(result.latencies)
    asked = result.sessions * result.turns
    lines = [
        f"sessions {result.sessions}, turns each {result.turns}: {done}/{asked} turns finished "
        f"in {result.wall_s:.1f} s, {len(result.errors)} errors",
        f"per turn: p50 {result.quantile(0.5):.2f} s, p95 {result.quantile(0.95):.2f} s, "
        f"max {result.quantile(1):.2f} s",
        f"new_session: p50 {quantile(result.open_s, 0.5):.2f} s, "
        f"max {quantile(result.open_s, 1):.2f} s",
        "statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items())),
    ]
    if result.server_rss_mib is None:
        lines.append("server RSS: not measured (the server is not a process on this machine)")
    else:
        lines.append(
            f"server RSS peak {result.server_rss_mib:.0f} MiB, "
            f"its kernels together {result.kernels_rss_mib or 0:.0f} MiB"
        )
    lines += [f"error: {e}" for e in result.errors[:10]]
    return "\n".join(lines)


def server_pid(url: str) -> int | None:
    """The process listening on the URL's port here, if the URL is local; None otherwise."""
    import psutil

    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
        return None
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return conn.pid
    except psutil.Error:
        return None  # not allowed to see other processes' sockets
    return None


class _Memory:
    """Peak RSS of a process and of its children together, sampled in a thread."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.server_peak: float | None = None
        self.children_peak: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rss")

    def start(self) -> None:
        if self.pid is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        import psutil

        try:
            proc = psutil.Process(self.pid)
        except psutil.Error:
            return
        while True:
            try:
                own = proc.memory_info().rss / 2**20
                kids = 0.0
                for child in proc.children(recursive=True):
                    try:
                        kids += child.memory_info().rss / 2**20
                    except psutil.Error:
                        continue  # gone meanwhile
            except psutil.Error:
                return
            self.server_peak = max(self.server_peak or 0.0, own)
            self.children_peak = max(self.children_peak or 0.0, kids)
            if self._stop.wait(SAMPLE_S):
                return
