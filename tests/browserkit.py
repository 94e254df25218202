"""What the browser tests share: the app in its own process, Chromium, and a tab with helpers.

The app runs as users run it (`codegen-ui serve`) with the tiny model on a free local port; each
`Tab` is its own browser context, so its own browser session with its own kernel. Helpers speak
the page's stable hooks only: `#instruction`, `#submit`, `#stop`, `#undo`, `#redo`, `#notebook`
and in it `[data-cell]`, `data-status`, `[data-action]` and the editor's textarea."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DONE = ["ok", "error", "stopped", "empty", "not-run"]
OUT = Path(__file__).resolve().parents[1] / "test-output" / "browser"
WAIT_MS = 120_000  # generous: the machine is shared
# A module's first page waits for its server to load the model and start a kernel: minutes on a
# loaded machine. The wait polls the page in slices and ends at once if the server exits, so
# the bound can be this generous without a dead server costing it.
READY_S = 600.0
SLICE_MS = 5_000
GRACE_MINUTES = "0.25"  # a closed tab's kernel waits 15 s for a reload
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The app in its own process, as users run it: `codegen-ui serve`."""

    def __init__(
        self,
        model: Path | str,
        sessions: Path,
        log: Path,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        extra_env = env or {}
        env = {
            **os.environ,
            "CODEGEN_UI_SESSIONS_DIR": str(sessions),
            "CODEGEN_UI_MAX_NEW_TOKENS": "32",
            "CODEGEN_UI_DEVICE": "cpu",
            "CODEGEN_UI_KERNEL_POOL": "0",  # so the kernels counted are the tabs' own
            "CODEGEN_UI_KERNEL_GRACE_MINUTES": GRACE_MINUTES,
            # The tiny model has a chat template too, so "auto" would ask it in chat; the pages'
            # tests compare its random words (NUL bytes included, which a page cannot show) in
            # the paper's format, as they were written for. A test may ask for chat by env.
            "CODEGEN_UI_PROMPT_FORMAT": "paper",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            **extra_env,
        }
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/"
        self.sessions = sessions
        self.log = log
        command = [sys.executable, "-m", "codegen_ui", "serve", "--model", str(model)]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*command, "--port", str(port), *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready()
        except BaseException:
            # No server object reaches the caller to stop: the process goes here, not later
            # from Popen's finaliser (a ResourceWarning, which this suite makes an error).
            self.proc.kill()
            self.proc.wait()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"the server did not answer within {READY_S:g} s")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kernels(self) -> int:
        import psutil

        # One direct child per kernel: the kernel itself, or bubblewrap around it.
        count = 0
        for child in psutil.Process(self.proc.pid).children():
            try:
                if child.status() != psutil.STATUS_ZOMBIE:
                    count += "ipykernel" in " ".join(child.cmdline())
            except psutil.Error:  # gone (or just reaped) meanwhile
                continue
        return count

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def serve(
    model: Path | str,
    folder: Path,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    server = Server(model, folder / "sessions", folder / "server.log", args, env)
    try:
        yield server
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.log.read_text()[-2000:]


def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Tab:
    """One browser session on the app, with its console messages collected."""

    def __init__(
        self,
        browser: Any,
        url: str,
        viewport: dict[str, int] | None = None,
        ready: bool = True,
        alive: Callable[[], bool] | None = None,  # the server still runs (Server.alive)
    ) -> None:
        self.alive = alive
        self.context = browser.new_context(viewport=viewport or DESKTOP)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.goto(url, ready)

    def goto(self, url: str, ready: bool = True) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("#notebook .cg-nb", timeout=WAIT_MS)
        if ready:
            self.until(
                """() => { const s = document.querySelector('#status').innerText;
                    return /kernel: (idle|restarted)/.test(s) && !s.includes('loading'); }"""
            )

    def reload(self) -> None:
        """Reload the page. Requests the old page had in flight are cut by the navigation and
        Chromium logs them ("AbortError", Gradio's "Connection errored out"): those, and only
        those, arriving while the page reloads are not counted as problems of the app."""
        before = len(self.problems)
        self.page.reload()
        self.page.wait_for_selector("#notebook [data-cell], #notebook .cg-nb", timeout=WAIT_MS)
        cut = ("AbortError: signal is aborted without reason", "Connection errored out")
        self.problems[before:] = [p for p in self.problems[before:] if not any(c in p for c in cut)]

    def until(self, condition: str, bound_s: float = READY_S) -> None:
        """Poll a page condition until it holds, or fail: the server exited, or the bound passed."""
        from playwright.sync_api import TimeoutError as PageTimeout

        deadline = time.monotonic() + bound_s
        while True:
            try:
                self.page.wait_for_function(condition, timeout=SLICE_MS)
                return
            except PageTimeout:
                if self.alive is not None and not self.alive():
                    raise RuntimeError("the server exited while the page waited") from None
                if time.monotonic() > deadline:
                    raise

    def cells(self) -> Any:
        return self.page.locator("#notebook [data-cell]")

    def cell(self, n: int) -> Any:
        return self.page.locator(f'#notebook [data-cell="{n}"]')

    def idle(self) -> None:
        self.page.wait_for_function(
            "() => document.querySelector('#notebook .cg-nb').dataset.busy === 'false'",
            timeout=WAIT_MS,
        )

    def wait_cells(self, n: int) -> None:
        """Wait until the last action is over and the notebook has n cells, the last one done."""
        self.page.wait_for_function(
            """([n, done]) => {
                const nb = document.querySelector('#notebook .cg-nb');
                const c = document.querySelectorAll('#notebook [data-cell]');
                return nb.dataset.busy === 'false' && c.length === n
                    && done.includes(c[n - 1].dataset.status);
            }""",
            arg=[n, DONE],
            timeout=WAIT_MS,
        )

    def submit(self, text: str) -> None:
        n = self.cells().count()
        box = self.page.locator("#instruction textarea")
        box.fill(text)
        box.press("Enter")
        self.wait_cells(n + 1)

    def edit(self, cell: int) -> Any:
        """Open a cell's editor (unless it is open) and return it."""
        editor = self.cell(cell).locator("textarea.cg-editor")
        if not editor.count():
            self.cell(cell).locator('[data-action="edit"]').click()
        editor.wait_for(timeout=WAIT_MS)
        return editor

    def run_code(self, code: str, expect: str, cell: int = 1) -> Any:
        """Edit a cell in place, run it with Shift+Enter, wait until its outputs show `expect`."""
        editor = self.edit(cell)
        editor.fill(code)
        editor.press("Shift+Enter")
        self.page.wait_for_function(
            """([n, text, done]) => {
                const nb = document.querySelector('#notebook .cg-nb');
                const c = document.querySelector(`#notebook [data-cell="${n}"]`);
                return nb.dataset.busy === 'false' && c && done.includes(c.dataset.status)
                    && !c.querySelector('textarea')
                    && c.querySelector('.cg-outputs').innerText.includes(text);
            }""",
            arg=[cell, expect, DONE],
            timeout=WAIT_MS,
        )
        return self.cell(cell).locator(".cg-outputs")

    def codes(self) -> list[str]:
        return [c.inner_text() for c in self.page.locator("#notebook [data-cell] .cg-code").all()]

    def in_view(self, selector: str) -> bool:
        """Whether the element is inside the viewport (wholly, or filling it)."""
        return bool(
            self.page.evaluate(
                """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                    const h = window.innerHeight;
                    return (r.top >= 0 && r.bottom <= h) || (r.top <= 0 && r.bottom >= h)
                        || (r.top >= 0 && r.top < h && r.height > h); }""",
                selector,
            )
        )

    def close(self) -> None:
        self.context.close()
