"""Where and how a kernel process runs: limits, a clean environment, a private folder, bubblewrap.

This module builds what a kernel is started with: its command line (bubblewrap, when used, around
the launcher in `launch.py`, which sets resource limits and execs ipykernel), its scrubbed
environment and its own 0700 folder. It also decides, once per process, which sandbox mode works
here. It starts no kernel and knows nothing of Jupyter messages; `client.py` does that.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from codegen_ui.kernel.reaper import MARKER_VAR
from codegen_ui.settings import APP_DIR, DEFAULTS, SandboxMode, Settings, SettingsError

DEFAULT_MODE = cast(SandboxMode, DEFAULTS.sandbox)
log = logging.getLogger("codegen_ui.kernel")
LAUNCHER = Path(__file__).with_name("launch.py")
# Limits-only kernels of a root server each run as a random uid in this range (see below).
UID_BASE, UID_SPAN = 1_000_000, 1_000_000_000
# Unix socket paths hold 107 bytes; each kernel adds "/k-XXXXXXXX/ipc/k-N" to its root.
IPC_ROOT_MAX = 80
# Only these reach a kernel from the server's environment; everything else (tokens, keys,
# HF_TOKEN, GRADIO_*, ...) is dropped.
PASS_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")
# /etc entries a Python kernel needs (dynamic loader, time zone, TLS roots, fonts, user names).
ETC = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "ssl",
    "ca-certificates", "fonts", "alternatives", "passwd", "group", "nsswitch.conf", "hosts",
    "mime.types",
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """Resource limits applied in the kernel process itself (0 means no limit)."""

    memory_mb: int = DEFAULTS.kernel_memory_mb  # address space
    # Over the kernel's whole life; it is killed (and restarted) past it.
    cpu_seconds: int = DEFAULTS.kernel_cpu_seconds
    file_mb: int = DEFAULTS.kernel_file_mb  # largest file it may write
    open_files: int = 256


@dataclass(frozen=True)
class OutputCaps:
    """How much one run may print or display before the rest is dropped."""

    text_bytes: int = DEFAULTS.output_text_kb << 10  # stream text; the head and tail are kept
    outputs: int = DEFAULTS.output_max  # number of outputs
    image_bytes: int = DEFAULTS.output_image_kb << 10  # one image's encoded size
    rich_bytes: int = 20 << 20  # all images, HTML and other rich data of one run together


@dataclass(frozen=True)
class KernelConfig:
    sandbox: SandboxMode = DEFAULT_MODE
    limits: Limits = field(default_factory=Limits)
    caps: OutputCaps = field(default_factory=OutputCaps)
    kernels_dir: str = ""  # "" = a private folder in the system temp folder
    startup_timeout: float = 60.0
    interrupt_grace: float = 3.0  # seconds an interrupted run may take to stop before a restart

    @classmethod
    def from_settings(cls, s: Settings) -> KernelConfig:
        s = s.validated()  # raises SettingsError for an unknown sandbox mode
        return cls(
            sandbox=cast(SandboxMode, s.sandbox),
            limits=Limits(s.kernel_memory_mb, s.kernel_cpu_seconds, s.kernel_file_mb),
            caps=OutputCaps(s.output_text_kb << 10, s.output_max, s.output_image_kb << 10),
            kernels_dir=s.kernels_dir,
        )


@dataclass(frozen=True)
class SandboxInfo:
    """The mode kernels actually run in, and why; `describe()` is a line for the UI."""

    mode: Literal["bwrap", "none"]
    reason: str

    def describe(self) -> str:
        if self.mode == "bwrap":
            return (
                "sandbox: bubblewrap (no network, read-only system, private /tmp, own folder only)"
                " + resource limits"
            )
        return f"sandbox: resource limits only ({self.reason})"


def sandbox_info(mode: SandboxMode = "auto") -> SandboxInfo:
    """Resolve a requested mode; `auto` tries bubblewrap once per process and logs a fallback."""
    return _resolve(mode)


@functools.cache
def _resolve(mode: SandboxMode) -> SandboxInfo:
    if mode == "none":
        return SandboxInfo("none", "sandbox=none was chosen")
    problem = _bwrap_problem()
    if problem is None:
        return SandboxInfo("bwrap", "bubblewrap works here")
    if mode == "bwrap":
        return SandboxInfo("none", f"bubblewrap was required but {problem}")
    log.warning("kernels run with resource limits only, without a namespace sandbox: %s", problem)
    return SandboxInfo("none", problem)


def _bwrap_problem() -> str | None:
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


def kernel_env(dirs: KernelDirs, mode: Literal["bwrap", "none"]) -> dict[str, str]:
    """A fixed allow-list; nothing else from the server's environment gets through."""
    env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env.update(
        PATH=os.pathsep.join(
            [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        HOME=str(dirs.work),
        TMPDIR="/tmp" if mode == "bwrap" else str(dirs.tmp),
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",
        # One thread per math library: kernels share the machine, and thread pools cost
        # address space against the memory limit.
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        MALLOC_ARENA_MAX="2",  # glibc reserves 64 MiB of address space per thread arena
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env[MARKER_VAR] = dirs.base.name  # lets the reaper find escaped processes without a PID ns
    return env


def kernel_argv(
    config: KernelConfig,
    mode: Literal["bwrap", "none"],
    dirs: KernelDirs,
    cwd: Path,
    user: tuple[int, int] | None = None,
) -> list[str]:
    """The command that starts one kernel; `{connection_file}` is filled in by jupyter-client."""
    lim = config.limits
    launcher = [sys.executable, "-I", str(LAUNCHER)]
    if user is not None:
        launcher += ["--user", f"{user[0]}:{user[1]}", "--chown", "{connection_file}"]
    if mode == "none":
        launcher += ["--die-with", str(os.getpid())]
    launcher += [
        "--memory-mb", str(lim.memory_mb), "--cpu-seconds", str(lim.cpu_seconds),
        "--file-mb", str(lim.file_mb), "--open-files", str(lim.open_files), "--",
        sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
        "--HistoryManager.hist_file=:memory:",
    ]  # fmt: skip
    if mode == "none":
        return launcher
    return [*bwrap_argv(dirs.base, cwd), *launcher]


def unprivileged_user(mode: Literal["bwrap", "none"]) -> tuple[int, int] | None:
    """A fresh (uid, gid) for a limits-only kernel that would otherwise run as root.

    Without namespaces a root kernel could read and change anything on the machine. Each kernel
    gets a uid of its own, with no entry in /etc/passwd, so it can read neither the server's
    root-only files and /proc environment nor another kernel's folder, and cannot signal other
    kernels; it also makes the process limit per kernel. None when not root, in bubblewrap
    (whose mounts hide all that), or when such a user cannot run this Python (logged once).
    """
    if mode != "none" or os.geteuid() != 0 or not _others_can_run_python():
        return None
    uid = UID_BASE + secrets.randbelow(UID_SPAN)
    return uid, uid


@functools.cache
def _others_can_run_python() -> bool:
    probe = UID_BASE - 1
    cmd = [sys.executable, "-I", str(LAUNCHER), "--user", f"{probe}:{probe}"]
    cmd += ["--memory-mb", "0", "--cpu-seconds", "0", "--file-mb", "0", "--open-files", "0"]
    cmd += ["--", sys.executable, "-c", "import ipykernel"]
    done = subprocess.run(cmd, cwd="/", capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        log.warning("limits-only kernels run as root: other users cannot run %s", sys.executable)
    return done.returncode == 0


def bwrap_argv(base: Path, cwd: Path) -> list[str]:
    """Read-only system and Python, private /tmp and /proc, `base` writable, no network."""
    argv = [shutil.which("bwrap") or "bwrap"]
    argv += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    argv += ["--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    argv += ["--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for name in ETC:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # The private /tmp first: a Python or venv that lives under /tmp is bound over it after.
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for root in python_roots():
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
    # Drop folders already inside another one, so each is bound once.
    return [p for p in found if not any(p != q and p.startswith(q + "/") for q in found)]
