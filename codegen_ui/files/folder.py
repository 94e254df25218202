"""A folder of user files, handled without ever following a link: names, limits, list, read, write.

A session's data files live in two folders: its kernel's working folder (where code reads them
and writes new ones) and its folder in the store. Both are handled here, through `FolderFiles`,
because both may hold what code wrote, symlinks pointing anywhere included. Every path is walked
one component at a time from an open folder with `O_NOFOLLOW`, so a link is never followed, in a
listing, a read, a write or a delete; only regular files are read (no FIFOs, no devices); a
listing skips links and hidden names (`.ipython`, `.cache`: the kernel's own) and stops after a
bounded number of entries. Writes go to a temporary file renamed over the target (atomic), owned
by the folder's owner (a kernel with a uid of its own can change what was uploaded to it).
Names are checked by `filenames.check_name`. Nothing here knows of sessions, the store or the
web app.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from codegen_ui.core import FileEntry, Listing
from codegen_ui.files.names import MAX_DEPTH, MIB, FilesError, check_name, size_text

SCAN_CAP = 5000  # entries a listing looks at before it stops (a cell may write a million)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO never waits


class FolderFiles:
    """The user files of one folder (`KernelFiles`). Paths are checked names; links are never
    followed; nothing hidden is listed or cleared."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- reading ------------------------------------------------------------------------------
    def list(self) -> Listing:
        """Every regular file under the folder (not links, not hidden), sorted by name; not
        `complete` when the folder has more than `SCAN_CAP` entries (the rest went unseen)."""
        try:
            fd = self._open_root()
        except FileNotFoundError:
            return Listing()
        found: list[FileEntry] = []
        budget = [SCAN_CAP]
        try:
            found.extend(_walk(fd, "", 0, budget))
        finally:
            os.close(fd)
        return Listing(sorted(found, key=lambda e: e.name), complete=budget[0] >= 0)

    def read(self, name: str, max_bytes: int = 0) -> bytes:
        """The bytes of a regular file; FilesError for a link, a folder, a FIFO, a missing file,
        or one larger than `max_bytes` (when given)."""
        name = check_name(name)
        *folders, leaf = name.split("/")
        dir_fd = self._open_dirs(folders, create=False, name=name)
        try:
            fd = os.open(leaf, _READ, dir_fd=dir_fd)
        except FileNotFoundError:
            raise FilesError(f"there is no file {name}") from None
        except OSError as exc:  # ELOOP: a link
            raise FilesError(f"{name} cannot be read: {_why(exc)}") from None
        finally:
            os.close(dir_fd)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise FilesError(f"{name} is not a regular file")
            if max_bytes and info.st_size > max_bytes:
                raise FilesError(f"{name} is larger than {size_text(max_bytes)}")
            chunks = []
            while chunk := os.read(fd, MIB):
                chunks.append(chunk)
                if max_bytes and sum(map(len, chunks)) > max_bytes:
                    raise FilesError(f"{name} is larger than {size_text(max_bytes)}")
            return b"".join(chunks)
        finally:
            os.close(fd)

    # -- writing ------------------------------------------------------------------------------
    def write(self, name: str, data: bytes) -> None:
        """Put a file (making its folders), atomically: a crash leaves the old one or the new."""
        name = check_name(name)
        *folders, leaf = name.split("/")
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        dir_fd = self._open_dirs(folders, create=True, name=name)
        tmp = f".upload-{secrets.token_hex(6)}.tmp"
        try:
            owner = os.fstat(dir_fd)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                         dir_fd=dir_fd)  # fmt: skip
            try:
                _give_to_owner(fd, owner)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            target = _entry(dir_fd, leaf)
            if target is not None and stat.S_ISDIR(target.st_mode):
                raise FilesError(f"{name} is a folder")
            os.replace(tmp, leaf, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)  # replaces a link itself
            os.fsync(dir_fd)
        except OSError as exc:
            raise FilesError(f"{name} could not be written: {_why(exc)}") from None
        finally:
            with contextlib.suppress(OSError):  # gone already: it was renamed into place
                os.unlink(tmp, dir_fd=dir_fd)
            os.close(dir_fd)

    def delete(self, name: str) -> None:
        """Remove one file (a link is removed, never what it points to)."""
        name = check_name(name)
        *folders, leaf = name.split("/")
        dir_fd = self._open_dirs(folders, create=False, name=name)
        try:
            found = _entry(dir_fd, leaf)
            if found is None:
                raise FilesError(f"there is no file {name}")
            if stat.S_ISDIR(found.st_mode):
                raise FilesError(f"{name} is a folder")
            os.unlink(leaf, dir_fd=dir_fd)
        except OSError as exc:
            raise FilesError(f"{name} could not be removed: {_why(exc)}") from None
        finally:
            os.close(dir_fd)

    def clear(self) -> None:
        """Remove every visible file and folder (hidden ones, the kernel's own, stay)."""
        try:
            fd = self._open_root()
        except FileNotFoundError:
            return
        try:
            for entry in list(os.scandir(fd)):
                if not entry.name.startswith("."):
                    _remove(fd, entry.name)
        finally:
            os.close(fd)

    # -- walking ------------------------------------------------------------------------------
    def _open_root(self) -> int:
        parent = os.open(self.root.parent, _DIR)
        try:
            return os.open(self.root.name, _DIR, dir_fd=parent)  # the folder itself no link
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise FilesError(f"the files folder cannot be used: {_why(exc)}") from None
        finally:
            os.close(parent)

    def _open_dirs(self, folders: Sequence[str], create: bool, name: str) -> int:
        try:
            fd = self._open_root()
        except FileNotFoundError:
            raise FilesError(f"there is no file {name}") from None
        for part in folders:
            try:
                made = create and _entry(fd, part) is None
                if made:
                    os.mkdir(part, 0o700, dir_fd=fd)
                nxt = os.open(part, _DIR, dir_fd=fd)
                if made:
                    _give_to_owner(nxt, os.fstat(fd))  # a kernel with a uid of its own enters it
            except FileNotFoundError:
                os.close(fd)
                raise FilesError(f"there is no file {name}") from None
            except OSError as exc:  # ELOOP or ENOTDIR: a link or a file where a folder should be
                os.close(fd)
                raise FilesError(f"{name}: {part} is not a folder here ({_why(exc)})") from None
            os.close(fd)
            fd = nxt
        return fd


def _walk(fd: int, prefix: str, depth: int, budget: list[int]) -> Iterator[FileEntry]:
    for entry in sorted(os.scandir(fd), key=lambda e: e.name):
        budget[0] -= 1
        if budget[0] < 0:
            return
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_symlink():
                continue  # never listed, never followed
            name = prefix + entry.name
            if entry.is_file(follow_symlinks=False):
                info = entry.stat(follow_symlinks=False)
                yield FileEntry(name, info.st_size, info.st_mtime_ns)
            elif entry.is_dir(follow_symlinks=False) and depth + 1 < MAX_DEPTH:
                sub = os.open(entry.name, _DIR, dir_fd=fd)
                try:
                    yield from _walk(sub, name + "/", depth + 1, budget)
                finally:
                    os.close(sub)
        except OSError:
            continue  # changed while listing


def _give_to_owner(fd: int, folder: os.stat_result) -> None:
    # A root server writing into the folder of a kernel that runs as a uid of its own.
    if os.getuid() == 0 and folder.st_uid != 0:
        os.fchown(fd, folder.st_uid, folder.st_gid)


def _entry(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _remove(dir_fd: int, name: str) -> None:
    found = _entry(dir_fd, name)
    if found is None:
        return
    if not stat.S_ISDIR(found.st_mode):
        os.unlink(name, dir_fd=dir_fd)
        return
    sub = os.open(name, _DIR, dir_fd=dir_fd)
    try:
        for entry in list(os.scandir(sub)):
            _remove(sub, entry.name)
    finally:
        os.close(sub)
    os.rmdir(name, dir_fd=dir_fd)


def _why(exc: OSError) -> str:
    if exc.errno is not None and exc.errno == 40:  # ELOOP
        return "it is a link, which is never followed"
    return exc.strerror or str(exc)
