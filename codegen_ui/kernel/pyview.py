"""The Python a kernel runs, and a view of it that a uid of its own can run.

A root server gives each kernel without bubblewrap a uid of its own. That uid must be able to
run the server's Python, which often lives where only root may look (a pyenv under /root). Then
`python_for_others` builds, once, a *view* of it under the kernels' root: the base interpreter's
files as hard links (a copy where links fail) in world-readable folders, without its tests and
GUI modules, plus a venv shell whose site-packages is the real venv's (linked too when others
cannot read that either). Only files that others may already read get linked; nothing is
written to the original. The view runs with LD_LIBRARY_PATH set, since an interpreter built
with an absolute RUNPATH would otherwise pick up another libpython. `KernelPython` says what to
run, which folders it reads (the Landlock rules) and the extra environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen_ui.kernel.bwrap import LAUNCHER, outermost, python_roots, site_packages

log = logging.getLogger("codegen_ui.kernel")

PROBE_UID = 999_999  # runs the "can another uid start this Python" check; owns nothing
SKIP = {"test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "include"}
DONE = ".complete"


@dataclass(frozen=True)
class KernelPython:
    executable: str
    roots: tuple[str, ...]  # what it reads: prefixes and the real package folders
    env: tuple[tuple[str, str], ...] = ()  # added to the kernel's environment


def server_python() -> KernelPython:
    return KernelPython(sys.executable, tuple(outermost(python_roots() + site_packages())))


@functools.cache
def python_for_others(root: Path) -> KernelPython | None:
    """A Python that another uid can run (the server's, or a view in `root`); None, logged, if
    neither works: such kernels then run as the server's user."""
    own = server_python()
    if can_run(own):
        return own
    try:
        view = build_view(root / f"python-{_digest()}")
    except OSError as exc:
        log.warning("kernels run as root: no view of %s for other users (%s)", sys.executable, exc)
        return None
    if can_run(view):
        log.info("kernels of other uids run a view of this Python: %s", view.executable)
        return view
    log.warning("kernels run as root: other users cannot run %s or a view of it", sys.executable)
    return None


def can_run(python: KernelPython) -> bool:
    """Whether a uid of its own can start `python` and import ipykernel (needs root)."""
    cmd = [sys.executable, "-I", str(LAUNCHER), "--user", f"{PROBE_UID}:{PROBE_UID}", "--"]
    cmd += [python.executable, "-c", "import ipykernel"]
    env = {"PATH": "/usr/bin:/bin", **dict(python.env)}
    try:
        done = subprocess.run(cmd, cwd="/", env=env, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _digest() -> str:
    """Names one view per interpreter, environment and package folder: a venv made again at
    the same path, or moved, gets a view of its own rather than one linked to another."""
    exe = os.path.realpath(sys.executable)
    key = f"{exe}|{sys.prefix}|{os.stat(exe).st_mtime_ns}|{'|'.join(site_packages())}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def build_view(dest: Path) -> KernelPython:
    """Build (or reuse) the view in `dest`; raises OSError when this Python cannot be viewed.

    Several processes may want the same view at once (two servers, a test run's workers): one
    builds it under a lock while the others wait, and a complete view is never removed. (Before
    the lock, one process could delete the view another had just built and read its package
    folder from the gap: its kernels' Landlock rules then missed every package.)"""
    base = os.path.realpath(sys.base_prefix)
    exe = os.path.relpath(os.path.realpath(sys.executable), base)
    if exe.startswith(".."):
        raise OSError(f"{sys.executable} is not inside {base}")
    venv = sys.prefix != sys.base_prefix
    if not (dest / DONE).exists():
        with _locked(dest.with_name(f".{dest.name}.lock")):
            if not (dest / DONE).exists():
                _build(dest, base, exe, venv)
    lib = dest / "base" / "lib"
    env = (("LD_LIBRARY_PATH", str(lib)),) if any(lib.glob("libpython*")) else ()
    packages = [os.path.realpath(p) for p in dest.glob("venv/lib/python*/site-packages")]
    if venv and not packages:
        raise OSError(f"the view {dest} has no site-packages")
    executable = dest / "venv" / "bin" / "python3" if venv else dest / "base" / exe
    return KernelPython(str(executable), tuple(outermost([str(dest), *packages])), env)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (made if missing), held until the block ends."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _build(dest: Path, base: str, exe: str, venv: bool) -> None:
    """Build the view in a folder of its own, then move it to `dest` whole (a half-built
    `dest`, left by a process that died, is replaced; a complete one never gets here)."""
    tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    _link_tree(Path(base), tmp / "base", skip=SKIP | ({"site-packages"} if venv else set()))
    if venv:
        _venv_shell(tmp, dest, exe)
    for folder, _, _ in os.walk(tmp):
        os.chmod(folder, 0o755)
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    (dest / DONE).touch()


def _venv_shell(tmp: Path, dest: Path, exe: str) -> None:
    """A venv whose interpreter is the view's and whose packages are the real venv's."""
    ver = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (tmp / "venv" / "bin").mkdir(parents=True)
    (tmp / "venv" / "lib" / ver).mkdir(parents=True)
    (tmp / "venv" / "bin" / "python3").symlink_to(dest / "base" / exe)
    (tmp / "venv" / "pyvenv.cfg").write_text(
        f"home = {dest / 'base' / os.path.dirname(exe)}\ninclude-system-site-packages = false\n"
    )
    packages = tmp / "venv" / "lib" / ver / "site-packages"
    real = site_packages()[0]
    if _others_can_read(real):
        packages.symlink_to(real)
    else:
        _link_tree(Path(real), packages, skip=set())


def _others_can_read(path: str) -> bool:
    parts = Path(path).parts
    for i in range(1, len(parts) + 1):
        mode = os.stat(Path(*parts[:i])).st_mode
        if not mode & stat.S_IXOTH or (i == len(parts) and not mode & stat.S_IROTH):
            return False
    return True


def _link_tree(src: Path, dst: Path, skip: set[str]) -> None:
    for folder, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d not in skip]
        out = dst / os.path.relpath(folder, src)
        out.mkdir(parents=True, exist_ok=True)
        for name in files:
            source, target = os.path.join(folder, name), out / name
            info = os.lstat(source)
            if stat.S_ISLNK(info.st_mode):
                target.symlink_to(os.readlink(source))
            elif stat.S_ISREG(info.st_mode) and info.st_mode & stat.S_IROTH:
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copy2(source, target)
