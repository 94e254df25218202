"""Bubblewrap: the command line that runs a kernel in namespaces of its own, and the probe.

`bwrap_argv` gives a read-only system and Python, private /tmp and /proc (the two memory
folders, /tmp and /dev/shm, of a bounded size), no network, and only
the kernel's folder (and a folder the caller chose) writable. `bwrap_problem` says, once per
check, why bubblewrap cannot run here (None when it can). `python_roots` and `system_paths` list
what a kernel must be able to read; the Landlock layer uses the same lists. Nothing here starts
a kernel; `sandbox.py` assembles the whole command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

LAUNCHER = Path(__file__).with_name("launch.py")
TOP_DIRS = ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
# /etc entries a Python kernel needs (dynamic loader, time zone, TLS roots, fonts, user names).
ETC = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "ssl",
    "ca-certificates", "fonts", "alternatives", "passwd", "group", "nsswitch.conf", "hosts",
    "mime.types",
)  # fmt: skip


def bwrap_problem() -> str | None:
    """None when a Python can start inside the same bubblewrap setup kernels get."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    with tempfile.TemporaryDirectory(prefix="codegen-ui-probe-") as tmp:
        cmd = [*bwrap_argv(Path(tmp), Path(tmp)), sys.executable, "-I", "-c", "pass"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap could not run: {exc}"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return f"bubblewrap cannot run here ({lines[-1] if lines else done.returncode})"
    return None


def bwrap_argv(base: Path, cwd: Path, tmp_bytes: int = 0) -> list[str]:
    """Read-only system and Python, private /tmp and /proc, `base` writable, no network.

    /tmp and /dev/shm are tmpfs (memory) of `tmp_bytes` each when given (0: no size); /dev is
    read-only, its devices still usable. A kernel's TMPDIR is in `base`, on disk, where the
    server's folder watch sees it; these two only take what code writes there by name."""
    argv = [shutil.which("bwrap") or "bwrap"]
    argv += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    argv += ["--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    argv += ["--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
    for top in TOP_DIRS:
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for name in ETC:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # The private /tmp first: a Python or venv that lives under /tmp is bound over it after.
    size = ["--size", str(tmp_bytes)] if tmp_bytes > 0 else []
    argv += ["--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/dev/shm"]
    argv += ["--remount-ro", "/dev", *size, "--tmpfs", "/tmp"]
    for root in outermost(python_roots() + site_packages()):  # a symlinked site-packages too
        argv += ["--ro-bind", root, root]
    argv += ["--ro-bind", str(LAUNCHER), str(LAUNCHER)]
    argv += ["--bind", str(base), str(base)]
    if not cwd.is_relative_to(base):  # a folder the caller chose: writable, the only other one
        argv += ["--bind", str(cwd), str(cwd)]
    argv += ["--chdir", str(cwd)]
    return argv


def python_roots() -> list[str]:
    """The folders of this Python and its environment outside /usr (a venv, pyenv, conda)."""
    found: list[str] = []
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        for q in {p, os.path.realpath(p)}:
            if q not in found and not q.startswith("/usr/"):
                found.append(q)
    return outermost(found)


def site_packages() -> list[str]:
    """The real folders of this environment's packages (a symlinked site-packages included)."""
    return sorted({os.path.realpath(sysconfig.get_path(k)) for k in ("purelib", "platlib")})


def outermost(paths: list[str]) -> list[str]:
    """Drop folders already inside another one of the list, so each is named once."""
    return [p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths)]


def system_paths() -> list[str]:
    """What every kernel reads besides its Python: the system, the few /etc entries, CPU info."""
    return [
        "/usr",
        *TOP_DIRS,
        *(f"/etc/{name}" for name in ETC),
        "/sys/devices/system/cpu",
        "/proc/cpuinfo",
        "/proc/meminfo",
    ]
