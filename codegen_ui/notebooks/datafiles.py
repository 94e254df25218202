"""A session's data files in the store: `<id>.files/` beside `<id>.ipynb`, and the .zip of both.

Files are added under the store's limits (a file, all of a session's files, how many) and never
replace one of the same name unless asked (`FileExists` says so first). `mirror` makes the stored
set what a kernel's folder holds after a cell ran (what fits the limits; the rest is named in
one line) and `put_back` fills a kernel's folder from the store (on open, restart, Replay all).
Both go through the kernel's `KernelFiles`, one file at a time, so the kernel may be elsewhere.
`pack` and `unpack` turn a notebook and its files into a .zip and back (`<stem>.ipynb` and
`files/...`), checking every name and size as an upload would. Every file operation is done by
`files.FolderFiles`: atomic writes, no link followed. Copying, trashing and restoring whole
sessions is `store`'s and `trash`'s, through `folder_of`.
"""

from __future__ import annotations

import io
import shutil
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from codegen_ui.core import FileEntry, KernelFiles
from codegen_ui.files import FileLimits, FilesError, FolderFiles, check_name, size_text
from codegen_ui.notebooks.names import check_id

SUFFIX = ".files"
ZIP_FILES = "files/"  # where a .zip keeps the session's files
TOO_MANY = (
    "the kernel's folder has too many entries to list them all: files not listed are kept as "
    "stored, and none of them is deleted"
)


class FileExists(FilesError):
    """A file of that name is there already; adding it again must say `replace`."""


def folder_of(root: Path, session_id: str) -> Path:
    return root / f"{check_id(session_id)}{SUFFIX}"


@dataclass(frozen=True)
class Unpacked:
    notebook: bytes
    files: tuple[tuple[str, bytes], ...]
    notes: tuple[str, ...] = ()


class SessionFiles:
    """The data files of every session of one store, under its limits. Thread-safe."""

    def __init__(self, root: Path, limits: FileLimits | None = None) -> None:
        self.root = root
        self.limits = limits or FileLimits()
        self._lock = threading.RLock()
        # What each session's kernel folder held at the last mirror or put-back, by name.
        self._seen: dict[str, dict[str, tuple[int, int]]] = {}

    def of(self, session_id: str) -> FolderFiles:
        return FolderFiles(folder_of(self.root, session_id))

    def list(self, session_id: str) -> tuple[FileEntry, ...]:
        return self.of(session_id).list()

    def read(self, session_id: str, name: str) -> bytes:
        return self.of(session_id).read(name, self.limits.file_bytes)

    def add(self, session_id: str, name: str, data: bytes, replace: bool = False) -> str:
        """Store one file under the limits; returns its checked name."""
        name = check_name(name)
        with self._lock:
            held = self.list(session_id)
            if not replace and any(e.name == name for e in held):
                raise FileExists(f"{name} exists already")
            self.limits.check(held, name, len(data))
            self.of(session_id).write(name, data)
        return name

    def delete(self, session_id: str, name: str) -> None:
        with self._lock:
            self.of(session_id).delete(name)

    def remove_all(self, session_id: str) -> None:
        shutil.rmtree(folder_of(self.root, session_id), ignore_errors=True)
        self._seen.pop(session_id, None)

    def copy(self, source_id: str, target_id: str) -> None:
        """Give another session its own copy of these files (Copy, copy-on-open)."""
        target = self.of(target_id)
        for entry in self.list(source_id):
            target.write(entry.name, self.read(source_id, entry.name))

    # -- a kernel's folder ----------------------------------------------------------------------
    def put_back(self, session_id: str | None, kernel: KernelFiles) -> None:
        """Make the kernel's folder hold exactly this session's files (none for None)."""
        with self._lock:
            kernel.clear()
            if session_id is None:
                return
            for entry in self.list(session_id):
                kernel.write(entry.name, self.read(session_id, entry.name))
            self._seen[session_id] = _signatures(kernel.list())

    def mirror(self, session_id: str, kernel: KernelFiles) -> str:
        """Store what the kernel's folder holds now; "" or one line naming what was not kept.

        What is stored already keeps its place first (nothing stored is lost to a new file);
        then changed and new files, by name, while they fit. A stored file is deleted only when
        a complete listing no longer has it: a listing that stopped at its cap deletes nothing.
        """
        with self._lock:
            found = kernel.list()
            complete = getattr(found, "complete", True)
            seen = self._seen.get(session_id, {})
            stored = {e.name: e for e in self.list(session_id)}
            names = {e.name for e in found}
            target = self.of(session_id)
            unchanged = [e for e in found if e.name in stored
                         and seen.get(e.name) == (e.size, e.modified_ns)]  # fmt: skip
            kept = {e.name for e in unchanged}
            # Stored files the listing did not reach (it stopped) stay, and count.
            held = [stored[n] for n in stored if n not in names and not complete]
            held += [stored[e.name] for e in unchanged]
            renewed = [e for e in found if e.name not in kept and e.name in stored]
            fits, left = _within(renewed, self.limits, held)
            held += [stored[n] for n in left]  # its stored copy stays, and counts
            more, over = _within([e for e in found if e.name not in stored], self.limits,
                                 held + list(fits))  # fmt: skip
            fits, left = fits + more, left + over
            for entry in fits:
                try:
                    target.write(entry.name, kernel.read(entry.name, self.limits.file_bytes))
                except FilesError:
                    left.append(entry.name)  # changed or went while being read
            if complete:
                for gone in set(stored) - names:  # the code deleted them
                    target.delete(gone)
            self._seen[session_id] = _signatures(found)
        notes = [] if complete else [TOO_MANY]
        if left:
            shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
            notes.append(
                f"not kept with the session (over its limits of "
                f"{size_text(self.limits.file_bytes)} a file, "
                f"{size_text(self.limits.session_bytes)} and {self.limits.count} files in "
                f"all): {shown}"
            )
        return "; ".join(notes)

    # -- .zip -----------------------------------------------------------------------------------
    def pack(self, session_id: str, stem: str, notebook: str) -> bytes:
        """The notebook as `<stem>.ipynb` and its files under `files/`, as one .zip."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{stem}.ipynb", notebook)
            for entry in self.list(session_id):
                zf.writestr(ZIP_FILES + entry.name, self.read(session_id, entry.name))
        return out.getvalue()

    def unpack(self, data: bytes, max_notebook: int) -> Unpacked:
        """A .zip's notebook and files, each checked (names, sizes, count) before it is read."""
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise FilesError("that is not a .zip file") from None
        with zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            books = [i for i in infos if "/" not in i.filename and i.filename.endswith(".ipynb")]
            if len(books) != 1:
                raise FilesError("a session .zip holds one .ipynb notebook at its top level")
            notebook = _read_member(zf, books[0], max_notebook)
            files: list[tuple[str, bytes]] = []
            held: list[FileEntry] = []
            skipped = [i.filename for i in infos if i is not books[0]
                       and not i.filename.startswith(ZIP_FILES)]  # fmt: skip
            for info in infos:
                if not info.filename.startswith(ZIP_FILES) or _is_link(info):
                    continue
                name = check_name(info.filename[len(ZIP_FILES) :])
                self.limits.check(held, name, info.file_size)
                body = _read_member(zf, info, self.limits.file_bytes)
                held.append(FileEntry(name, len(body)))
                files.append((name, body))
        notes = (f"left out of the .zip: {', '.join(skipped[:3])}",) if skipped else ()
        return Unpacked(notebook, tuple(files), notes)


def _within(
    found: Iterable[FileEntry], limits: FileLimits, held: Iterable[FileEntry] = ()
) -> tuple[list[FileEntry], list[str]]:
    """Which of `found` fit the limits beside `held` (files that stay stored), in order."""
    held = list(held)
    count, total = len(held), sum(e.size for e in held)
    kept: list[FileEntry] = []
    left: list[str] = []
    for entry in found:
        if (
            entry.size > limits.file_bytes
            or count >= limits.count
            or total + entry.size > limits.session_bytes
        ):
            left.append(entry.name)
            continue
        kept.append(entry)
        count, total = count + 1, total + entry.size
    return kept, left


def _signatures(entries: Iterable[FileEntry]) -> dict[str, tuple[int, int]]:
    return {e.name: (e.size, e.modified_ns) for e in entries}


def _is_link(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == 0o120000


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    # The declared size can lie (a zip bomb): read at most one byte past the limit.
    if info.file_size > limit:
        raise FilesError(f"{info.filename} in the .zip is larger than {size_text(limit)}")
    try:
        with zf.open(info) as member:
            body = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise FilesError(f"{info.filename} in the .zip cannot be read: {exc}") from None
    if len(body) > limit:
        raise FilesError(f"{info.filename} in the .zip is larger than {size_text(limit)}")
    return body
