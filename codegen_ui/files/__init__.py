"""A session's user files on disk: safe names, the limits, and a folder handled without links.

`names` checks a user's file name (a safe relative path, NFC) and holds the limits
(`FileLimits`, from the settings) and their one-line errors (`FilesError`); `folder` is
`FolderFiles`, a folder of user files that never follows a link in a listing, a read, a write
or a delete. Both the kernel's working folder (`codegen_ui.kernel`) and the store's copy
(`codegen_ui.notebooks`) are such folders, so this package sits below both; it knows nothing of
kernels, sessions or the web app.
"""

from codegen_ui.files.folder import FolderFiles
from codegen_ui.files.names import FileLimits, FilesError, check_name, size_text

__all__ = ["FileLimits", "FilesError", "FolderFiles", "check_name", "size_text"]
