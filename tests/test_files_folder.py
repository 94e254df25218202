"""A folder of user files (`kernel.workfiles`): names, limits, and links that are never followed
whether listing, reading, writing, deleting or clearing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codegen_ui.core import FileEntry
from codegen_ui.files import FileLimits, FilesError, FolderFiles, check_name, size_text
from codegen_ui.files.usage import OWN_ENTRIES


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "a/../../x",
        "/etc/passwd",
        "a//b",
        "./x",
        "a/./b",
        "x\x00y",
        "x\ny",
        "tab\there",
        "a\\b",
        ".hidden",
        "a/.git/x",
        "",
        "  ",
        "x" * 256,
        " lead.csv",
        "/".join("a" * 9),
        "\u202eevil.csv",
    ],
)
def test_bad_names_are_refused_with_one_line(name: str) -> None:
    with pytest.raises(FilesError) as info:
        check_name(name)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("data.csv", "data.csv"),
        ("raw/2024.csv", "raw/2024.csv"),
        ("données é.csv", "données é.csv"),
        ("cafe\u0301.txt", "caf\u00e9.txt"),
        ("表.xlsx", "表.xlsx"),
    ],
)
def test_good_names_are_kept_unicode_included(name: str, kept: str) -> None:
    assert check_name(name) == kept


def test_limits_per_file_per_session_and_count() -> None:
    limits = FileLimits(file_bytes=100, session_bytes=250, count=3)
    held = (FileEntry("a", 100), FileEntry("b", 100))
    limits.check(held, "c", 50)
    limits.check(held, "a", 100)  # replacing a file counts it once
    with pytest.raises(FilesError, match="at most 100 B"):
        limits.check(held, "c", 101)
    with pytest.raises(FilesError, match="more than the 250 B"):
        limits.check(held, "c", 51)
    with pytest.raises(FilesError, match="at most 3 files"):
        limits.check((*held, FileEntry("c", 1)), "d", 1)
    assert size_text(50 << 20) == "50.0 MB" and size_text(812) == "812 B"


def test_write_list_read_delete_with_subfolders(tmp_path: Path) -> None:
    files = FolderFiles(tmp_path / "work")
    files.write("data.csv", b"a,b\n1,2\n")
    files.write("raw/2024/q1.csv", b"x")
    files.write("data.csv", b"a,b\n3,4\n")  # replaced atomically
    assert [(e.name, e.size) for e in files.list()] == [("data.csv", 8), ("raw/2024/q1.csv", 1)]
    assert files.read("data.csv") == b"a,b\n3,4\n"
    assert not [p for p in (tmp_path / "work").iterdir() if p.name.endswith(".tmp")]
    files.delete("raw/2024/q1.csv")
    assert [e.name for e in files.list()] == ["data.csv"]
    with pytest.raises(FilesError, match="there is no file"):
        files.read("raw/2024/q1.csv")
    with pytest.raises(FilesError, match="larger than"):
        files.read("data.csv", max_bytes=3)


def test_links_out_of_the_folder_are_never_listed_read_or_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("server secret")
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.txt").write_text("mine")
    os.symlink(secret / "key.txt", work / "link.txt")
    os.symlink(secret, work / "linkdir")
    os.symlink("/etc", work / "etc")
    (work / "sub").mkdir()
    os.symlink(secret, work / "sub" / "deeper")
    os.mkfifo(work / "fifo")
    files = FolderFiles(work)
    assert [(e.name, e.size) for e in files.list()] == [("mine.txt", 4)]
    for name in ("link.txt", "linkdir/key.txt", "etc/passwd", "sub/deeper/key.txt", "fifo"):
        with pytest.raises(FilesError):
            files.read(name)
    # Writing through a linked folder is refused; writing over a link replaces the link itself.
    with pytest.raises(FilesError, match="not a folder"):
        files.write("linkdir/key.txt", b"overwritten")
    files.write("link.txt", b"new")
    assert (secret / "key.txt").read_text() == "server secret"
    assert not (work / "link.txt").is_symlink() and files.read("link.txt") == b"new"
    # Deleting removes links, never their targets; clearing keeps hidden names.
    (work / ".ipython").mkdir()
    files.delete("sub/deeper")
    assert not (work / "sub" / "deeper").exists() and (secret / "key.txt").exists()
    files.clear()
    files.write("only.csv", b"1")
    assert [e.name for e in files.list()] == ["only.csv"]
    assert (secret / "key.txt").read_text() == "server secret" and (work / ".ipython").is_dir()


def test_the_folder_itself_swapped_for_a_link_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.txt").write_text("outside")
    os.symlink(outside, tmp_path / "work")
    files = FolderFiles(tmp_path / "work")
    with pytest.raises(FilesError, match="cannot be used"):
        files.list()
    with pytest.raises(FilesError, match="cannot be used"):
        files.read("x.txt")
    with pytest.raises(FilesError, match="cannot be used"):
        files.write("y.txt", b"y")
    assert sorted(p.name for p in outside.iterdir()) == ["x.txt"]


def test_a_listing_stops_after_its_scan_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import codegen_ui.files.folder as workfiles

    monkeypatch.setattr(workfiles, "SCAN_CAP", 50)
    work = tmp_path / "work"
    work.mkdir()
    for i in range(200):
        (work / f"f{i:03}").write_bytes(b"")
    listing = FolderFiles(work).list()
    assert len(listing) == 50 and not listing.complete
    for i in range(50, 200):
        (work / f"f{i:03}").unlink()
    assert FolderFiles(work).list().complete  # exactly the cap: all of it was seen


def test_the_kernels_file_size_limit_and_the_session_quota_agree() -> None:
    from codegen_ui.kernel import KernelConfig
    from codegen_ui.settings import DEFAULTS, Settings, SettingsError

    config = KernelConfig.from_settings(DEFAULTS)
    limits = FileLimits.from_settings(DEFAULTS)
    assert limits.file_bytes == config.limits.file_mb << 20 == 50 << 20
    assert limits.session_bytes == 200 << 20 and limits.file_bytes <= limits.session_bytes
    # While a cell runs, the kernel's folder may hold the session's quota, and its file count
    # plus what the kernel makes for itself.
    assert config.folder.bytes == limits.session_bytes
    assert config.folder.entries == limits.count + OWN_ENTRIES
    for bad in ({"kernel_file_mb": 300}, {"kernel_file_mb": 0}, {"files_max": 0}):
        with pytest.raises(SettingsError):
            Settings(**bad).validated()  # type: ignore[arg-type]
    env = {"CODEGEN_UI_FILES_SESSION_MB": "10", "CODEGEN_UI_KERNEL_FILE_MB": "5"}
    assert FileLimits.from_settings(Settings.from_env(env)) == FileLimits(5 << 20, 10 << 20, 200)


def test_a_gateway_listing_says_when_it_stopped_at_its_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk a gateway kernel runs, run here in a namespace of its own as the kernel would."""
    import ast

    import codegen_ui.kernel.gwfiles as gwfiles

    namespace: dict[str, object] = {}

    def run(code: str, expressions: dict[str, str], **extra: object) -> dict[str, object]:
        exec(code, namespace)  # what the kernel does with the request
        return {k: ast.literal_eval(repr(eval(v, namespace))) for k, v in expressions.items()}

    folder = tmp_path / "remote"
    folder.mkdir()
    for i in range(60):
        (folder / f"f{i:03}").write_bytes(b"x" * i)
    files = gwfiles.GatewayFiles(run, lambda: str(folder))
    listing = files.list()
    assert len(listing) == 60 and listing.complete and listing[5].size == 5
    monkeypatch.setattr(gwfiles, "SCAN_CAP", 50)
    listing = files.list()
    assert len(listing) <= 50 and not listing.complete
