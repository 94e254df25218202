"""Complete in a real Chromium: a cell of one's own code (`+ Code cell`) with a signature and a
docstring grows by the model's continuation after the typed text, kept byte for byte, from the
button and from Ctrl+Space in the editor; it runs; Undo takes it back. Screenshots of a cell
before and after Complete (desktop 1280 px, phone 390 px) go to test-output/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.notebooks import SessionStore
from tests.browserkit import DESKTOP, DONE, OUT, PHONE, WAIT_MS, Server, Tab, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect
SHOTS = OUT.parent  # test-output/
ADD = 'def add(a, b):\n    """Return the sum of a and b."""\n'


@pytest.fixture(scope="module")
def app(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(tiny_model_dir, tmp_path_factory.mktemp("complete"))


def saved_codes(app: Server, tab: Tab) -> list[str]:
    sid = tab.page.evaluate("() => new URL(location.href).searchParams.get('session')")
    return [t.code for t in SessionStore(app.sessions).load(sid)[0]]


def new_code_cell(tab: Tab, code: str) -> Any:
    """`+ Code cell`, then type `code` into its editor (which opens at once)."""
    n = tab.cells().count()
    tab.page.locator("#add-code").click()
    expect(tab.cells()).to_have_count(n + 1, timeout=WAIT_MS)
    editor = tab.cell(n + 1).locator("textarea.cg-editor")
    expect(editor).to_be_focused(timeout=WAIT_MS)
    editor.fill(code)
    return editor


def revision(tab: Tab) -> str:
    return str(tab.page.locator("#notebook .cg-nb").get_attribute("data-revision"))


def wait_done_after(tab: Tab, before: str, cell: int) -> None:
    """Wait until the notebook changed since revision `before` and the action is over."""
    tab.page.wait_for_function(
        """([before, n, done]) => {
            const nb = document.querySelector('#notebook .cg-nb');
            const c = document.querySelector(`#notebook [data-cell="${n}"]`);
            return nb.dataset.revision !== before && nb.dataset.busy === 'false' && c
                && done.includes(c.dataset.status); }""",
        arg=[before, cell, DONE],
        timeout=WAIT_MS,
    )


def shot(tab: Tab, name: str) -> None:
    # The page's buttons settle with the last view: shoot the page as the user then sees it.
    expect(tab.page.locator("#submit")).to_be_enabled(timeout=WAIT_MS)
    expect(tab.page.locator("#stop")).to_be_disabled(timeout=WAIT_MS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SHOTS / name), full_page=True, animations="disabled")


def test_complete_keeps_the_typed_prefix_grows_the_cell_runs_it_and_undo_takes_it_back(
    tab: Tab, app: Server
) -> None:
    new_code_cell(tab, ADD)
    cell = tab.cell(1)
    shot(tab, "complete-desktop-before.png")
    before = revision(tab)
    cell.locator('[data-action="complete"]').click()
    wait_done_after(tab, before, 1)
    shot(tab, "complete-desktop-after.png")
    code = saved_codes(app, tab)[0]
    assert code.startswith(ADD) and len(code) > len(ADD), code
    assert tab.codes()[0].startswith(ADD.rstrip("\n"))
    assert cell.get_attribute("data-state") in ("ok", "error")  # it ran (tiny model: any text)
    assert cell.locator(".cg-count").inner_text() == "[1]"
    expect(cell.locator(".cg-msg")).to_contain_text("the model continued your code")
    # Undo takes the completion back: the typed code, exactly.
    tab.page.locator("#undo").click()
    tab.page.wait_for_function(
        "c => document.querySelector('[data-cell=\"1\"] .cg-code').innerText === c",
        arg=ADD,
        timeout=WAIT_MS,
    )
    assert saved_codes(app, tab) == [ADD]
    assert tab.page.evaluate("() => document.documentElement.scrollWidth") <= DESKTOP["width"]


def test_ctrl_space_in_the_editor_completes_the_half_written_code(tab: Tab, app: Server) -> None:
    typed = "for i in range(3):\n"
    editor = new_code_cell(tab, typed)
    before = revision(tab)
    editor.press("Control+Space")
    wait_done_after(tab, before, 1)
    code = saved_codes(app, tab)[0]
    assert code.startswith(typed) and len(code) > len(typed), code
    expect(tab.cell(1).locator("textarea")).to_have_count(0)  # it streamed into the code view


def test_complete_on_a_phone_fits_the_screen(browser: Any, app: Server) -> None:
    phone = Tab(browser, app.url, viewport=PHONE)
    try:
        new_code_cell(phone, ADD)
        shot(phone, "complete-phone-before.png")
        before = revision(phone)
        phone.cell(1).locator('[data-action="complete"]').click()
        wait_done_after(phone, before, 1)
        assert phone.in_view('#notebook [data-cell="1"]')
        shot(phone, "complete-phone-after.png")
        page = phone.page
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        assert saved_codes(app, phone)[0].startswith(ADD)
        assert phone.problems == []
    finally:
        phone.close()
