"""The notebook in a real Chromium: cells edited in place, undo and redo, the address keeps the
session, two tabs on one session, the running state, messages in view, the phone layout, and a
model that cannot load. Screenshots (desktop 1280 px, phone 390 px) go to test-output/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.notebooks import SessionStore
from tests.browserkit import DESKTOP, OUT, PHONE, WAIT_MS, Server, Tab, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect
SHOTS = OUT.parent  # test-output/


@pytest.fixture(scope="module")
def app(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(tiny_model_dir, tmp_path_factory.mktemp("notebook"))


def on_disk(app: Server, tab: Tab) -> list[str]:
    sid = tab.page.evaluate("() => new URL(location.href).searchParams.get('session')")
    return [t.code for t in SessionStore(app.sessions).load(sid)[0]]


def test_edit_cell_one_of_three_in_place_twice_leaves_cells_two_and_three(
    tab: Tab, app: Server
) -> None:
    for step in ("one", "two", "three"):
        tab.submit(f"step {step}")
    before = tab.codes()
    editor = tab.edit(1)
    expect(editor).to_be_focused()
    tab.run_code("a = 1\nprint(a)", "1")
    tab.run_code("a = 2\nprint(a)", "2")
    codes = tab.codes()
    assert codes[0].strip() == "a = 2\nprint(a)" and codes[1:] == before[1:]
    # (A page cannot show a NUL byte, which the tiny model's random words may hold.)
    saved = [c.replace("\x00", "").strip() for c in on_disk(app, tab)]
    assert saved == [c.strip() for c in codes]
    # Escape leaves the editor; what was typed is kept, not lost.
    editor = tab.edit(2)
    editor.fill("kept = 'typed'")
    editor.press("Escape")
    expect(tab.cell(2).locator("textarea")).to_have_count(0, timeout=WAIT_MS)
    expect(tab.cell(2).locator(".cg-code")).to_have_text("kept = 'typed'")
    # An empty editor never wipes a cell: the press is refused where it is seen.
    editor = tab.edit(3)
    editor.fill("")
    editor.press("Control+Enter")
    toast = tab.page.locator("#notebook .cg-toast")
    expect(toast).to_contain_text("editor is empty", timeout=WAIT_MS)
    assert tab.in_view("#notebook .cg-toast")
    expect(tab.cell(3).locator("textarea.cg-editor")).to_be_visible()
    editor.press("Escape")
    expect(tab.cell(3).locator(".cg-code")).to_have_text(before[2].rstrip("\n"))


def test_undo_and_redo_an_edit_a_regeneration_and_a_delete(tab: Tab) -> None:
    tab.submit("step one")
    tab.submit("step two")
    original = tab.codes()
    tab.run_code("x = 'edited'\nprint(x)", "edited")
    edited = tab.codes()
    tab.edit(2)
    tab.cell(2).locator("textarea.cg-instr-edit").fill("step two, again")
    tab.cell(2).locator('[data-action="regenerate"]').click()
    tab.page.wait_for_function(
        """() => { const c = document.querySelector('[data-cell="2"]');
            return document.querySelector('#notebook .cg-nb').dataset.busy === 'false'
                && c.querySelector('.cg-instr').innerText === 'step two, again'
                && !['running', 'waiting'].includes(c.dataset.status); }""",
        timeout=WAIT_MS,
    )
    tab.cell(1).locator('[data-action="delete"]').click()
    expect(tab.cells()).to_have_count(1, timeout=WAIT_MS)
    expect(tab.cell(1).locator(".cg-instr")).to_have_text("step two, again")
    undo, redo = tab.page.locator("#undo"), tab.page.locator("#redo")
    undo.click()  # the delete
    expect(tab.cells()).to_have_count(2, timeout=WAIT_MS)
    undo.click()  # the regeneration
    expect(tab.cell(2).locator(".cg-instr")).to_have_text("step two", timeout=WAIT_MS)
    undo.click()  # the edit
    tab.page.wait_for_function(
        "c => document.querySelector('[data-cell=\"1\"] .cg-code').innerText === c",
        arg=original[0],
        timeout=WAIT_MS,
    )
    assert tab.codes() == original
    redo.click()
    tab.page.wait_for_function(
        "c => document.querySelector('[data-cell=\"1\"] .cg-code').innerText === c",
        arg=edited[0],
        timeout=WAIT_MS,
    )
    redo.click()
    expect(tab.cell(2).locator(".cg-instr")).to_have_text("step two, again", timeout=WAIT_MS)
    redo.click()
    expect(tab.cells()).to_have_count(1, timeout=WAIT_MS)
    expect(redo).to_be_disabled(timeout=WAIT_MS)


def test_reload_keeps_the_session_and_within_the_grace_period_its_variables(tab: Tab) -> None:
    tab.submit("set a variable")
    tab.run_code("kept = 41\nprint(kept)", "41")
    url = tab.page.url
    assert "session=" in url
    tab.reload()
    tab.page.wait_for_selector("#notebook [data-cell]", timeout=WAIT_MS)
    assert tab.page.url == url
    expect(tab.page.locator("#notebook .cg-toast")).to_contain_text("still here")
    expect(tab.cells()).to_have_count(1)
    tab.run_code("print(kept + 1)", "42")


def test_two_tabs_on_one_session_lose_nothing(browser: Any, app: Server) -> None:
    first = Tab(browser, app.url)
    try:
        first.submit("the first tab's step")
        second = Tab(browser, first.page.url)
        try:
            expect(second.cells()).to_have_count(1)
            first.submit("the first tab's second step")
            second.submit("the second tab's step")
            banner = second.page.locator("#notebook .cg-conflict")
            expect(banner).to_contain_text("another tab", timeout=WAIT_MS)
            assert second.in_view("#notebook .cg-conflict")
            shared = first.page.url
            second.page.locator('#notebook [data-action="keep-copy"]').click()
            second.page.wait_for_function("u => location.href !== u", arg=shared, timeout=WAIT_MS)
            expect(banner).to_have_count(0)
            store = SessionStore(app.sessions)
            sid = shared.split("session=")[1]
            copy = second.page.url.split("session=")[1]
            mine = [t.instruction for t in store.load(sid)[0]]
            theirs = [t.instruction for t in store.load(copy)[0]]
            assert mine == ["the first tab's step", "the first tab's second step"]
            assert theirs == ["the first tab's step", "the second tab's step"]
            assert first.problems == [] and second.problems == []
        finally:
            second.close()
    finally:
        first.close()


def test_the_running_cell_shows_a_star_disables_what_cannot_act_and_stop_says_stopped(
    tab: Tab,
) -> None:
    tab.submit("wait a while")
    editor = tab.edit(1)
    editor.fill("import time\nprint('before', flush=True)\ntime.sleep(30)")
    editor.press("Shift+Enter")
    cell = tab.cell(1)
    expect(cell).to_have_attribute("data-status", "running", timeout=WAIT_MS)
    expect(cell.locator(".cg-count")).to_have_text("[*]")
    expect(cell.locator(".cg-badge")).to_contain_text("running")
    expect(cell.locator(".cg-outputs")).to_contain_text("before", timeout=WAIT_MS)
    for action in ("run", "regenerate", "delete"):
        expect(cell.locator(f'[data-action="{action}"]')).to_be_disabled()
    for button in ("#submit", "#undo", "#redo", "#replay"):
        expect(tab.page.locator(button)).to_be_disabled()
    tab.page.locator("#stop").click()
    expect(cell).to_have_attribute("data-status", "stopped", timeout=WAIT_MS)
    expect(cell.locator(".cg-msg")).to_have_text("stopped")
    expect(cell.locator(".cg-outputs")).not_to_contain_text("KeyboardInterrupt")
    expect(tab.page.locator("#submit")).to_be_enabled()


def test_screenshots_on_a_desktop(tab: Tab) -> None:
    tab.submit("make a list of squares")
    tab.run_code("squares = [i * i for i in range(1, 6)]\nprint(squares)", "25")
    tab.submit("plot them")
    plot = "import matplotlib.pyplot as plt\nplt.plot(squares)\nplt.show()\n"
    tab.run_code(plot, "", cell=2)
    tab.submit("put them in a table")
    table = "import pandas as pd\npd.DataFrame({'n': range(1, 6), 'square': squares})"
    tab.run_code(table, "square", cell=3)
    tab.edit(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SHOTS / "desktop-1280.png"), full_page=True)
    tab.page.keyboard.press("Escape")
    assert tab.page.evaluate("() => document.documentElement.scrollWidth") <= DESKTOP["width"]


def test_at_390_px_one_page_scroll_and_the_new_cell_in_view(browser: Any, app: Server) -> None:
    phone = Tab(browser, app.url, viewport=PHONE)
    try:
        for n in range(1, 5):
            phone.submit(f"print the number {n}")
            assert phone.in_view(f'#notebook [data-cell="{n}"]'), f"cell {n} is out of view"
        page = phone.page
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        nested = page.evaluate(
            """() => { const nb = document.querySelector('#notebook');
                let el = nb, boxes = [];
                while (el) { const s = getComputedStyle(el);
                  if (['auto', 'scroll'].includes(s.overflowY) && el.scrollHeight > el.clientHeight)
                    boxes.push(el.id || el.className);
                  el = el.parentElement; }
                return boxes; }"""
        )
        assert nested == [], f"the notebook scrolls inside {nested}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "phone-390.png"), full_page=True)
        assert phone.problems == []
    finally:
        phone.close()


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve("no-such-org/no-such-model", tmp_path_factory.mktemp("broken"))


def test_a_model_that_cannot_load_is_a_banner_and_submit_is_disabled(
    browser: Any, broken: Server
) -> None:
    t = Tab(browser, broken.url, ready=False)
    try:
        banner = t.page.locator("#banner .cg-model-error")
        expect(banner).to_contain_text("failed to load", timeout=WAIT_MS)
        submit = t.page.locator("#submit")
        expect(submit).to_be_disabled()
        expect(submit).to_contain_text("model failed to load")
    finally:
        t.close()
    assert "no-such-org/no-such-model" in broken.log.read_text()  # the terminal says it too


def test_a_deleted_session_is_restored_from_the_trash(tab: Tab, app: Server) -> None:
    tab.submit("a step worth keeping")
    sid = tab.page.url.split("session=")[1]
    tab.page.locator("#delete-session").click()  # the list shows this tab's session
    expect(tab.page.locator("#notebook .cg-toast")).to_contain_text("trash", timeout=WAIT_MS)
    assert not SessionStore(app.sessions).path(sid).exists()
    tab.page.get_by_text("Trash", exact=True).click()
    tab.page.locator("#trash-list input").click()
    tab.page.get_by_role("option").filter(has_text="deleted").first.click()
    tab.page.locator("#restore-session").click()
    expect(tab.page.locator("#notebook .cg-toast")).to_contain_text("Restored", timeout=WAIT_MS)
    turns, _ = SessionStore(app.sessions).load(sid)
    assert [t.instruction for t in turns] == ["a step worth keeping"]
