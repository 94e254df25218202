"""Measure a class following one teacher: followers' latency, the teacher's turn time, memory.

    python -m scripts.follow_bench [--model DIR] [--followers 0,10,30] [--turns 8]

Starts `codegen-ui serve` with the model (default: the tests' tiny random CodeGen, built once
under /tmp), then for each follower count: a teacher (the session API, over gradio_client) shares
a new session and runs `--turns` turns one after another, while that many followers read the
follow link's server-sent events, as the follow page's script does (`GET /follow/<token>/events`,
over one asyncio loop here: no browser, so the client is not the bottleneck). Each instruction
carries a marker, and each follower notes when a frame first shows that turn's cell, and when it
first shows it finished. Figures per count:

- appear: from the teacher sending the turn to a follower seeing its cell (an upper bound of the
  change's own latency: it includes the request and the prompt's building);
- finish: from the teacher's call returning the finished cell to a follower seeing it finished
  (negative when the follower saw it first);
- turn: the teacher's time per turn (median), against the same with no followers;
- RSS: the server process's peak, and its kernels' together.

Prints a table and, with `--json`, writes the figures. Not a test: the numbers depend on the
machine and what else it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

FINISHED = ("ok", "error", "empty", "not-run", "stopped")
TINY = Path(tempfile.gettempdir()) / "codegen-ui-bench-tiny"


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def tiny_model() -> Path:
    if not (TINY / "config.json").exists():
        from tests.tiny import build_tiny_model  # the tests' tiny random CodeGen

        build_tiny_model(TINY)
    return TINY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: Path, folder: Path, tokens: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "CODEGEN_UI_SESSIONS_DIR": str(folder / "sessions"),
           "CODEGEN_UI_MAX_NEW_TOKENS": str(tokens), "CODEGEN_UI_DEVICE": "cpu",
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    command = [sys.executable, "-m", "codegen_ui", "serve", "--model", str(model)]
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(1200):
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: see {folder / 'server.log'}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not answer")


class Memory:
    """Peak RSS of the server and of its children, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.server = self.kernels = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(0.25):
            try:
                own = self.proc.memory_info().rss / 2**20
                kids = sum(c.memory_info().rss for c in self.proc.children(recursive=True)) / 2**20
            except psutil.Error:
                continue
            self.server, self.kernels = max(self.server, own), max(self.kernels, kids)

    def stop(self) -> tuple[float, float]:
        self._stop.set()
        self._thread.join()
        return self.server, self.kernels


class Follower:
    """One follower's stream: when each marker first appeared, and first appeared finished."""

    def __init__(self) -> None:
        self.appeared: dict[str, float] = {}
        self.finished: dict[str, float] = {}
        self.frames = 0
        self.ready = asyncio.Event()

    async def follow(self, url: str, markers: list[str], stop: asyncio.Event) -> None:
        import httpx

        cell = re.compile(r'data-cell="(\d+)" data-status="([a-z-]+)"')
        async with (
            httpx.AsyncClient(timeout=None) as http,
            http.stream("GET", url) as response,
        ):
            self.ready.set()
            async for line in response.aiter_lines():
                if stop.is_set():
                    return
                if not line.startswith("data: "):
                    continue
                now = time.monotonic()
                self.frames += 1
                html = line  # the JSON text: the markers and attributes are in it as they are
                statuses = dict(cell.findall(html.replace('\\"', '"')))
                for n, marker in enumerate(markers, start=1):
                    if marker in html and marker not in self.appeared:
                        self.appeared[marker] = now
                    if statuses.get(str(n)) in FINISHED and marker in html:
                        self.finished.setdefault(marker, now)


def teach(url: str, session: str, markers: list[str], tokens: int) -> list[tuple[float, float]]:
    """The teacher's turns, one after another: (sent, returned) per turn."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": 600})
    times = []
    for marker in markers:
        sent = time.monotonic()
        client.predict(session, f"print {marker}", 0.0, 0.95, tokens, -1, api_name="/turn")
        times.append((sent, time.monotonic()))
    return times


async def one_class(url: str, followers: int, turns: int, tokens: int) -> dict[str, Any]:
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    session = client.predict(api_name="/new_session")
    token = client.predict(session, api_name="/share_session")
    markers = [f"m{secrets.token_hex(4)}x{n}" for n in range(1, turns + 1)]
    stop = asyncio.Event()
    crowd = [Follower() for _ in range(followers)]
    tasks = [asyncio.create_task(f.follow(f"{url}follow/{token}/events", markers, stop))
             for f in crowd]  # fmt: skip
    for f in crowd:
        await f.ready.wait()
    times = await asyncio.to_thread(teach, url, session, markers, tokens)
    await asyncio.sleep(1.0)  # the last frames arrive
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    client.predict(session, api_name="/close_session")
    pairs = list(zip(markers, times, strict=True))
    appear = [f.appeared[m] - sent for f in crowd for m, (sent, _) in pairs if m in f.appeared]
    finish = [f.finished[m] - done for f in crowd for m, (_, done) in pairs if m in f.finished]
    missed = followers * turns - len(finish)
    return {
        "followers": followers,
        "turn_s": statistics.median(done - sent for sent, done in times),
        "appear_p50_s": quantile(appear, 0.5),
        "appear_p95_s": quantile(appear, 0.95),
        "finish_p50_s": quantile(finish, 0.5),
        "finish_p95_s": quantile(finish, 0.95),
        "frames_per_follower": statistics.mean(f.frames for f in crowd) if crowd else 0,
        "missed": missed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model folder (default: the tests' tiny model)")
    parser.add_argument("--followers", default="0,10,30", help="follower counts, in order")
    parser.add_argument("--turns", type=int, default=8, help="the teacher's turns per count")
    parser.add_argument("--tokens", type=int, default=32, help="most new tokens per turn")
    parser.add_argument("--json", dest="json_path", help="also write the figures here")
    args = parser.parse_args(argv)
    model = Path(args.model) if args.model else tiny_model()
    with tempfile.TemporaryDirectory() as folder:
        proc, url = start_server(model, Path(folder), args.tokens)
        try:
            asyncio.run(one_class(url, 0, 2, args.tokens))  # warm-up: not counted
            rows = []
            for n in (int(x) for x in args.followers.split(",")):
                memory = Memory(proc.pid)
                row = asyncio.run(one_class(url, n, args.turns, args.tokens))
                row["server_rss_mib"], row["kernels_rss_mib"] = memory.stop()
                rows.append(row)
                print(line(row, rows[0]["turn_s"]), flush=True)
        finally:
            proc.terminate()
            proc.wait(60)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2))


def line(row: dict[str, Any], alone_s: float) -> str:
    return (
        f"{row['followers']:>3} followers: appear p50 {row['appear_p50_s']:.3f} s "
        f"p95 {row['appear_p95_s']:.3f} s; finish p50 {row['finish_p50_s']:.3f} s "
        f"p95 {row['finish_p95_s']:.3f} s; missed {row['missed']}; "
        f"{row['frames_per_follower']:.0f} frames each; teacher's turn {row['turn_s']:.2f} s "
        f"(x{row['turn_s'] / alone_s:.2f}); server RSS {row['server_rss_mib']:.0f} MiB, "
        f"kernels {row['kernels_rss_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
