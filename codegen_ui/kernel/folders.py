"""Where kernels live on disk: the 0711 root of every kernel's folder, and one kernel's folder.

The root is outside the app and outside what Gradio serves, owned by the server's user; others
may pass through it (kernels with a uid of their own) but not list it. Each kernel's folder is
0700, with `work` (its cwd and HOME), `ipc` (its sockets and connection file) and `tmp`. Nothing
here starts or confines a process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from codegen_ui.settings import APP_DIR, SettingsError

# Unix socket paths hold 107 bytes; each kernel adds "/k-XXXXXXXX/ipc/k-N" to its root.
IPC_ROOT_MAX = 80


def kernels_root(kernels_dir: str = "") -> Path:
    """The folder holding every kernel's folder: 0711, outside the app and what Gradio serves."""
    root = Path(kernels_dir or Path(tempfile.gettempdir()) / f"codegen-ui-kernels-{os.getuid()}")
    for served in _served_folders():
        if root.resolve().is_relative_to(served):
            raise SettingsError(f"kernels_dir '{root}' is inside {served}, which may be served")
    root.mkdir(mode=0o711, parents=True, exist_ok=True)
    if root.stat().st_uid != os.getuid():
        raise PermissionError(f"{root} belongs to another user")
    # Others may pass through to their own folder (kernels with a uid of their own), not list.
    root.chmod(0o711)
    return root


def _served_folders() -> list[Path]:
    """The app's own folder and Gradio's file cache: kernel folders must be outside both."""
    gradio = os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio"
    return [APP_DIR, Path(gradio).resolve()]


@dataclass(frozen=True)
class KernelDirs:
    """One kernel's folder: `work` (cwd and HOME), `ipc` (its sockets), `tmp` (its TMPDIR)."""

    base: Path

    @property
    def work(self) -> Path:
        return self.base / "work"

    @property
    def ipc(self) -> Path:
        return self.base / "ipc"

    @property
    def tmp(self) -> Path:
        return self.base / "tmp"

    @classmethod
    def create(cls, kernels_dir: str = "") -> KernelDirs:
        root = kernels_root(kernels_dir)
        if len(str(root)) > IPC_ROOT_MAX:
            raise SettingsError(f"kernels_dir {str(root)!r} is too long for IPC socket paths")
        dirs = cls(Path(tempfile.mkdtemp(prefix="k-", dir=root)))
        for sub in (dirs.work, dirs.ipc, dirs.tmp):
            sub.mkdir(mode=0o700)
        return dirs

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
