"""The Files panel's actions through the app's own controller (no browser): upload, overwrite asks
first, delete, download, the panel's rows, files put back on open, restart and Replay all, and
a teacher's files copied to each student that opens the session."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen_ui.core import SamplingParams
from codegen_ui.files import SCAN_CAP
from codegen_ui.web.controller import Controller
from codegen_ui.web.views import Fetched
from tests.test_ui import make

GREEDY_PARAMS = SamplingParams(max_new_tokens=16)
CSV = b"month,total\n2024-01,10\n"


@pytest.fixture
def made() -> Iterator[list[Controller]]:
    controllers: list[Controller] = []
    yield controllers
    for c in controllers:
        c.workspaces.shutdown()


def _upload(tmp_path: Path, name: str, data: bytes) -> str:
    folder = tmp_path / "uploads" / str(len(list(tmp_path.glob("uploads/*"))))
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    return str(folder / name)


def _rows(panel: str | None) -> list[tuple[str, str]]:
    assert panel is not None
    found = re.findall(r'data-file="([^"]*)"><span[^>]*>[^<]*</span><span[^>]*>([^<]*)<', panel)
    return [(html.unescape(n), s) for n, s in found]


def test_upload_lists_downloads_asks_before_overwriting_and_deletes(
    tmp_path: Path, made: list[Controller]
) -> None:
    c = make(tmp_path)
    made.append(c)
    view = c.upload_files("tab", [_upload(tmp_path, "data.csv", CSV)])
    assert _rows(view.files) == [("data.csv", "23 B")]
    ws = c.workspaces.get("tab")
    assert ws.saved.id is not None  # saved so the files have a place
    assert c.shelf.store.data.read(ws.saved.id, "data.csv") == CSV
    assert ws.kernel.kernel.files.read("data.csv") == CSV
    fetched = c.download_file("tab", "data.csv")
    path, panel = fetched.path, fetched.files
    assert path is not None and Path(path).read_bytes() == CSV and Path(path).name == "data.csv"
    assert panel is not None and "could not be downloaded" not in panel
    # The same name again: nothing changes until the user says Replace.
    view = c.upload_files("tab", [_upload(tmp_path, "data.csv", b"new")])
    assert "exists already" in (view.files or "") and 'data-action="replace"' in (view.files or "")
    assert ws.kernel.kernel.files.read("data.csv") == CSV
    view = c.files_action("tab", {"action": "keep"})
    assert ws.kernel.kernel.files.read("data.csv") == CSV and "exists" not in (view.files or "")
    c.upload_files("tab", [_upload(tmp_path, "data.csv", b"new")])
    c.files_action("tab", {"action": "replace"})
    assert ws.kernel.kernel.files.read("data.csv") == b"new"
    assert c.shelf.store.data.read(ws.saved.id, "data.csv") == b"new"
    # A bad name or a file over the limit: one line, nothing else changes.
    view = c.upload_files("tab", [_upload(tmp_path, ".env", b"x")])
    assert "kept for the kernel" in view.notebook and _rows(view.files) == [("data.csv", "3 B")]
    view = c.files_action("tab", {"action": "delete", "name": "data.csv"})
    assert _rows(view.files) == [] and c.shelf.store.data.list(ws.saved.id) == ()
    fetched = c.download_file("tab", "../../etc/passwd")
    path, panel = fetched.path, fetched.files
    assert path is None and panel is not None
    assert "../../etc/passwd could not be downloaded: " in html.unescape(panel)
    # A file that went between the listing and the click: no file, and the panel says so.
    ws.kernel.kernel.files.write("gone.csv", b"x")
    assert ("gone.csv", "1 B") in _rows(c.desk.panel(ws))
    (ws.kernel.kernel.files.root / "gone.csv").unlink()
    fetched = c.download_file("tab", "gone.csv")
    path, panel = fetched.path, fetched.files
    assert path is None and panel is not None
    assert "gone.csv could not be downloaded: there is no file gone.csv" in panel
    assert _rows(panel) == []
    assert c.download_file("no such tab", "gone.csv") == Fetched()  # the panel stays
    # More entries than a listing looks at: the panel says so.
    bulk = ws.kernel.kernel.files.root / "bulk"
    bulk.mkdir()
    for i in range(SCAN_CAP + 1):
        (bulk / str(i)).write_bytes(b"")
    assert f"too many entries to list them all (more than {SCAN_CAP})" in c.desk.panel(ws)
    shutil.rmtree(bulk)
    assert "too many entries" not in c.desk.panel(ws)


def test_files_are_put_back_on_restart_and_replay_and_cleared_for_a_new_session(
    tmp_path: Path, made: list[Controller]
) -> None:
    c = make(tmp_path)
    made.append(c)
    c.upload_files("tab", [_upload(tmp_path, "data.csv", CSV)])
    ws = c.workspaces.get("tab")
    folder = ws.kernel.kernel.files
    folder.delete("data.csv")  # as a cell might
    c.restart("tab")
    assert folder.read("data.csv") == CSV
    folder.delete("data.csv")
    list(c.replay("tab"))
    assert folder.read("data.csv") == CSV
    first = ws.saved.id
    view = c.new_session("tab")
    assert _rows(view.files) == [] and folder.list() == ()
    assert first is not None
    c.open_session("tab", first)
    assert folder.read("data.csv") == CSV


def test_a_teachers_files_are_copied_to_each_student_that_opens_the_session(
    tmp_path: Path, made: list[Controller]
) -> None:
    c = make(tmp_path, guarded=True)
    made.append(c)
    c.upload_files("teacher", [_upload(tmp_path, "data.csv", CSV)])
    teacher = c.workspaces.get("teacher").saved.id
    assert teacher is not None
    opened = []
    for student in ("ann", "bob"):
        view = c.open_page(student, teacher)
        ws = c.workspaces.get(student)
        assert ws.saved.id not in (None, teacher) and _rows(view.files) == [("data.csv", "23 B")]
        assert ws.kernel.kernel.files.read("data.csv") == CSV
        opened.append(ws)
    # Each has its own: a student's change is nobody else's.
    c.files_action("ann", {"action": "delete", "name": "data.csv"})
    assert opened[1].kernel.kernel.files.read("data.csv") == CSV
    assert c.shelf.store.data.read(teacher, "data.csv") == CSV


def test_the_sales_example_brings_its_file_and_the_prompt_names_no_files(
    tmp_path: Path, made: list[Controller]
) -> None:
    from codegen_ui.kernel import KernelPool
    from codegen_ui.web.examples import EXAMPLE_FILES

    c = make(tmp_path, pool=KernelPool(size=0))
    made.append(c)
    title = "Sales by month (with sales.csv)"
    view = c.load_example("tab", title)
    assert view.instruction and "sales.csv" in c.workspaces.get("tab").page.pending[1]
    assert [name for name, _ in _rows(view.files)] == ["sales.csv"]
    ws = c.workspaces.get("tab")
    (source,) = EXAMPLE_FILES[title]
    assert ws.kernel.kernel.files.read("sales.csv") == source.read_bytes()
    # The turns the example describes work on its data in a real kernel.
    code = (
        "import pandas as pd\n"
        "df = pd.read_csv('sales.csv', parse_dates=['date'])\n"
        "df['revenue'] = df['units'] * df['price']\n"
        "monthly = df.groupby(df['date'].dt.month)['revenue'].sum()\n"
        "print(len(monthly), round(monthly.sum(), 2))"
    )
    result = ws.kernel.run(code, 60)
    assert result.status == "ok", result.outputs
    assert str(result.outputs[0]["text"]).startswith("6 ")
    # The prompt stays the paper's: the session's files are not named in it.
    c.upload_files("tab", [_upload(tmp_path, "mydata.csv", CSV)])
    prompt, _ = c.views.prompt(ws)
    assert "mydata.csv" not in prompt and "sales.csv" not in prompt


def test_download_zip_and_upload_zip_bring_the_files_back(
    tmp_path: Path, made: list[Controller]
) -> None:
    c = make(tmp_path)
    made.append(c)
    c.upload_files("tab", [_upload(tmp_path, "data.csv", CSV)])
    list(c.submit("tab", "load the data", GREEDY_PARAMS))
    zipped = c.export("tab", "zip")
    ipynb = c.export("tab", "ipynb")
    assert zipped is not None and zipped.endswith(".zip")
    assert ipynb is not None and Path(ipynb).read_bytes().startswith(b"{")  # unchanged
    view = c.upload("other", zipped)
    ws = c.workspaces.get("other")
    assert ws.saved.id != c.workspaces.get("tab").saved.id
    assert [t.instruction for t in ws.session.turns] == ["load the data"]
    assert _rows(view.files) == [("data.csv", "23 B")]
    assert ws.kernel.kernel.files.read("data.csv") == CSV
