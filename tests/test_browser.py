"""End to end in a real Chromium: the app on a free local port with the tiny model, driven by
Playwright. Each test opens its own browser context, so each is its own browser session with its
own kernel. Skipped where Chromium or Playwright is missing."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DONE = ["ok", "error", "timeout", "died", "empty", "cancelled", "not-run"]
OUT = Path(__file__).resolve().parents[1] / "test-output" / "browser"
WAIT_MS = 120_000  # generous: the machine is shared


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The app in its own process, as users run it: `codegen-ui serve`."""

    def __init__(self, model: Path, sessions: Path, log: Path) -> None:
        env = {
            **os.environ,
            "CODEGEN_UI_SESSIONS_DIR": str(sessions),
            "CODEGEN_UI_MAX_NEW_TOKENS": "32",
            "CODEGEN_UI_DEVICE": "cpu",
            "CODEGEN_UI_KERNEL_POOL": "0",  # so the kernels counted are the tabs' own
            "GRADIO_ANALYTICS_ENABLED": "False",
        }
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "codegen_ui",
                    "serve",
                    "--model",
                    str(model),
                    "--port",
                    str(port),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("the server did not answer within 120 s")

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


@pytest.fixture(scope="module")
def app(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("browser")
    server = Server(tiny_model_dir, folder / "sessions", folder / "server.log")
    try:
        yield server
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.log.read_text()[-2000:]


@pytest.fixture(scope="module")
def browser(app: Any) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Tab:
    """One browser session on the app, with its console messages collected."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
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
        self.page.goto(url)
        self.page.wait_for_selector("#notebook .cg-nb", timeout=WAIT_MS)
        self.page.wait_for_function(
            """() => { const s = document.querySelector('#status').innerText;
                       return s.includes('kernel: idle') && !s.includes('loading'); }""",
            timeout=WAIT_MS,
        )

    def cells(self) -> Any:
        return self.page.locator("#notebook .cg-cell")

    def wait_cells(self, n: int) -> None:
        """Wait until the last action is over and the notebook has n cells, the last one done."""
        self.page.wait_for_function(
            """([n, done]) => {
                const nb = document.querySelector('#notebook .cg-nb');
                const c = document.querySelectorAll('#notebook .cg-cell');
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

    def set_code(self, code: str, cell: int = 1) -> None:
        number = self.page.locator("#cell-number input")
        if number.input_value() != str(cell):
            before = self.page.locator("#code-editor .cm-content").inner_text()
            number.fill(str(cell))  # the editor then loads that cell's code
            self.page.wait_for_function(
                "b => document.querySelector('#code-editor .cm-content').innerText !== b",
                arg=before,
                timeout=WAIT_MS,
            )
        self.page.locator("#code-editor .cm-content").click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(code)

    def run_code(self, code: str, expect: str, cell: int = 1) -> Any:
        """Put code in a cell, run it, and wait until its outputs show `expect`."""
        self.set_code(code, cell)
        self.page.locator("#run-code").click()
        self.page.wait_for_function(
            """([i, text, done]) => {
                const nb = document.querySelector('#notebook .cg-nb');
                const c = document.querySelectorAll('#notebook .cg-cell')[i];
                return nb.dataset.busy === 'false' && c && done.includes(c.dataset.status)
                    && c.querySelector('.cg-outputs').innerText.includes(text);
            }""",
            arg=[cell - 1, expect, DONE],
            timeout=WAIT_MS,
        )
        return self.cells().nth(cell - 1).locator(".cg-outputs")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any, app: Any) -> Iterator[Tab]:
    t = Tab(browser, app.url)
    yield t
    assert t.problems == [], "the browser console reported problems"
    t.close()


def test_a_turn_streams_code_then_shows_an_output_or_error(tab: Tab) -> None:
    page = tab.page
    page.evaluate(
        """() => {
            window.__seen = [];
            window.__t0 = performance.now();
            new MutationObserver(() => {
                const c = document.querySelector('#notebook .cg-cell');
                if (c) window.__seen.push([c.dataset.status, performance.now(),
                                           c.querySelector('.cg-code').innerText.length]);
            }).observe(document.querySelector('#notebook'),
                       {subtree: true, childList: true, characterData: true});
        }"""
    )
    box = page.locator("#instruction textarea")
    box.fill("first line")
    box.press("Shift+Enter")  # a new line, not a submit
    box.type("second line")
    assert box.input_value() == "first line\nsecond line"
    box.fill("print the sum of 1 and 2")
    page.evaluate("() => { window.__t0 = performance.now(); }")
    box.press("Enter")
    tab.wait_cells(1)
    seen = page.evaluate("() => window.__seen")
    t0 = page.evaluate("() => window.__t0")
    generating = [s for s in seen if s[0] == "generating"]
    assert len({s[2] for s in generating}) >= 2, "the code did not stream in"
    cell = tab.cells().first
    status = cell.get_attribute("data-status")
    assert status in ("ok", "error", "empty")
    if status == "empty":
        assert "wrote no code" in cell.inner_text()
    else:
        assert cell.locator(".cg-outputs > *, .cg-msg").count() >= 1
    assert page.locator("#instruction textarea").input_value() == ""
    # The turn's overhead outside generation and execution, for the record (never asserted).
    end = next(s[1] for s in seen if s[0] in DONE)
    gen = float(cell.get_attribute("data-generate-s") or 0)
    run = float(cell.get_attribute("data-run-s") or 0)
    OUT.mkdir(parents=True, exist_ok=True)
    overhead = {"total_s": (end - t0) / 1000, "generate_s": gen, "run_s": run}
    overhead["overhead_s"] = overhead["total_s"] - gen - run
    (OUT / "turn-overhead.json").write_text(json.dumps(overhead, indent=1))


def test_edited_code_runs_and_shows_its_output_and_a_plot(tab: Tab) -> None:
    tab.submit("make a list")
    out = tab.run_code("print(6 * 7)", "42")
    expect(out).to_have_text("42\n")
    expect(tab.cells().first.locator(".cg-badge")).to_contain_text("edited")
    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9, 16])\nplt.show()\n"
    img = tab.run_code(plot, "").locator("img.cg-img")
    expect(img).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert img.evaluate("i => i.naturalWidth") > 100
    tab.submit("make a table")
    table = "import pandas as pd\npd.DataFrame({'name': ['Ann', 'Bob'], 'mark': [72, 58]})"
    expect(tab.run_code(table, "Ann", cell=2).locator("table")).to_have_count(1)
    tab.page.get_by_text("Prompt inspector").click()
    OUT.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(OUT / "main-view.png"), full_page=True)


def test_kernel_html_is_sanitised_and_templates_are_not_evaluated(tab: Tab) -> None:
    tab.submit("show a table")
    code = (
        "import pandas as pd\nfrom IPython.display import HTML, display\n"
        'display(HTML(\'<b id=x>bold</b><img src=x onerror="window.__pwned=1">'
        "<script>window.__pwned=2</script>'))\n"
        "print('${1+1} {{value}} `tick`')\n"
        "pd.DataFrame({'a': [1, 2], 'b': [3, 4]})\n"
    )
    out = tab.run_code(code, "${1+1} {{value}} `tick`")
    expect(out.locator("table")).to_have_count(1)
    expect(out.locator("b").first).to_have_text("bold")
    tab.page.wait_for_timeout(500)
    assert tab.page.evaluate("() => window.__pwned") is None
    expect(out.locator("script")).to_have_count(0)


def test_restart_and_undo(tab: Tab) -> None:
    tab.submit("first step")
    tab.run_code("kept = 5\nprint(kept)", "5")
    tab.page.locator("#restart-kernel").click()
    tab.page.wait_for_function(
        "() => document.querySelector('#status').innerText.includes('kernel: restarted')",
        timeout=WAIT_MS,
    )
    tab.run_code("print(kept)", "NameError")
    tab.submit("second step")
    expect(tab.cells()).to_have_count(2)
    tab.page.locator("#undo").click()
    tab.page.wait_for_function(
        "() => document.querySelectorAll('#notebook .cg-cell').length === 1", timeout=WAIT_MS
    )


def test_download_gives_a_valid_notebook(tab: Tab, tmp_path: Path) -> None:
    import nbformat

    from codegen_ui.core import PREAMBLE
    from codegen_ui.notebooks import from_notebook, to_script

    tab.submit("a step to save")
    tab.run_code("print('saved')", "saved")
    # The file is written when the button is pressed, from the session saved at that moment.
    with tab.page.expect_download(timeout=WAIT_MS) as info:
        tab.page.locator("#download-ipynb").click()
    path = tmp_path / "download.ipynb"
    info.value.save_as(path)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    turns, _ = from_notebook(nb)
    assert [t.instruction for t in turns] == ["a step to save"]
    assert turns[0].outputs[0]["text"] == "saved\n"
    with tab.page.expect_download(timeout=WAIT_MS) as info:
        tab.page.locator("#download-py").click()
    script = tmp_path / "download.py"
    info.value.save_as(script)
    assert script.read_text() == to_script(turns, PREAMBLE)


def test_sessions_panel_new_then_open_brings_the_turns_back(tab: Tab) -> None:
    page = tab.page
    tab.submit("a step to keep")
    expect(page.locator("#title input, #title textarea").first).to_have_value("Untitled")
    page.locator("#new-session").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#notebook .cg-cell').length === 0", timeout=WAIT_MS
    )
    page.locator("#session-list input").click()
    page.get_by_role("option").filter(has_text="1 turns").first.click()
    page.locator("#open-session").click()
    tab.wait_cells(1)
    expect(tab.cells().first.locator(".cg-instr")).to_have_text("a step to keep")
    expect(page.locator("#notebook .cg-note")).to_contain_text("Replay all")


def _wait_kernels(app: Server, n: int) -> int:
    deadline = time.monotonic() + 60
    while app.kernels() != n and time.monotonic() < deadline:
        time.sleep(0.5)
    return app.kernels()


def test_two_browser_sessions_get_separate_kernels(browser: Any, app: Server) -> None:
    # Tabs of earlier tests are closed: their kernels must be gone (Gradio's unload event).
    assert _wait_kernels(app, 0) == 0
    first, second = Tab(browser, app.url), Tab(browser, app.url)
    try:
        first.submit("a step")
        second.submit("a step")
        first.run_code("secret = 'mine'\nprint(secret)", "mine")
        second.run_code("print(secret)", "NameError")
        assert first.problems == [] and second.problems == []
        assert app.kernels() == 2
    finally:
        first.close()
    assert _wait_kernels(app, 1) == 1  # closing a tab shuts its kernel down
    second.run_code("print('still here')", "still here")
    second.close()


def _get(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_the_server_exposes_only_the_page(app: Server) -> None:
    """Stable ids, no public API endpoints, monitoring off, uploads capped."""
    status, body = _get(app.url + "config")
    config = json.loads(body)
    ids = {c["props"].get("elem_id") for c in config["components"]}
    assert {
        "instruction",
        "submit",
        "stop",
        "notebook",
        "code-editor",
        "run-code",
        "restart-kernel",
        "download-ipynb",
    } <= ids
    assert {d.get("api_visibility") for d in config["dependencies"]} == {"private"}
    status, body = _get(app.url + "gradio_api/info")
    assert json.loads(body) == {"named_endpoints": {}, "unnamed_endpoints": {}}
    assert _get(app.url + "monitoring")[0] in (403, 404)
    boundary = "xyzzy"
    big = b"x" * (6 * 1024 * 1024)
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.ipynb"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _ = _get(
        app.url + "gradio_api/upload",
        form,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 413


def test_files_in_a_kernel_folder_are_not_served(tab: Tab, app: Server) -> None:
    tab.submit("write a file")
    out = tab.run_code(
        "import os\nopen('leak.txt', 'w').write('private')\nprint('cwd=' + os.getcwd())", "cwd="
    )
    cwd = out.inner_text().strip().removeprefix("cwd=")
    assert Path(cwd, "leak.txt").read_text() == "private"
    for route in ("gradio_api/file=", "file="):
        status, body = _get(app.url + route + cwd + "/leak.txt")
        assert status != 200 and b"private" not in body
