"""Files in and out of a remote kernel's folder, through the kernel's own execute channel.

Enterprise Gateway has no contents API, so a gateway's kernel gets its files the way its code
does: `put_files` sends each file base64-encoded in chunks, one silent execute request per
chunk (no history, no outputs, no execution count), into a hidden part file that is renamed into
place at the end: a file is either all there or unchanged. The chunk rides in the request's
metadata, where ipykernel hands it to the running code as its parent message, so the kernel
does not parse megabytes of code. `read_file` reads one back in chunks through
`user_expressions`. `quiet` is the silent request itself. Names are plain file names only.
Nothing here knows how the kernel was started; it needs the kernel's channels and its folder.
"""

from __future__ import annotations

import ast
import base64
from collections.abc import Callable, Mapping
from typing import Any

from codegen_ui.core import KernelError
from codegen_ui.kernel.gwclient import Channels

# Raw bytes per request: 3 MiB is 4 MiB of base64, under the 10 MiB a Jupyter server's
# websocket takes in one message.
CHUNK = 3 << 20
SETUP_S = 30.0  # seconds one silent request (the folder, a chunk) may take
CARGO = "get_ipython().kernel.get_parent()['metadata']['codegen_ui_chunk']"
Quiet = Callable[..., dict[str, Any]]  # `quiet` with the kernel's channels bound


def check_name(name: str) -> str:
    """A file name for the kernel's folder: one plain name, no path, not hidden."""
    bad = not name or name.startswith(".") or any(c in name for c in "/\\\0") or len(name) > 255
    if bad:
        raise KernelError(f"{name!r} is not a plain file name for the kernel's folder")
    return name


def quiet(
    channels: Channels,
    code: str,
    expressions: dict[str, str],
    timeout: float = SETUP_S,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run `code` silently and evaluate `expressions` after it: the Python values of their
    reprs. `metadata` rides on the request (`CARGO` reads it). Raises KernelError if it fails."""
    content = {
        "code": code,
        "silent": True,
        "store_history": False,
        "user_expressions": expressions,
        "allow_stdin": False,
        "stop_on_error": False,
    }
    msg_id = channels.send("shell", "execute_request", content, metadata)
    reply = channels.reply("shell", msg_id, timeout)
    if reply is None:
        raise KernelError("the gateway's kernel did not answer a setup request")
    answer = reply["content"]
    if answer.get("status") != "ok":
        raise KernelError(f"{answer.get('ename')}: {answer.get('evalue')}")
    values: dict[str, Any] = {}
    for name, got in (answer.get("user_expressions") or {}).items():
        if got.get("status") != "ok":
            raise KernelError(f"{got.get('ename')}: {got.get('evalue')}")
        values[name] = ast.literal_eval(got["data"]["text/plain"])
    return values


def put_files(run: Quiet, folder: str, files: Mapping[str, bytes], chunk: int = CHUNK) -> None:
    """Write each file (name -> bytes) into `folder`, replacing any of that name."""
    for name in files:
        check_name(name)
    for name, data in files.items():
        part = f"{folder}/.{name}.part"
        for offset in range(0, max(len(data), 1), chunk):
            mode = "wb" if offset == 0 else "ab"
            piece = base64.b64encode(data[offset : offset + chunk]).decode()
            write = f"open({part!r}, {mode!r}).write(__import__('base64').b64decode({CARGO}))"
            run(write, {}, metadata={"codegen_ui_chunk": piece})
        run(f"__import__('os').replace({part!r}, {folder + '/' + name!r})", {})


def read_file(run: Quiet, folder: str, name: str, chunk: int = CHUNK) -> bytes:
    """The bytes of a file in `folder` (read in chunks, base64 on the wire)."""
    path = f"{folder}/{check_name(name)}"
    size = int(run("", {"n": f"__import__('os').path.getsize({path!r})"})["n"])
    pieces = []
    for offset in range(0, size, chunk):
        read = (
            f"(lambda f: (f.seek({offset}), __import__('base64').b64encode("
            f"f.read({chunk})).decode(), f.close())[1])(open({path!r}, 'rb'))"
        )
        pieces.append(base64.b64decode(run("", {"b": read})["b"]))
    return b"".join(pieces)


def list_files(run: Quiet, folder: str) -> list[str]:
    """The plain files in `folder` (part files left out)."""
    listing = (
        f"sorted(e.name for e in __import__('os').scandir({folder!r}) "
        "if e.is_file() and not e.name.startswith('.'))"
    )
    return list(run("", {"ls": listing})["ls"])
