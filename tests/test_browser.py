"""End to end in a real Chromium: the app on a free local port with the tiny model, driven by
Playwright (`tests.browserkit`). Each test opens its own browser context, so each is its own
browser session with its own kernel. Skipped where Chromium or Playwright is missing."""

from __future__ import annotations

import json
import re
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browserkit import DONE, OUT, WAIT_MS, Server, Tab, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def app(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Small data-file limits, so the upload cap (a session's files plus a notebook) is 6 MB. A
    # closed tab's kernel goes after 3 s, not browserkit's 15: no test here reloads a page, and
    # the tests that count kernels wait out the grace (three times, 12 s each at 15 s).
    small = {
        "CODEGEN_UI_KERNEL_FILE_MB": "1",
        "CODEGEN_UI_FILES_SESSION_MB": "1",
        "CODEGEN_UI_KERNEL_GRACE_MINUTES": "0.05",
    }
    yield from serve(tiny_model_dir, tmp_path_factory.mktemp("browser"), env=small)


def test_a_turn_streams_code_then_shows_an_output_or_error(tab: Tab) -> None:
    page = tab.page
    page.evaluate(
        """() => {
            window.__seen = [];
            window.__t0 = performance.now();
            new MutationObserver(() => {
                const c = document.querySelector('#notebook [data-cell]');
                const code = c && c.querySelector('.cg-code');
                if (code) window.__seen.push([c.dataset.state, performance.now(),
                    code.innerText.length, c.querySelector('.cg-count').innerText,
                    c.dataset.status]);
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
    assert {s[3] for s in generating} == {"[*]"}  # a working cell says so
    assert {s[4] for s in generating} == {"running"}
    cell = tab.cells().first
    status = cell.get_attribute("data-status")
    assert status in ("ok", "error", "empty")
    if status == "empty":
        assert "wrote no code" in cell.inner_text()
    else:
        assert cell.locator(".cg-outputs > *, .cg-msg").count() >= 1
    assert page.locator("#instruction textarea").input_value() == ""
    # The turn's overhead outside generation and execution, for the record (never asserted).
    end = next(s[1] for s in seen if s[4] in DONE)
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
    expect(tab.cell(1).locator(".cg-badge")).to_contain_text("edited")
    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9, 16])\nplt.show()\n"
    img = tab.run_code(plot, "").locator("img.cg-img")
    expect(img).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert img.evaluate("i => i.naturalWidth") > 100
    tab.submit("make a table")
    table = "import pandas as pd\npd.DataFrame({'name': ['Ann', 'Bob'], 'mark': [72, 58]})"
    expect(tab.run_code(table, "Ann", cell=2).locator("table")).to_have_count(1)
    tab.page.locator("#tab-prompt-button, button[role=tab]:has-text('Prompt')").first.click()
    expect(tab.page.locator("#prompt")).to_contain_text("# make a table")
    expect(tab.page.locator("#prompt")).to_contain_text("<your next instruction>")


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


def test_restart_undo_and_redo(tab: Tab) -> None:
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
    expect(tab.page.locator("#redo")).to_be_disabled()
    tab.page.locator("#undo").click()
    expect(tab.cells()).to_have_count(1, timeout=WAIT_MS)
    tab.page.locator("#redo").click()
    expect(tab.cells()).to_have_count(2, timeout=WAIT_MS)
    expect(tab.cell(2).locator(".cg-instr")).to_have_text("second step")


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
    page.get_by_role("option").filter(has_text="1 turn ·").first.click()
    page.locator("#open-session").click()
    tab.wait_cells(1)
    expect(tab.cell(1).locator(".cg-instr")).to_have_text("a step to keep")
    expect(page.locator("#notebook .cg-toast")).to_contain_text("Replay all")
    expect(page.locator('#notebook .cg-replay [data-action="replay"]')).to_be_visible()


def test_enter_to_finished_cell_is_measured(tab: Tab) -> None:
    """The time from Enter to a finished cell, five turns, for the record (never asserted)."""
    page = tab.page
    page.evaluate(
        """() => { window.__done = {}; new MutationObserver(() => {
            const nb = document.querySelector('#notebook .cg-nb');
            document.querySelectorAll('#notebook [data-cell]').forEach((c) => {
                const n = c.dataset.cell;
                const working = ['running', 'waiting'].includes(c.dataset.status);
                if (nb.dataset.busy === 'false' && !working && !(n in window.__done))
                    window.__done[n] = performance.now();
            }); }).observe(document.querySelector('#notebook'),
                           {subtree: true, childList: true, attributes: true}); }"""
    )
    rows = []
    box = page.locator("#instruction textarea")
    for n in range(1, 6):
        box.fill(f"print the number {n}")
        t0 = page.evaluate("() => performance.now()")
        box.press("Enter")
        tab.wait_cells(n)
        end = page.evaluate(f"() => window.__done['{n}']")
        cell = tab.cell(n)
        gen = float(cell.get_attribute("data-generate-s") or 0)
        run = float(cell.get_attribute("data-run-s") or 0)
        rows.append({"total_s": (end - t0) / 1000, "generate_s": gen, "run_s": run})
    for row in rows:
        row["overhead_s"] = row["total_s"] - row["generate_s"] - row["run_s"]
    summary = {
        "turns": rows,
        "median_total_s": statistics.median(r["total_s"] for r in rows),
        "median_overhead_s": statistics.median(r["overhead_s"] for r in rows),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "enter-to-finished.json").write_text(json.dumps(summary, indent=1))


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
    # Closing a tab shuts its kernel down once the grace period for a reload is over.
    assert _wait_kernels(app, 1) == 1
    second.run_code("print('still here')", "still here")
    second.close()


# Four, not a classroom's dozen (which cost 78 s, mostly twelve kernels starting on two cores):
# what this proves needs turns from several tabs in flight together, each resumed on a Gradio
# worker thread of its own while one engine thread batches them; four turns do that as twelve
# did. A class's worth at once is test_api_load.py's (16 sessions through the same server).
TABS = 4


def test_several_tabs_submitting_at_once_all_finish(browser: Any, app: Server) -> None:
    # Every turn finishes (ok or error, whatever the tiny model wrote), none hangs, and the
    # server logs no traceback: generators resumed on any Gradio worker thread only read
    # queues; every forward pass runs on the engine thread.
    assert _wait_kernels(app, 0) == 0
    logged = len(app.log.read_bytes())
    tabs = [Tab(browser, app.url) for _ in range(TABS)]
    try:
        for i, t in enumerate(tabs):  # Enter in every tab before any turn has finished
            box = t.page.locator("#instruction textarea")
            box.fill(f"compute the square of {i}")
            box.press("Enter")
        for t in tabs:
            t.wait_cells(1)
        statuses = [t.cells().nth(0).get_attribute("data-status") for t in tabs]
        assert all(s in DONE and s != "stopped" for s in statuses), statuses
        assert [p for t in tabs for p in t.problems] == []
    finally:
        for t in tabs:
            t.close()
    log = app.log.read_bytes()[logged:].decode(errors="replace")
    assert "Traceback" not in log and "RuntimeError" not in log, log[-3000:]


def _get(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_the_server_exposes_only_the_page(app: Server) -> None:
    """Stable ids, no public endpoints but the session API's, monitoring off, uploads capped."""
    status, body = _get(app.url + "config")
    config = json.loads(body)
    ids = {c["props"].get("elem_id") for c in config["components"]}
    assert {
        "instruction",
        "submit",
        "stop",
        "notebook",
        "undo",
        "redo",
        "restart-kernel",
        "download-ipynb",
    } <= ids
    api = {"/new_session", "/turn", "/run_cell", "/fix_cell", "/notebook", "/close_session",
           "/share_session", "/stop_sharing", "/followed_notebook"}  # fmt: skip
    public = {
        "/" + d["api_name"] for d in config["dependencies"] if d.get("api_visibility") != "private"
    }
    assert public == api  # the page's own events stay private
    status, body = _get(app.url + "gradio_api/info")
    info = json.loads(body)
    assert set(info["named_endpoints"]) == api
    assert info["unnamed_endpoints"] == {}
    assert _get(app.url + "monitoring")[0] in (403, 404)
    # The follow links' routes only read: a wrong token is one line, and nothing is posted.
    status, body = _get(app.url + "follow/nonsense")
    assert status == 200 and json.loads(body)["line"] == "That is not a follow link."
    assert _get(app.url + "follow/nonsense/events", b"{}")[0] == 405
    boundary = "xyzzy"
    big = b"x" * (7 * 1024 * 1024)
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
