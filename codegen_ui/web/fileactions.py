"""The page's actions on the session's data files (the Files panel): `FileActions`.

Upload, delete, answer replace-or-keep and download, through `web.filedesk` on the tab's
workspace; a download that cannot be had draws the panel again with why.
"""

from __future__ import annotations

from codegen_ui.web.actions import PageActions
from codegen_ui.web.views import Fetched, View


class FileActions(PageActions):
    """What the Files panel does."""

    def upload_files(self, key: str, paths: list[str]) -> View:
        return self.quick(key, lambda ws: self.desk.upload(ws, paths))

    def files_action(self, key: str, data: object) -> View:
        """A Files panel button: `{"action": "delete" | "replace" | "keep", "name": ...}`."""
        event = data if isinstance(data, dict) else {}
        action, name = event.get("action"), str(event.get("name") or "")
        if action == "delete":
            return self.quick(key, lambda ws: self.desk.delete(ws, name))
        if action in ("replace", "keep"):
            return self.quick(key, lambda ws: self.desk.answer(ws, action == "replace"))
        return self.error_view(key, f"no such file action {action!r}")

    def file_pressed(self, key: str, data: object) -> Fetched:
        """The Files panel's Download button, as the page sends it: `{"name": ...}`."""
        event = data if isinstance(data, dict) else {}
        return self.download_file(key, str(event.get("name") or ""))

    def download_file(self, key: str, name: str) -> Fetched:
        """A file of the session to download, and the Files panel drawn again: when there is
        no file by that name, no path, and the panel says why (`FilesDesk.fetch`)."""
        ws = self.workspaces.peek(key)
        if ws is None:
            return Fetched()
        path, panel = self.desk.fetch(ws, name)
        return Fetched(path, panel)
