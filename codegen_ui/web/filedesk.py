"""The Files panel's actions for one tab: upload, replace or keep, delete, download, and its view.

Uploads are checked (name, size, the session's limits) and stored with the session first, then
written into its kernel's folder; a name that exists already is not replaced until the user says
so (`files_asking` holds the waiting uploads). A session not yet saved is saved first, so its
files have a place. What the panel lists is the kernel's folder (what code sees, files a cell
wrote included); downloads are read from it without following links. Keeping the store's copy
in step with the kernel is `Shelf.mirror` and `Shelf.put_back`. A download that fails (`fetch`)
says so in the panel's note line. Nothing here knows Gradio.
"""

from __future__ import annotations

from pathlib import Path

from codegen_ui.core import FileEntry
from codegen_ui.errors import UserError
from codegen_ui.files import FilesError, check_name, size_text
from codegen_ui.notebooks import FileExists, StoreError, write_atomic
from codegen_ui.web.filespanel import FilesView, render_files
from codegen_ui.web.pagestate import Tab
from codegen_ui.workspace import Shelf


class FilesDesk:
    """The data files of the tab's session, through the shelf's store and the tab's kernel."""

    def __init__(self, shelf: Shelf) -> None:
        self.shelf = shelf
        self.data = shelf.store.data

    def listing(self, ws: Tab) -> tuple[FileEntry, ...]:
        """What the kernel's folder holds; the stored files when the kernel cannot be reached."""
        try:
            return ws.kernel.kernel.files.list()
        except UserError:
            return self.data.list(ws.saved.id) if ws.saved.id else ()

    def panel(self, ws: Tab) -> str:
        lim = self.data.limits
        limits = (
            f"{size_text(lim.file_bytes)} a file, {size_text(lim.session_bytes)} "
            f"and {lim.count} files in all"
        )
        asking = tuple(name for name, _ in ws.page.files_asking)
        files = self.listing(ws)
        complete = getattr(files, "complete", True)
        return render_files(FilesView(files, asking, ws.saved.files_note, limits, complete))

    def upload(self, ws: Tab, paths: list[str], replace: bool = False) -> str:
        """Add uploaded files (Gradio keeps each one's own name); returns a note."""
        if ws.saved.id is None:
            self.shelf.autosave(ws)  # the files need a saved session to belong to
            if ws.saved.id is None:
                raise StoreError(
                    ws.saved.error or ws.saved.conflict or "the session could not be saved"
                )
        added: list[str] = []
        problems: list[str] = []
        asking: list[tuple[str, str]] = []
        for path in paths:
            try:
                name = self._add(ws, Path(path), replace)
                added.append(name)
            except FileExists:
                asking.append((check_name(Path(path).name), path))
            except UserError as exc:
                problems.append(str(exc))
        ws.page.files_asking = tuple(asking)
        parts = [f"Added {', '.join(added)}." if added else ""]
        if asking:
            parts.append("Replace the file that exists already? The Files panel asks.")
        parts += [f"{p[0].upper()}{p[1:]}." for p in problems]
        return " ".join(p for p in parts if p)

    def _add(self, ws: Tab, path: Path, replace: bool) -> str:
        name = check_name(path.name)
        size = path.stat().st_size
        if size > self.data.limits.file_bytes:  # before reading it all
            self.data.limits.check((), name, size)
        data = path.read_bytes()
        assert ws.saved.id is not None
        name = self.data.add(ws.saved.id, name, data, replace=replace)
        try:
            ws.kernel.kernel.files.write(name, data)
        except UserError as exc:
            ws.saved.files_note = f"{name} is saved with the session; the kernel will get it: {exc}"
        return name

    def answer(self, ws: Tab, replace: bool) -> str:
        """The user's answer to "exists already": replace those files, or keep the old ones."""
        waiting, ws.page.files_asking = ws.page.files_asking, ()
        if not waiting:
            return ""
        if not replace:
            return f"Kept the old {', '.join(name for name, _ in waiting)}."
        return self.upload(ws, [path for _, path in waiting], replace=True)

    def delete(self, ws: Tab, name: str) -> str:
        name = check_name(name)
        gone = False
        if ws.saved.id is not None:
            try:
                self.data.delete(ws.saved.id, name)
                gone = True
            except FilesError:
                pass  # only in the kernel's folder (over the limits, say)
        try:
            ws.kernel.kernel.files.delete(name)
            gone = True
        except UserError:
            pass
        if not gone:
            raise FilesError(f"there is no file {name}")
        return f"Deleted {name}."

    def fetch(self, ws: Tab, name: str) -> tuple[str | None, str]:
        """A file to download and the panel drawn again; when it cannot be had (it went since
        the list was drawn, say), no file, and the panel says why in one line."""
        try:
            path = self.download(ws, name)
        except UserError as exc:
            ws.saved.files_note = f"{name or 'that file'} could not be downloaded: {exc}"
            return None, self.panel(ws)
        return path, self.panel(ws)

    def download(self, ws: Tab, name: str) -> str:
        """A copy of the file under the store's exports, for the browser to fetch."""
        name = check_name(name)
        limit = self.data.limits.file_bytes
        try:
            data = ws.kernel.kernel.files.read(name, limit)
        except UserError:
            if ws.saved.id is None:
                raise FilesError(f"there is no file {name}") from None
            data = self.data.read(ws.saved.id, name)
        folder = self.shelf.store.exports_dir / (ws.saved.id or "unsaved") / "files"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            out = folder / name.rsplit("/", 1)[-1]
            write_atomic(out, data)
        except OSError as exc:
            raise FilesError(f"{name} could not be prepared: {exc.strerror}") from None
        return str(out)
