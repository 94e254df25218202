"""What a folder takes on disk, every entry counted, and the quota a running cell must stay under.

A kernel can write many files of up to the per-file limit each (RLIMIT_FSIZE), so the server
watches the total while a cell runs: `measure` walks folders without following a link and
counts every entry (hidden ones, folders, links, FIFOs) and the bytes of every regular file,
and stops early once the count is past what it was asked to look at (the folder is over its
quota then anyway, and a walk of a million entries must not take seconds). `owned_in` measures
the entries one uid made at the top of world-writable folders (`/tmp`, `/dev/shm`), where a kernel
that runs as a uid of its own can write too, and `remove_owned` removes it once that kernel is
gone. `FolderQuota.over` says, in one line, whether a
usage is past the quota and above where the cell started (so a cell that deletes files from a
folder already over it is not stopped). Nothing here stops a process; `kernel.client` does.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen_ui.files.names import MIB, size_text
from codegen_ui.settings import DEFAULTS

# What a kernel makes for itself in its folder (IPython's profile, matplotlib's font cache,
# its sockets and log): counted, but not against the user's file count. A fresh kernel that
# imported pandas and drew a plot held 22 (no sandbox) to 29 (bubblewrap) entries in all.
OWN_ENTRIES = 100
# Bytes a cell may add to a folder it found at or over its quota (one below it may fill it):
# what the kernel itself writes while the cell runs (IPython's history database, a font cache),
# so that a cell deleting files from a full folder is not stopped by the kernel's own
# bookkeeping first.
OWN_BYTES = 1 << 20
# World-writable folders a kernel with a uid of its own can also write into.
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")


@dataclass(frozen=True)
class Usage:
    bytes: int = 0
    entries: int = 0
    complete: bool = True  # False: the walk stopped early (more entries than it looked at)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.bytes + other.bytes,
            self.entries + other.entries,
            self.complete and other.complete,
        )


@dataclass(frozen=True)
class FolderQuota:
    """What a kernel's folder may hold while a cell runs (0 bytes: no quota)."""

    bytes: int = DEFAULTS.files_session_mb * MIB
    entries: int = DEFAULTS.files_max + OWN_ENTRIES

    @classmethod
    def of(cls, session_mb: int, files_max: int) -> FolderQuota:
        """The quota that agrees with a session's limits: its size, its file count."""
        return cls(session_mb * MIB, files_max + OWN_ENTRIES)

    def over(self, now: Usage, start: Usage) -> str:
        """One line when `now` passed the quota, or, for a cell that started at or over it,
        grew past `start` by more than the kernel's own writes may (`OWN_BYTES`); else ""."""
        if not self.bytes:
            return ""
        limit = self.bytes if start.bytes < self.bytes else start.bytes + OWN_BYTES
        if now.bytes > limit:
            return (
                f"the kernel's folder passed this session's quota of {size_text(self.bytes)} "
                "(every file the code writes counts, temporary ones included)"
            )
        if now.entries > self.entries and now.entries > start.entries:
            return (
                f"the kernel's folder passed this session's limit of {self.entries} entries "
                f"({self.entries - OWN_ENTRIES} files and {OWN_ENTRIES} for the kernel's own)"
            )
        return ""


def measure(
    roots: Iterable[Path],
    stop_after: int,
    folders: list[str] | None = None,
    skip: frozenset[str] = frozenset(),
) -> Usage:
    """Bytes and entries under `roots` (not the roots themselves); links are never followed.
    The paths of the folders walked are added to `folders` when given (roots included); the
    paths in `skip` are left out."""
    total = Usage()
    budget = [stop_after]
    for root in roots:
        try:
            fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if folders is not None:
                folders.append(str(root))
            total += _walk(fd, budget, str(root), folders, skip)
        finally:
            os.close(fd)
    return total


def _owned(shared: Iterable[str], uid: int) -> Iterator[tuple[os.DirEntry[str], os.stat_result]]:
    """The entries `uid` owns at the top of shared folders, with their stat (links unfollowed);
    an entry or folder that cannot be read is passed over."""
    for folder in shared:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                yield entry, info


def owned_in(
    shared: Iterable[str], uid: int, stop_after: int, folders: list[str] | None = None
) -> Usage:
    """What `uid` made at the top of shared folders such as /tmp (and under what it made)."""
    total = Usage()
    for entry, info in _owned(shared, uid):
        total += Usage(info.st_size if stat.S_ISREG(info.st_mode) else 0, 1)
        if stat.S_ISDIR(info.st_mode):
            total += measure([Path(entry.path)], max(stop_after - total.entries, 0), folders)
    return total


def remove_owned(shared: Iterable[str], uid: int) -> None:
    """Remove what `uid` made at the top of shared folders (a kernel's uid, once it is gone).
    Links are removed, never followed (`shutil.rmtree` refuses a link and walks by fd)."""
    for entry, info in list(_owned(shared, uid)):
        try:
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue


def _walk(
    fd: int,
    budget: list[int],
    path: str,
    folders: list[str] | None,
    skip: frozenset[str] = frozenset(),
) -> Usage:
    size = entries = 0
    try:
        listing = list(os.scandir(fd))
    except OSError:
        return Usage()
    for entry in listing:
        if skip and f"{path}/{entry.name}" in skip:
            continue
        budget[0] -= 1
        if budget[0] < 0:
            return Usage(size, entries, complete=False)
        entries += 1
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # gone while walking
        if stat.S_ISREG(info.st_mode):
            size += info.st_size
        elif stat.S_ISDIR(info.st_mode):
            try:
                sub = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                continue
            if folders is not None:
                folders.append(f"{path}/{entry.name}")
            try:
                inner = _walk(sub, budget, f"{path}/{entry.name}", folders)
            finally:
                os.close(sub)
            size, entries = size + inner.bytes, entries + inner.entries
            if not inner.complete:
                return Usage(size, entries, complete=False)
    return Usage(size, entries)
