"""A session's user files on disk: safe names, the limits, and a folder handled without links.

`names` checks a user's file name (a safe relative path, NFC) and holds the limits
(`FileLimits`, from the settings) and their one-line errors (`FilesError`); `folder` is
`FolderFiles`, a folder of user files that never follows a link in a listing, a read, a write
or a delete; `usage` measures what a folder takes (every entry, hidden ones included) and
holds `FolderQuota`, what a kernel's folder may take while a cell runs. Both the kernel's
working folder (`codegen_ui.kernel`) and the store's copy (`codegen_ui.notebooks`) are such
folders, so this package sits below both; it knows nothing of kernels, sessions or the web app.
"""

from codegen_ui.files.folder import SCAN_CAP, FolderFiles
from codegen_ui.files.names import FileLimits, FilesError, check_name, size_text
from codegen_ui.files.usage import (
    SHARED_TMP,
    FolderQuota,
    Usage,
    measure,
    owned_in,
    remove_owned,
)

__all__ = [
    "SCAN_CAP",
    "SHARED_TMP",
    "FileLimits",
    "FilesError",
    "FolderFiles",
    "FolderQuota",
    "Usage",
    "check_name",
    "measure",
    "owned_in",
    "remove_owned",
    "size_text",
]
