"""The Files panel in a real Chromium: upload data.csv, a cell reads it with pandas, the file the
cell writes is listed and downloads with the right bytes, a reload keeps both, another session
lists none of them and its kernel cannot open them, overwrite asks first, delete, drag and drop,
Download .zip, Upload .zip (the session it makes lists its files with the right bytes and a cell
reads them; a bad .zip gives one line and makes nothing), a cell that fills its folder (stopped
with the quota line) and a download of a file that went (the panel says so).
Screenshots of the panel (desktop 1280 px, phone 390 px) go to test-output/."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import Turn
from codegen_ui.notebooks import SessionStore, export_zip
from tests.browserkit import DESKTOP, OUT, PHONE, WAIT_MS, Server, Tab, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect
SHOTS = OUT.parent  # test-output/
CSV = b"month,total\n2024-01,10\n2024-01,5\n2024-02,12\n"
BY_MONTH = b"month,total\n2024-01,15\n2024-02,12\n"
CODE = (
    "import os, pandas as pd\n"
    "df = pd.read_csv('data.csv')\n"
    "df.groupby('month')['total'].sum().to_csv('by_month.csv')\n"
    "print('total', int(df['total'].sum()), os.getcwd())"
)


# Small data-file limits, so a cell that fills its folder stops within a few MB.
ENV = {"CODEGEN_UI_FILES_SESSION_MB": "2", "CODEGEN_UI_KERNEL_FILE_MB": "1"}


@pytest.fixture(scope="module")
def app(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(tiny_model_dir, tmp_path_factory.mktemp("files"), env=ENV)


def _row(tab: Tab, name: str) -> Any:
    return tab.page.locator(f'#files [data-file="{name}"]')


def _upload(tab: Tab, name: str, data: bytes) -> None:
    tab.page.set_input_files(
        "#upload-files input[type=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}],
    )


def _code_cell(tab: Tab, code: str, expect_text: str) -> str:
    n = tab.cells().count() + 1
    tab.page.locator("#add-code").click()
    tab.cell(n).locator("textarea.cg-editor").wait_for(timeout=WAIT_MS)
    return str(tab.run_code(code, expect_text, cell=n).inner_text())


def _session(tab: Tab) -> str:
    return str(tab.page.evaluate("() => new URL(location.href).searchParams.get('session')"))


def test_upload_read_with_pandas_download_reload_isolation_and_delete(
    tab: Tab, browser: Any, app: Server
) -> None:
    expect(tab.page.locator("#files .cg-files-empty")).to_be_visible(timeout=WAIT_MS)
    _upload(tab, "data.csv", CSV)
    expect(_row(tab, "data.csv")).to_contain_text(f"{len(CSV)} B", timeout=WAIT_MS)
    out = _code_cell(tab, CODE, "total 27")
    workdir = out.split("total 27", 1)[1].strip()
    # What the cell wrote shows once it finished, without a reload, and downloads as written.
    expect(_row(tab, "by_month.csv")).to_be_visible(timeout=WAIT_MS)
    with tab.page.expect_download(timeout=WAIT_MS) as download:
        _row(tab, "by_month.csv").locator('[data-action="download"]').click()
    assert download.value.suggested_filename == "by_month.csv"
    assert Path(download.value.path()).read_bytes() == BY_MONTH
    store = SessionStore(app.sessions)
    sid = _session(tab)
    assert store.data.read(sid, "by_month.csv") == BY_MONTH
    tab.page.locator("#files-panel").screenshot(path=str(SHOTS / "files-panel-desktop.png"))
    # A reload keeps both.
    tab.reload()
    tab.page.wait_for_selector("#notebook [data-cell]", timeout=WAIT_MS)
    expect(_row(tab, "data.csv")).to_be_visible(timeout=WAIT_MS)
    expect(_row(tab, "by_month.csv")).to_be_visible(timeout=WAIT_MS)
    # Another session lists none of them, and its kernel cannot open them.
    other = Tab(browser, app.url)
    try:
        expect(other.page.locator("#files .cg-files-empty")).to_be_visible(timeout=WAIT_MS)
        probe = f"try:\n    print(open({workdir + '/data.csv'!r}).read())\nexcept OSError as e:\n"
        probe += "    print('refused', type(e).__name__)"
        assert "refused" in _code_cell(other, probe, "refused")
        expect(other.page.locator("#files [data-file]")).to_have_count(0)
    finally:
        other.close()
    # Delete.
    _row(tab, "data.csv").locator('[data-action="delete"]').click()
    expect(_row(tab, "data.csv")).to_have_count(0, timeout=WAIT_MS)
    assert [e.name for e in store.data.list(sid)] == ["by_month.csv"]
    assert tab.problems == []


def test_overwrite_asks_first_and_drag_and_drop_uploads(tab: Tab, app: Server) -> None:
    _upload(tab, "data.csv", CSV)
    expect(_row(tab, "data.csv")).to_be_visible(timeout=WAIT_MS)
    _upload(tab, "data.csv", b"replaced\n")
    ask = tab.page.locator("#files .cg-files-ask")
    expect(ask).to_contain_text("data.csv exists already", timeout=WAIT_MS)
    tab.page.locator("#files-panel").screenshot(path=str(SHOTS / "files-panel-asking.png"))
    expect(_row(tab, "data.csv")).to_contain_text(f"{len(CSV)} B")
    ask.locator('[data-action="replace"]').click()
    expect(_row(tab, "data.csv")).to_contain_text("9 B", timeout=WAIT_MS)
    # Files dropped onto the notebook are uploaded as if chosen in the panel.
    dropped = tab.page.evaluate_handle(
        """() => { const dt = new DataTransfer();
            dt.items.add(new File(['a,b\\n1,2\\n'], 'dropped.csv', {type: 'text/csv'}));
            return dt; }"""
    )
    tab.page.dispatch_event("#notebook", "dragover", {"dataTransfer": dropped})
    tab.page.dispatch_event("#notebook", "drop", {"dataTransfer": dropped})
    expect(_row(tab, "dropped.csv")).to_contain_text("8 B", timeout=WAIT_MS)
    sid = _session(tab)
    assert SessionStore(app.sessions).data.read(sid, "dropped.csv") == b"a,b\n1,2\n"
    # Download .zip: the notebook with its files.
    with tab.page.expect_download(timeout=WAIT_MS) as download:
        tab.page.locator("#download-zip").click()
    with zipfile.ZipFile(download.value.path()) as zf:
        names = sorted(zf.namelist())
        assert names == ["Untitled.ipynb", "files/data.csv", "files/dropped.csv"]
        assert zf.read("files/data.csv") == b"replaced\n"
    assert tab.problems == []


def test_the_files_panel_on_a_phone(browser: Any, app: Server) -> None:
    tab = Tab(browser, app.url, viewport=PHONE)
    try:
        _upload(tab, "données de ventes 2024.csv", CSV)
        expect(_row(tab, "données de ventes 2024.csv")).to_be_visible(timeout=WAIT_MS)
        panel = tab.page.locator("#files-panel")
        panel.scroll_into_view_if_needed()
        box = panel.bounding_box()
        assert box is not None and box["width"] <= PHONE["width"]
        tab.page.screenshot(path=str(SHOTS / "files-panel-phone.png"), full_page=True)
        assert DESKTOP["width"] > PHONE["width"]
    finally:
        tab.close()


def _session_zip(tmp_path: Path, files: dict[str, bytes]) -> bytes:
    """A session .zip as Download .zip makes one, from a store of the test's own."""
    store = SessionStore(tmp_path / "made")
    sid = store.create("Sales", [Turn(instruction="load the data", code="x = 1")]).id
    for name, data in files.items():
        store.data.add(sid, name, data)
    return export_zip(store, sid).read_bytes()


def _upload_session(tab: Tab, name: str, data: bytes) -> None:
    """Click "Upload .ipynb or .zip" and choose the file, as a user does."""
    with tab.page.expect_file_chooser(timeout=WAIT_MS) as chooser:
        tab.page.locator("#upload-ipynb").click()
    chooser.value.set_files(files=[{"name": name, "mimeType": "application/zip", "buffer": data}])


def test_upload_zip_makes_a_session_with_its_files_and_a_bad_zip_makes_nothing(
    tab: Tab, app: Server, tmp_path: Path
) -> None:
    raw = bytes(range(256)) * 40  # not text: every byte value, 10 KB
    zipped = _session_zip(tmp_path, {"data.csv": CSV, "raw/2024.bin": raw})
    before = _session(tab)
    _upload_session(tab, "Sales.zip", zipped)
    expect(_row(tab, "raw/2024.bin")).to_contain_text("10.0 KB", timeout=WAIT_MS)
    expect(_row(tab, "data.csv")).to_contain_text(f"{len(CSV)} B")
    expect(tab.page.locator("#notebook")).to_contain_text("load the data")
    sid = _session(tab)
    assert sid and sid != before
    store = SessionStore(app.sessions)
    assert store.data.read(sid, "data.csv") == CSV and store.data.read(sid, "raw/2024.bin") == raw
    # The session's kernel has them, byte for byte.
    check = (
        "import hashlib\n"
        "print('csv', open('data.csv', 'rb').read() == " + repr(CSV) + ")\n"
        "print('raw', hashlib.sha256(open('raw/2024.bin', 'rb').read()).hexdigest())"
    )
    out = _code_cell(tab, check, "raw ")
    assert "csv True" in out and hashlib.sha256(raw).hexdigest() in out
    with tab.page.expect_download(timeout=WAIT_MS) as download:
        _row(tab, "raw/2024.bin").locator('[data-action="download"]').click()
    assert Path(download.value.path()).read_bytes() == raw
    # A bad .zip: one line, and no session, no file changes.
    sessions = len(store.list())
    _upload_session(tab, "broken.zip", b"PK\x03\x04 this is not a zip")
    expect(tab.page.locator("#notebook")).to_contain_text(
        "that is not a .zip file", timeout=WAIT_MS
    )
    assert _session(tab) == sid and len(store.list()) == sessions
    expect(tab.page.locator("#files [data-file]")).to_have_count(2)
    assert tab.problems == []


def test_a_cell_that_fills_its_folder_stops_and_a_vanished_file_says_so(
    tab: Tab, app: Server
) -> None:
    fill = "i = 0\nwhile True:\n    open(f'f{i}.bin', 'wb').write(b'x' * (256 << 10))\n    i += 1"
    _code_cell(tab, fill, "QuotaError")
    cell = tab.cell(tab.cells().count())
    expect(cell).to_contain_text("passed this session's quota of 2.0 MB")
    cell.screenshot(path=str(SHOTS / "files-quota-cell.png"))
    expect(tab.page.locator("#files .cg-files-note")).to_contain_text(
        "not kept with the session", timeout=WAIT_MS
    )
    sid = _session(tab)
    held = SessionStore(app.sessions).data.list(sid)
    assert held and sum(e.size for e in held) <= 2 << 20
    # The kernel still works, with its variables; removing the files is not stopped.
    tidy = "import glob, os\nfor f in glob.glob('f*.bin'):\n    os.remove(f)\nprint('left', i > 7)"
    assert "left True" in _code_cell(tab, tidy, "left ")
    expect(tab.page.locator("#files [data-file]")).to_have_count(0, timeout=WAIT_MS)
    # A file that goes between the listing and the click (from the kernel's folder and the
    # store, as another tab's Delete would): the panel says so in one line.
    out = _code_cell(tab, "open('soon.csv', 'w').write('a')\nprint('made', os.getcwd())", "made")
    expect(_row(tab, "soon.csv")).to_be_visible(timeout=WAIT_MS)
    (Path(out.split("made", 1)[1].strip()) / "soon.csv").unlink()
    SessionStore(app.sessions).data.delete(sid, "soon.csv")
    _row(tab, "soon.csv").locator('[data-action="download"]').click()
    expect(tab.page.locator("#files .cg-files-note")).to_contain_text(
        "soon.csv could not be downloaded: there is no file soon.csv", timeout=WAIT_MS
    )
    expect(_row(tab, "soon.csv")).to_have_count(0)
    tab.page.locator("#files-panel").screenshot(path=str(SHOTS / "files-panel-gone.png"))
    assert tab.problems == []
