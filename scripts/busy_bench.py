"""Measure whether a busy server still answers the page: its own actions while sessions generate.

    python -m scripts.busy_bench [--model DIR] [--generating 16] [--repeats 20] [--tokens 128]

Starts `codegen-ui serve` (default model: the tests' tiny random CodeGen), then measures the
page's own actions that need no model, as the page sends them (its queue protocol: `queue/join`
with a browser session of its own, the answer read from `queue/data`), first on a quiet server
and then while `--generating` API sessions run turns back to back (each asks for `--tokens`
tokens): open an editor (a cell's Edit), open a session (Open), list the files (the Files
panel drawn again), and follow (a follow link's first frame, `GET /follow/<token>/events`).
Prints p50 and p95 per action and phase, and, with `--json`, writes them. Not a test.
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.follow_bench import quantile, start_server, tiny_model


class Page:
    """One browser tab, speaking the page's queue protocol."""

    def __init__(self, url: str, config: dict[str, Any]) -> None:
        import httpx

        self.url = url
        self.session = secrets.token_hex(6)
        self.http = httpx.Client(base_url=url + "gradio_api/", timeout=600)
        self.props = {c["id"]: c["props"] for c in config["components"]}
        self.deps = {d["api_name"]: d for d in config["dependencies"]}

    def value(self, component: int) -> Any:
        return self.props[component].get("value")

    def call(self, name: str, data: list[Any] | None = None, event: Any = None) -> str:
        """Send one event of the page's and wait for its answer (its outputs, as JSON text)."""
        dep = self.deps[name]
        data = data if data is not None else [self.value(i) for i in dep["inputs"]]
        trigger = dep["targets"][0][0] if dep["targets"] else None
        body = {"data": data, "event_data": event, "fn_index": dep["id"], "trigger_id": trigger,
                "session_hash": self.session}  # fmt: skip
        joined = self.http.post("queue/join", json=body)
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        params = {"session_hash": self.session}
        with self.http.stream("GET", "queue/data", params=params) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message["msg"] == "process_completed":
                    return json.dumps(message.get("output"))
        raise RuntimeError(f"{name}: the stream ended without an answer")


def first_frame(url: str, token: str) -> None:
    import httpx

    with httpx.stream("GET", f"{url}follow/{token}/events", timeout=600) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                return


def timed(action: Callable[..., object], *args: Any) -> float:
    start = time.monotonic()
    action(*args)
    return time.monotonic() - start


def measure(url: str, tabs: list[Page], session: str, token: str, repeats: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {"editor": [], "open": [], "files": [], "follow": []}
    edit = {"action": "edit", "cell": 1, "revision": -1}
    for n in range(repeats):
        tab = tabs[n % len(tabs)]
        times["open"].append(timed(tab.call, "open", [session]))
        times["editor"].append(timed(tab.call, "cell", None, edit))
        times["files"].append(timed(tab.call, "download_file", [], {"name": ""}))
        times["follow"].append(timed(first_frame, url, token))
    return {name: {"p50_s": quantile(v, 0.5), "p95_s": quantile(v, 0.95), "max_s": max(v)}
            for name, v in times.items()}  # fmt: skip


def generate(url: str, tokens: int, stop: threading.Event, started: threading.Barrier) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": 600})
    session = client.predict(api_name="/new_session")
    started.wait()
    n = 0
    while not stop.is_set():
        n += 1
        client.predict(session, f"step {n}: count to {n}", 0.8, 0.95, tokens, -1, api_name="/turn")
    client.predict(session, api_name="/close_session")


def main(argv: list[str] | None = None) -> None:
    import httpx
    from gradio_client import Client

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model folder (default: the tests' tiny model)")
    parser.add_argument("--generating", type=int, default=16, help="sessions generating")
    parser.add_argument("--repeats", type=int, default=20, help="times each action is timed")
    parser.add_argument("--tokens", type=int, default=128, help="new tokens per turn")
    parser.add_argument("--json", dest="json_path", help="also write the figures here")
    args = parser.parse_args(argv)
    model = Path(args.model) if args.model else tiny_model()
    with tempfile.TemporaryDirectory() as folder:
        proc, url = start_server(model, Path(folder), args.tokens)
        try:
            api = Client(url, verbose=False, download_files=False)
            session = api.predict(api_name="/new_session")
            api.predict(session, 1, "data = list(range(10))", api_name="/run_cell")
            token = api.predict(session, api_name="/share_session")
            config = httpx.get(url + "config", timeout=60).json()
            tabs = [Page(url, config) for _ in range(4)]
            for tab in tabs:
                tab.call("load")
            rows = {"quiet": measure(url, tabs, session, token, args.repeats)}
            stop = threading.Event()
            started = threading.Barrier(args.generating + 1)
            workers = [threading.Thread(target=generate, args=(url, args.tokens, stop, started))
                       for _ in range(args.generating)]  # fmt: skip
            for w in workers:
                w.start()
            started.wait()
            time.sleep(5)  # every session is writing
            rows[f"{args.generating} generating"] = measure(url, tabs, session, token, args.repeats)
            stop.set()
            for w in workers:
                w.join()
        finally:
            proc.terminate()
            proc.wait(60)
    for phase, figures in rows.items():
        for action, f in figures.items():
            print(f"{phase:>14} {action:>7}: p50 {f['p50_s']:.3f} s  p95 {f['p95_s']:.3f} s  "
                  f"max {f['max_s']:.3f} s")  # fmt: skip
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
