"""A gateway kernel's working folder as `KernelFiles`: the Files panel's seam on a remote kernel.

Enterprise Gateway has no contents API, so every call is a silent execute request on the
kernel's own channel (`transfer.quiet`): a listing walks the folder inside the kernel (regular
files only, links and hidden names skipped, bounded like a local listing); a write sends the
bytes in chunks through the request's metadata into a hidden part file renamed into place (all
or nothing); a read comes back in chunks. Names are checked here, by the same
`filenames.check_name` as a local folder, before anything reaches the kernel. What the remote
folder holds is the kernel's business: nothing here touches this machine's disk.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from codegen_ui.core import FileEntry, Listing
from codegen_ui.files import FilesError, check_name, size_text
from codegen_ui.kernel.transfer import CARGO, CHUNK, Quiet

SCAN_CAP = 5000  # entries a listing looks at, as a local listing

# Defined once per request; the kernel's namespace is left as it was.
_WALK = """
def _cg_walk(root, cap):
    import os, stat
    found, todo = [], ['']
    while todo and cap > 0:
        rel = todo.pop()
        try:
            entries = list(os.scandir(os.path.join(root, rel) if rel else root))
        except OSError:
            continue
        for e in entries:
            cap -= 1
            if cap < 0 or e.name.startswith('.'):
                continue
            st = e.stat(follow_symlinks=False)
            name = rel + '/' + e.name if rel else e.name
            if stat.S_ISDIR(st.st_mode):
                todo.append(name)
            elif stat.S_ISREG(st.st_mode):
                found.append((name, st.st_size, st.st_mtime_ns))
    return sorted(found), cap >= 0
"""


class GatewayFiles:
    """The user files of a gateway kernel's folder, reached through `run` (a bound `quiet`)."""

    def __init__(self, run: Quiet, folder: Callable[[], str]) -> None:
        self._run = run
        self._folder = folder

    def _call(self, code: str, expressions: dict[str, str], **extra: Any) -> dict[str, Any]:
        return self._run(code, expressions, **extra)

    def list(self) -> Listing:
        code = _WALK + f"_cg_found = _cg_walk({self._folder()!r}, {SCAN_CAP})\ndel _cg_walk\n"
        found, complete = self._call(code, {"ls": "_cg_found"})["ls"]
        self._call("del _cg_found", {})
        return Listing((FileEntry(str(n), int(s), int(m)) for n, s, m in found), bool(complete))

    def read(self, name: str, max_bytes: int = 0) -> bytes:
        path = self._path(name)
        probe = (
            f"(lambda os, st: (st.S_ISREG(os.lstat({path!r}).st_mode), "
            f"os.lstat({path!r}).st_size) if os.path.lexists({path!r}) else None)"
            "(__import__('os'), __import__('stat'))"
        )
        info = self._call("", {"i": probe})["i"]
        if info is None:
            raise FilesError(f"there is no file {name}")
        regular, size = info
        if not regular:
            raise FilesError(f"{name} is not a regular file")
        if max_bytes and size > max_bytes:
            raise FilesError(f"{name} is larger than {size_text(max_bytes)}")
        pieces = []
        for offset in range(0, size, CHUNK):
            read = (
                f"(lambda f: (f.seek({offset}), __import__('base64').b64encode("
                f"f.read({CHUNK})).decode(), f.close())[1])(open({path!r}, 'rb'))"
            )
            pieces.append(base64.b64decode(self._call("", {"b": read})["b"]))
        return b"".join(pieces)

    def write(self, name: str, data: bytes) -> None:
        path = self._path(name)
        folder, _, leaf = path.rpartition("/")
        part = f"{folder}/.{leaf}.part"
        self._call(f"__import__('os').makedirs({folder!r}, exist_ok=True)", {})
        for offset in range(0, max(len(data), 1), CHUNK):
            mode = "wb" if offset == 0 else "ab"
            piece = base64.b64encode(data[offset : offset + CHUNK]).decode()
            write = f"open({part!r}, {mode!r}).write(__import__('base64').b64decode({CARGO}))"
            self._call(write, {}, metadata={"codegen_ui_chunk": piece})
        self._call(f"__import__('os').replace({part!r}, {path!r})", {})

    def delete(self, name: str) -> None:
        path = self._path(name)
        gone = self._call(
            "", {"ok": f"(lambda os: os.path.lexists({path!r}) and not os.unlink({path!r}))"
                       "(__import__('os'))"},
        )["ok"]  # fmt: skip
        if not gone:
            raise FilesError(f"there is no file {name}")

    def clear(self) -> None:
        root = self._folder()
        code = (
            "import os as _os, shutil as _sh\n"
            f"for _e in list(_os.scandir({root!r})):\n"
            "    if not _e.name.startswith('.'):\n"
            "        (_sh.rmtree if _e.is_dir(follow_symlinks=False) else _os.unlink)(_e.path)\n"
            "_e = None\n"
            "del _os, _sh, _e\n"
        )
        self._call(code, {})

    def _path(self, name: str) -> str:
        return f"{self._folder()}/{check_name(name)}"
