"""User file names and sizes, where a name from a browser or a .zip meets a folder: pure checks.

`check_name` turns a user's file name into a safe relative path or refuses it in one line;
`FileLimits` holds what one session may keep (a file, all files, how many; from settings) and
`check` says whether one more file fits; `size_text` writes a size for people. Nothing here
touches the file system (`folder` does).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from codegen_ui.core import FileEntry
from codegen_ui.errors import UserError
from codegen_ui.settings import DEFAULTS, Settings

MIB = 1 << 20
MAX_NAME = 255  # bytes of one path component (the file system's own limit)
MAX_DEPTH = 8  # folders inside folders a name or a listing goes down


class FilesError(UserError, ValueError):
    """A file cannot be added, read or removed; the message is one line for the user."""


def check_name(name: object) -> str:
    """A user's file name as a safe relative path ("data.csv", "raw/2024.csv"), NFC-normalised.

    No absolute paths, no `..` or `.` parts, no empty parts, no control characters, no
    backslashes, no hidden names (those are the kernel's own); Unicode letters are fine."""
    if not isinstance(name, str) or not name.strip():
        raise FilesError("a file needs a name")
    name = unicodedata.normalize("NFC", name)
    if name.startswith("/"):
        raise FilesError(f"{name!r}: a file name cannot be an absolute path")
    if "\\" in name:
        raise FilesError(f"{name!r}: a file name cannot contain a backslash")
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            raise FilesError(f"{name!r}: a file name cannot contain control characters")
    parts = name.split("/")
    if len(parts) > MAX_DEPTH:
        raise FilesError(f"{name!r}: folders can go at most {MAX_DEPTH} deep")
    for part in parts:
        if part in ("", ".", ".."):
            raise FilesError(f"{name!r}: a file name cannot have empty, '.' or '..' parts")
        if part.startswith("."):
            raise FilesError(f"{name!r}: names starting with '.' are kept for the kernel")
        if part != part.strip():
            raise FilesError(f"{name!r}: a name cannot start or end with a space")
        if len(part.encode()) > MAX_NAME:
            raise FilesError(f"{name[:40]!r}…: a name can have at most {MAX_NAME} bytes")
    return name


def size_text(size: int) -> str:
    """A size for people, in units of 1024: "812 B", "3.4 KB", "50.0 MB"."""
    if size < 1024:
        return f"{size} B"
    for unit, scale in (("KB", 1 << 10), ("MB", 1 << 20)):
        if size < scale << 10:
            return f"{size / scale:.1f} {unit}"
    return f"{size / (1 << 30):.1f} GB"


@dataclass(frozen=True)
class FileLimits:
    """What one session may hold: the largest file, all files together, how many files."""

    file_bytes: int = DEFAULTS.kernel_file_mb * MIB
    session_bytes: int = DEFAULTS.files_session_mb * MIB
    count: int = DEFAULTS.files_max

    @classmethod
    def from_settings(cls, s: Settings) -> FileLimits:
        return cls(s.kernel_file_mb * MIB, s.files_session_mb * MIB, s.files_max)

    def check(self, held: Sequence[FileEntry], name: str, size: int) -> None:
        """FilesError unless a file `name` of `size` bytes may join (or replace) `held`."""
        if size > self.file_bytes:
            raise FilesError(
                f"{name} is {size_text(size)}; a file can be at most {size_text(self.file_bytes)}"
            )
        others = [e for e in held if e.name != name]
        if len(others) + 1 > self.count:
            raise FilesError(f"{name} not added: a session can hold at most {self.count} files")
        total = sum(e.size for e in others) + size
        if total > self.session_bytes:
            raise FilesError(
                f"{name} not added: the session's files would take {size_text(total)}, "
                f"more than the {size_text(self.session_bytes)} a session may hold"
            )
