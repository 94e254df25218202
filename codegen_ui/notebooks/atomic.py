"""Durable file writes: a crash at any moment leaves the old file or the new one, whole.

The new text goes to a temporary file in the same folder, which is flushed and fsynced, then
renamed over the target with `os.replace` (atomic on POSIX), and the folder is fsynced so the
rename itself survives a power cut. This module knows nothing about notebooks.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, text: str | bytes, keep_previous: Path | None = None) -> None:
    """Write text (or bytes) to path atomically and durably.

    With `keep_previous`, the old file (if any) stays reachable under that name afterwards: a
    hard link where the file system has them (no copy, and the new file never shares its
    bytes), else a copy. Failing to keep it never stops the write. The file keeps the old
    file's permissions; a new one gets the usual permissions for this process's umask.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fchmod(f.fileno(), _mode_for(path))
            os.fsync(f.fileno())
        if keep_previous is not None and path.exists():
            _keep(path, keep_previous)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # Reading the umask without changing it: Linux reports it in /proc; else assume 022.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _keep(source: Path, target: Path) -> None:
    # os.link will not replace, so link to a fresh name and rename that over the target.
    staging = target.with_name(f"{target.name}.{os.getpid()}.link")
    try:
        staging.unlink(missing_ok=True)
        try:
            os.link(source, staging)
        except OSError:  # no hard links here (some network or FAT file systems)
            shutil.copyfile(source, staging)
        os.replace(staging, target)
    except OSError:
        staging.unlink(missing_ok=True)  # the previous version is a convenience, not the save


def fsync_dir(folder: Path) -> None:
    """Make renames and deletions in a folder durable."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
