"""A session's data files in the store: kept beside the notebook, copied by Copy and by
copy-on-open, moved with trash and restore, mirrored from and put back into a kernel's folder,
and round-tripped through a .zip; names, sizes and counts checked at every door."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from codegen_ui.core import Turn
from codegen_ui.files import SCAN_CAP, FileLimits, FilesError, FolderFiles
from codegen_ui.notebooks import FileExists, SessionStore, StoreError, export_zip, import_zip

CSV = b"month,total\n2024-01,10\n2024-02,12\n"


def _store(tmp_path: Path, limits: FileLimits | None = None) -> SessionStore:
    return SessionStore(tmp_path / "sessions", limits)


def _session(store: SessionStore) -> str:
    return store.create("Sales", [Turn(instruction="load the data", code="x = 1")]).id


def test_files_sit_beside_the_notebook_and_overwrite_asks_first(tmp_path: Path) -> None:
    store = _store(tmp_path)
    sid = _session(store)
    store.data.add(sid, "data.csv", CSV)
    assert (store.root / f"{sid}.files" / "data.csv").read_bytes() == CSV
    with pytest.raises(FileExists, match="exists already"):
        store.data.add(sid, "data.csv", b"other")
    assert store.data.read(sid, "data.csv") == CSV
    store.data.add(sid, "data.csv", b"other", replace=True)
    assert store.data.read(sid, "data.csv") == b"other"
    with pytest.raises(FilesError):
        store.data.add(sid, "../escape.csv", b"x")
    assert not (store.root / "escape.csv").exists()


def test_copy_gives_the_copy_files_of_its_own(tmp_path: Path) -> None:
    store = _store(tmp_path)
    sid = _session(store)
    store.data.add(sid, "data.csv", CSV)
    store.data.add(sid, "raw/q1.csv", b"q1")
    copy = store.duplicate(sid).id
    assert [e.name for e in store.data.list(copy)] == ["data.csv", "raw/q1.csv"]
    store.data.add(copy, "data.csv", b"the student's", replace=True)
    assert store.data.read(sid, "data.csv") == CSV  # the teacher's stays


def test_trash_and_restore_keep_the_files(tmp_path: Path) -> None:
    store = _store(tmp_path)
    sid = _session(store)
    store.data.add(sid, "data.csv", CSV)
    store.delete(sid)
    assert not (store.root / f"{sid}.files").exists()
    assert (store.root / ".trash" / f"{sid}.files" / "data.csv").read_bytes() == CSV
    store.trash.restore(sid)
    assert store.data.read(sid, "data.csv") == CSV


def test_expired_trash_takes_the_files_too(tmp_path: Path) -> None:
    store = _store(tmp_path)
    sid = _session(store)
    store.data.add(sid, "data.csv", CSV)
    store.delete(sid)
    old = store.root / ".trash" / f"{sid}.ipynb"
    os.utime(old, (0, 0))
    assert store.trash.list() == []
    assert not (store.root / ".trash" / f"{sid}.files").exists()


def test_a_zip_round_trips_the_notebook_and_its_files(tmp_path: Path) -> None:
    store = _store(tmp_path)
    sid = _session(store)
    store.data.add(sid, "data.csv", CSV)
    store.data.add(sid, "raw/données.csv", "é".encode())
    path = export_zip(store, sid)
    assert path.suffix == ".zip"
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["Sales.ipynb", "files/data.csv", "files/raw/données.csv"]
    back = import_zip(store, path.read_bytes())
    assert back.id != sid and back.title == "Sales"
    assert [t.code for t in store.load(back.id)[0]] == ["x = 1"]
    assert store.data.read(back.id, "data.csv") == CSV
    assert store.data.read(back.id, "raw/données.csv") == "é".encode()
    # The .ipynb download is the notebook alone, as before.
    assert store.export_ipynb(sid).read_bytes().startswith(b"{")


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


def test_a_bad_zip_gets_one_line_and_makes_no_session(tmp_path: Path) -> None:
    store = _store(tmp_path, FileLimits(file_bytes=1000, session_bytes=1500, count=3))
    nb = store.export_ipynb(_session(store)).read_bytes()
    before = len(store.list())
    cases = {
        b"not a zip": "not a .zip",
        _zip({"a.ipynb": nb, "b.ipynb": nb}): "one .ipynb",
        _zip({"a.ipynb": nb, "files/../../evil": b"x"}): "'..'",
        _zip({"a.ipynb": nb, "files/bomb": b"\0" * 10_000}): "at most 1000 B",
        _zip({"a.ipynb": nb, "files/a": b"1" * 900, "files/b": b"1" * 900}): "more than",
        _zip({"a.ipynb": nb, **{f"files/{i}": b"" for i in range(4)}}): "at most 3 files",
    }
    for data, why in cases.items():
        with pytest.raises((FilesError, StoreError), match=why) as info:
            import_zip(store, data)
        assert "\n" not in str(info.value)
    assert len(store.list()) == before


def test_mirror_keeps_what_fits_and_names_the_rest(tmp_path: Path) -> None:
    limits = FileLimits(file_bytes=100, session_bytes=150, count=3)
    store = _store(tmp_path, limits)
    sid = _session(store)
    work = FolderFiles(tmp_path / "work")
    work.write("a.csv", b"a" * 60)
    work.write("b.csv", b"b" * 60)
    work.write("c.csv", b"c" * 60)  # over the 150 in all
    work.write("huge.bin", b"h" * 101)  # over the 100 a file
    os.symlink("/etc/passwd", tmp_path / "work" / "passwd")
    note = store.data.mirror(sid, work)
    assert "c.csv" in note and "huge.bin" in note and "passwd" not in note
    assert [e.name for e in store.data.list(sid)] == ["a.csv", "b.csv"]
    work.delete("a.csv")  # the code deleted a file: so does the store
    work.write("b.csv", b"B" * 60)  # and changed one
    assert "huge.bin" in store.data.mirror(sid, work)
    assert [e.name for e in store.data.list(sid)] == ["b.csv", "c.csv"]
    assert store.data.read(sid, "b.csv") == b"B" * 60


def test_a_listing_cut_at_its_cap_deletes_nothing_stored(tmp_path: Path) -> None:
    store = _store(tmp_path, FileLimits(file_bytes=100, session_bytes=1000, count=5))
    sid = _session(store)
    work = FolderFiles(tmp_path / "work")
    work.write("a.csv", b"a")
    work.write("zz.csv", b"z")
    assert store.data.mirror(sid, work) == ""
    # A cell makes more entries than a listing looks at; zz.csv sorts after all of them.
    bulk = tmp_path / "work" / "bulk"
    bulk.mkdir()
    for i in range(SCAN_CAP + 10):
        (bulk / f"{i:05}").write_bytes(b"")
    listing = work.list()
    assert not listing.complete and "zz.csv" not in {e.name for e in listing}
    work.write("a.csv", b"A")  # changed: still copied
    note = store.data.mirror(sid, work)
    assert note.startswith("the kernel's folder has too many entries")
    assert "not kept with the session" in note  # bulk/ is over the count of 5
    held = store.data.list(sid)
    assert {"a.csv", "zz.csv"} <= {e.name for e in held} and len(held) <= 5
    assert store.data.read(sid, "a.csv") == b"A" and store.data.read(sid, "zz.csv") == b"z"
    # Once the listing is complete again, what the code deleted goes from the store too.
    shutil.rmtree(bulk)
    work.delete("zz.csv")
    assert store.data.mirror(sid, work) == ""
    assert [e.name for e in store.data.list(sid)] == ["a.csv"]


def test_stored_files_keep_their_place_before_new_ones(tmp_path: Path) -> None:
    store = _store(tmp_path, FileLimits(file_bytes=100, session_bytes=100, count=3))
    sid = _session(store)
    store.data.add(sid, "zz.csv", b"z" * 40)
    work = FolderFiles(tmp_path / "work")
    store.data.put_back(sid, work)
    work.write("a.csv", b"a" * 70)  # sorts first, but would push the stored file out
    assert "a.csv" in store.data.mirror(sid, work)
    assert [e.name for e in store.data.list(sid)] == ["zz.csv"]
    work.write("zz.csv", b"Z" * 90)  # a stored file grows past what fits beside nothing else
    work.write("b.csv", b"b" * 50)
    store.data.mirror(sid, work)
    held = store.data.list(sid)
    assert sum(e.size for e in held) <= 100 and store.data.read(sid, "zz.csv") == b"Z" * 90


def test_put_back_makes_the_kernel_folder_the_sessions(tmp_path: Path) -> None:
    store = _store(tmp_path)
    sid = _session(store)
    store.data.add(sid, "data.csv", CSV)
    work = FolderFiles(tmp_path / "work")
    work.write("another session's.csv", b"theirs")
    (tmp_path / "work" / ".ipython").mkdir()
    store.data.put_back(sid, work)
    assert [e.name for e in work.list()] == ["data.csv"]
    assert (tmp_path / "work" / ".ipython").is_dir()
    store.data.put_back(None, work)
    assert work.list() == ()


def test_a_full_disk_while_storing_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    store = _store(tmp_path)
    sid = _session(store)
    store.data.add(sid, "data.csv", CSV)
    real_write = os.write

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(FilesError, match="No space left") as info:
        store.data.add(sid, "data.csv", b"new", replace=True)
    monkeypatch.setattr(os, "write", real_write)
    assert "\n" not in str(info.value)
    assert store.data.read(sid, "data.csv") == CSV
    assert [p.name for p in (store.root / f"{sid}.files").iterdir()] == ["data.csv"]
