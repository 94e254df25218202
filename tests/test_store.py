"""The session store: ids, titles, listing, damaged files, and crash safety under kill -9."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from codegen_ui.core import Turn
from codegen_ui.notebooks import SessionStore, StoreError, parse
from codegen_ui.notebooks import store as store_module
from codegen_ui.notebooks.names import ID_PATTERN, MAX_TITLE
from codegen_ui.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _turns(*instructions: str) -> list[Turn]:
    return [Turn(i, code=f"print({n})\n", status="ok") for n, i in enumerate(instructions)]


class Clock:
    """The store's clock, moved on by the test: times are kept to the second, and no test waits."""

    def __init__(self) -> None:
        self.t = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> str:
        return self.t.isoformat(timespec="seconds")

    def tick(self) -> None:
        self.t += timedelta(seconds=1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(store_module, "now", clock)  # the one clock the store reads
    return clock


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_the_store_api_end_to_end(store: SessionStore, clock: Clock) -> None:
    first = store.create("lesson 1", _turns("a", "b"))
    assert ID_PATTERN.fullmatch(first.id) and len(first.id) >= 20
    assert (first.title, first.turns, first.error) == ("lesson 1", 2, "")
    assert first.created == clock()
    clock.tick()  # a second later: the newer one must list first
    second = store.create()
    assert second.title == "Untitled" and second.turns == 0
    assert [i.id for i in store.list()] == [second.id, first.id]

    turns, meta = store.load(first.id)
    assert [t.instruction for t in turns] == ["a", "b"]
    clock.tick()
    # A caller's stale title or times never undo a rename; other metadata is merged.
    store.rename(first.id, "lesson one")
    saved = store.save(first.id, [*turns, *_turns("c")], {**meta, "model": "tiny"})
    assert (saved.title, saved.turns, saved.created) == ("lesson one", 3, first.created)
    assert saved.updated > first.updated
    assert [i.id for i in store.list()] == [first.id, second.id]
    assert store.load(first.id)[1]["model"] == "tiny"

    copy = store.duplicate(first.id)
    assert copy.id not in (first.id, second.id) and copy.title == "lesson one (copy)"
    assert store.load(copy.id)[0] == store.load(first.id)[0]
    store.save(copy.id, _turns("student's own"))
    assert store.load(first.id)[0][0].instruction == "a"  # the original is untouched

    store.delete(first.id)
    assert {i.id for i in store.list()} == {second.id, copy.id}
    for call in (store.load, store.delete, store.export_py):
        with pytest.raises(StoreError, match="no session"):
            call(first.id)
    with pytest.raises(StoreError, match="deleted"):
        store.save(first.id, [])  # an autosave after a delete does not bring it back
    assert not store.path(first.id).exists()
    assert [t.id for t in store.trash.list()] == [first.id]  # but the trash can
    store.trash.restore(first.id)
    assert store.load(first.id)[0][0].instruction == "a" and store.trash.list() == []
    with pytest.raises(StoreError, match="not in the trash"):
        store.trash.restore(first.id)


def test_the_default_folder_comes_from_the_setting(tmp_path: Path) -> None:
    store = SessionStore(Settings.from_env().sessions_dir)
    assert store.root == tmp_path / "sessions" and store.root.is_dir()


def test_export_names_come_from_the_title_but_stay_inside_the_store(store: SessionStore) -> None:
    info = store.create("../../Über café: plan/v2", _turns("go"))
    py = store.export_py(info.id)
    assert py.name == "Uber-cafe-plan-v2.py" and py.parent == store.exports_dir / info.id
    assert py.read_text(encoding="utf-8").endswith("# go\nprint(0)\n\n\n")
    ipynb = store.export_ipynb(info.id)
    assert store.load(info.id)[0] == store.load(store.import_notebook(ipynb.read_bytes()).id)[0]


@pytest.mark.parametrize(
    "bad_id",
    ["", "..", "../x", "/etc/passwd", "a/b", "a.ipynb", "-rf", "x" * 65, "a\x00b", "ok id", "é"],
)
def test_anything_but_a_store_id_is_refused_everywhere(store: SessionStore, bad_id: str) -> None:
    calls = [
        store.path, store.load, store.delete, store.duplicate, store.export_py,
        store.export_ipynb, store.restore_previous,
        lambda i: store.save(i, []), lambda i: store.rename(i, "t"),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(StoreError, match="not a session id"):
            call(bad_id)
    with pytest.raises(StoreError):
        store.load(None)  # type: ignore[arg-type]


HOSTILE_TITLES = [
    "../x", "../../etc/passwd", "/abs/path", "C:\\Windows\\system32", ".", "..", "~", "$HOME",
    "<script>alert(1)</script>", "emoji 🧪👩‍🔬🏳️‍🌈", "مرحبا بالعالم", "שלום עולם", "\u202eevil.exe",
    "x" * MAX_TITLE, "  padded  ", "NUL\x00inside", "line\nbreak", "tab\tinside", "x" * 10_000,
    "\ud800 lone surrogate", "a\u2028b",
]  # fmt: skip


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_work_or_get_a_clear_error(tmp_path: Path, title: str) -> None:
    store = SessionStore(tmp_path / "sessions")
    outside = _files(tmp_path)
    try:
        info = store.create(title, _turns("a"))
    except StoreError as exc:
        assert "title" in str(exc)
        assert _files(tmp_path) == outside  # nothing was written at all
        return
    assert info.title == title.strip()
    assert store.list()[0].title == title.strip()
    assert store.load(info.id)[1]["title"] == title.strip()
    copy = store.duplicate(info.id)
    renamed = store.rename(copy.id, title)
    assert renamed.title == title.strip()
    for path in (store.export_py(info.id), store.export_ipynb(info.id)):
        assert path.parent == store.exports_dir / info.id and path.name[0] != "."
    new = set(_files(tmp_path)) - set(outside)
    assert all(name.startswith("sessions/") for name in new)


def test_a_rename_to_nothing_is_refused(store: SessionStore) -> None:
    info = store.create("kept")
    with pytest.raises(StoreError, match="empty"):
        store.rename(info.id, "   ")
    assert store.list()[0].title == "kept"


DAMAGE = {
    "empty file": b"",
    "not json": b"\x00\x01binary\xff",
    "truncated": None,  # the first half of a real session file
    "json, not a notebook": b'{"hello": "world"}',
    "invalid notebook": b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{}]}',
}


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_files_are_reported_kept_and_recoverable(store: SessionStore, kind: str) -> None:
    good = store.create("good", _turns("a"))
    victim = store.create("victim", _turns("v1"))
    store.save(victim.id, _turns("v1", "v2"))
    path = store.path(victim.id)
    whole = path.read_bytes()
    damage = DAMAGE[kind] if DAMAGE[kind] is not None else whole[: len(whole) // 2]
    path.write_bytes(damage)

    listed = {i.id: i for i in store.list()}
    assert listed[good.id].error == "" and listed[good.id].title == "good"
    assert "not a" in listed[victim.id].error and listed[victim.id].turns == 0
    with pytest.raises(StoreError, match=r"cannot be opened.*left as it is.*restored"):
        store.load(victim.id)
    with pytest.raises(StoreError, match="cannot be opened"):
        store.rename(victim.id, "new name")
    assert path.read_bytes() == damage  # reading, listing and renaming never touched it

    restored = store.restore_previous(victim.id)
    assert restored.title == "victim" and restored.turns == 1  # the version before the save
    assert [t.instruction for t in store.load(victim.id)[0]] == ["v1"]


@pytest.mark.parametrize("kind", ["not json", "json, not a notebook", "invalid notebook"])
def test_saving_over_a_damaged_file_keeps_it_aside(store: SessionStore, kind: str) -> None:
    info = store.create("t", _turns("a"))
    damage = DAMAGE[kind]
    assert damage is not None
    store.path(info.id).write_bytes(damage)
    saved = store.save(info.id, _turns("a", "b"))
    assert saved.notes and "damaged" in saved.notes[0]
    (kept,) = store.root.glob(f"{info.id}.ipynb.damaged-*")
    assert kept.read_bytes() == damage
    assert [t.instruction for t in store.load(info.id)[0]] == ["a", "b"]
    store.delete(info.id)
    assert not kept.exists()  # it went to the trash with the session
    store.trash.restore(info.id)
    assert kept.exists() and [t.instruction for t in store.load(info.id)[0]] == ["a", "b"]


def test_files_that_are_not_sessions_are_not_listed(store: SessionStore) -> None:
    info = store.create("real")
    (store.root / "my notes.ipynb").write_text("{}")
    (store.root / ".hidden.ipynb").write_text("{}")
    (store.root / f".{info.id}.ipynb.1234.tmp").write_text("{")
    assert [i.id for i in store.list()] == [info.id]


# A child process that saves two big versions in turn, forever, until it is killed.
SAVER = """
import sys
from codegen_ui.core import Session, Turn
from codegen_ui.notebooks import SessionStore

store, sid, mode = SessionStore(sys.argv[1]), sys.argv[2], sys.argv[3]
big = {"output_type": "stream", "name": "stdout", "text": "y" * 3_000_000}
versions = [[Turn(f"v{v} #{i}", code="x", outputs=(big,), status="ok") for i in range(2)]
            for v in (1, 2)]
if mode == "stall":  # stop right before the rename: the new file is complete but not in place
    import os, time
    def stall(src, dst):
        print("stalled", flush=True)
        time.sleep(600)
    os.replace = stall
print("ready", flush=True)
n = 0
while True:
    store.save(sid, versions[n % 2])
    n += 1
"""


def _start_saver(store: SessionStore, sid: str, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(store.root), sid, mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert _line(child) == "ready\n"
    return child


def _line(child: subprocess.Popen[str], timeout: float = 120.0) -> str:
    """The child's next line, or the child killed and the test failed after `timeout`."""
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    if not ready:
        child.kill()
        child.wait()
        pytest.fail("the saving child said nothing")
    return child.stdout.readline()


def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=60) == -signal.SIGKILL
    assert child.stdout is not None
    child.stdout.close()


def _assert_whole(store: SessionStore, sid: str, allowed: list[list[str]]) -> None:
    for path in store.root.glob("*.ipynb"):
        nbformat.validate(parse(path.read_bytes()))  # no truncated notebook anywhere
    turns, _ = store.load(sid)
    assert [t.instruction for t in turns] in allowed
    assert all(len(t.outputs[0]["text"]) == 3_000_000 for t in turns if t.instruction != "v0")
    assert all(not i.error for i in store.list())


def _wait_for_a_save(root: Path, seen: set[str], timeout: float = 60.0) -> None:
    """Return as soon as a temporary file not seen before appears: a save is under way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = {p.name for p in root.glob(".*.tmp")} - seen
        if fresh:
            seen.update(fresh)
            return
        time.sleep(0.001)
    pytest.fail("no save started")


def test_kill_9_in_the_middle_of_saves_never_leaves_a_truncated_notebook(
    store: SessionStore,
) -> None:
    sid = store.create("crash test", _turns("v0")).id
    allowed = [["v0"], ["v1 #0", "v1 #1"], ["v2 #0", "v2 #1"]]
    seen: set[str] = set()
    for saves_first in (0, 1, 2, 3):
        child = _start_saver(store, sid, "loop")
        for _ in range(saves_first + 1):  # kill during the first save, the second, ...
            _wait_for_a_save(store.root, seen)
        _kill(child)
        _assert_whole(store, sid, allowed)
    assert [t.instruction for t in store.load(sid)[0]] != ["v0"]  # the child did save


def test_kill_9_between_write_and_rename_keeps_the_last_version(store: SessionStore) -> None:
    sid = store.create("crash test", _turns("v0")).id
    before = store.path(sid).read_bytes()
    child = _start_saver(store, sid, "stall")
    assert _line(child) == "stalled\n"
    _kill(child)
    assert store.path(sid).read_bytes() == before
    assert list(store.root.glob(f".{sid}.ipynb.*.tmp"))  # the half-done save is left aside
    _assert_whole(SessionStore(store.root), sid, [["v0"]])


def test_a_session_file_is_plain_json_a_person_can_read(store: SessionStore) -> None:
    info = store.create("plain", _turns("say hi"))
    data = json.loads(store.path(info.id).read_text(encoding="utf-8"))
    assert data["nbformat"] == 4 and data["nbformat_minor"] == 5
    assert data["metadata"]["codegen_ui"]["title"] == "plain"
    assert "".join(data["cells"][1]["source"]) == "# say hi\nprint(0)\n"


def test_a_save_keeps_the_file_permissions(store: SessionStore) -> None:
    info = store.create("private")
    path = store.path(info.id)
    path.chmod(0o600)
    store.save(info.id, _turns("a"))
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o640)
    store.rename(info.id, "shared")
    assert path.stat().st_mode & 0o777 == 0o640


def test_without_hard_links_the_previous_version_is_a_copy(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: object) -> None:
        raise OSError("hard links are not supported here")

    info = store.create("t", _turns("one"))
    monkeypatch.setattr(os, "link", no_links)
    store.save(info.id, _turns("one", "two"))
    store.restore_previous(info.id)
    assert [t.instruction for t in store.load(info.id)[0]] == ["one"]


def test_a_full_disk_is_a_store_error_and_the_old_file_stays(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    info = store.create("t", _turns("one"))
    before = store.path(info.id).read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StoreError, match="could not be saved: No space left"):
        store.save(info.id, _turns("one", "two"))
    with pytest.raises(StoreError, match="export could not be written"):
        store.export_py(info.id)
    monkeypatch.undo()
    assert store.path(info.id).read_bytes() == before
    assert not list(store.root.glob(".*.tmp"))
    assert store.info(info.id) == store.list()[0]


def test_the_trash_keeps_a_deleted_session_for_a_week(store: SessionStore) -> None:
    import os
    import time

    info = store.create("old", _turns("a"))
    store.delete(info.id)
    (trashed,) = store.trash.list()
    week = 7 * 86400
    os.utime(trashed.path, (time.time() - week + 60, time.time() - week + 60))
    assert [t.id for t in store.trash.list()] == [info.id]  # not quite a week
    os.utime(trashed.path, (time.time() - week - 60, time.time() - week - 60))
    assert store.trash.list() == [] and not trashed.path.exists()  # gone for good
