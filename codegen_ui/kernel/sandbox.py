"""What a kernel process is started with: limits, a clean environment, a private folder, a command.

This module builds a kernel's command line (bubblewrap around the launcher, in `bwrap.py`, or the
launcher alone with its Landlock, seccomp, uid and process-cap options; `launch.py` applies them
and execs ipykernel), its scrubbed environment and its placement (uid, Python, cgroup). Its
folder is made in `folders.py`; which layers apply is decided once per process in `layers.py`.
It starts no kernel and knows nothing of Jupyter messages; `client.py` does that.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from codegen_ui.files import FolderQuota
from codegen_ui.kernel import cgroup
from codegen_ui.kernel.bwrap import LAUNCHER, bwrap_argv
from codegen_ui.kernel.folders import KernelDirs, kernels_root
from codegen_ui.kernel.layers import Mode, SandboxInfo, landlock_rules, tasks_of
from codegen_ui.kernel.pyview import KernelPython, python_for_others, server_python
from codegen_ui.kernel.reaper import MARKER_VAR
from codegen_ui.settings import DEFAULTS, SandboxMode, Settings

DEFAULT_MODE = cast(SandboxMode, DEFAULTS.sandbox)

# Kernels of a root server without bubblewrap each run as a random uid in this range.
UID_BASE, UID_SPAN = 1_000_000, 1_000_000_000
# Only these reach a kernel from the server's environment; everything else (tokens, keys,
# HF_TOKEN, GRADIO_*, ...) is dropped.
PASS_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")
# Without network, ipykernel must not bind the TCP pipe it keeps for forked children's output
# (libzmq aborts when the socket cannot be made); this is the state it falls back to itself
# when that bind fails.
NO_PIPE_BOOT = (
    "import sys\n"
    "if sys.path and sys.path[0] == '':\n"
    "    del sys.path[0]\n"
    "from ipykernel import iostream, kernelapp\n"
    "def _no_pipe(self):\n"
    "    self._pipe_flag = False\n"
    "iostream.IOPubThread._setup_pipe_in = _no_pipe\n"
    "kernelapp.launch_new_instance()\n"
)
# A kernel without network cannot install packages: `%pip`, `%conda` and `%mamba` say so at once
# as one error line (ipykernel's `_showtraceback` with a one-line traceback) instead of pip
# retrying a network that is not there. Run with exec in a namespace of its own: the user's
# namespace gains nothing.
NO_INSTALL = (
    "packages cannot be installed here: this kernel has no network. "
    "Ask the host to add the package to the server's environment"
)
_NO_INSTALL_CODE = (
    "class InstallError(Exception): pass\n"
    "def _no(line):\n"
    "    get_ipython()._showtraceback(InstallError, InstallError(M), ['InstallError: ' + M])\n"
    "for _n in ('pip', 'conda', 'mamba'):\n"
    "    get_ipython().register_magic_function(_no, 'line', _n)\n"
)
NO_INSTALL_BOOT = f"exec({_NO_INSTALL_CODE!r}, {{'get_ipython': get_ipython, 'M': {NO_INSTALL!r}}})"


@dataclass(frozen=True)
class Limits:
    """Resource limits applied in the kernel process itself (0 means no limit)."""

    memory_mb: int = DEFAULTS.kernel_memory_mb  # address space
    # Over the kernel's whole life; it is killed (and restarted) past it.
    cpu_seconds: int = DEFAULTS.kernel_cpu_seconds
    file_mb: int = DEFAULTS.kernel_file_mb  # largest file it may write
    open_files: int = 256
    processes: int = 256  # processes and threads of one kernel (pids cgroup or RLIMIT_NPROC)


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
    # What its folder may take while a cell runs (`watch.FolderWatch`); the session's limits.
    folder: FolderQuota = field(default_factory=FolderQuota)
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
            folder=FolderQuota.of(s.files_session_mb, s.files_max),
            kernels_dir=s.kernels_dir,
        )


def kernel_env(dirs: KernelDirs, mode: Mode, python: KernelPython) -> dict[str, str]:
    """A fixed allow-list; nothing else from the server's environment gets through."""
    env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env.update(
        PATH=os.pathsep.join(
            [str(Path(python.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        HOME=str(dirs.work),
        TMPDIR=str(dirs.tmp),  # inside its folder, so the folder watch sees temporary files too
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
        **dict(python.env),
    )
    if mode == "bwrap":  # no network: `!pip install` fails at once instead of retrying
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env[MARKER_VAR] = dirs.base.name  # lets the reaper find escaped processes without a PID ns
    return env


@dataclass(frozen=True)
class Placement:
    """Who and where one kernel runs: its uid (None: the server's), Python and cgroup."""

    python: KernelPython
    user: tuple[int, int] | None = None
    cgroup: Path | None = None


def kernel_argv(
    config: KernelConfig, info: SandboxInfo, dirs: KernelDirs, cwd: Path, place: Placement
) -> list[str]:
    """The command that starts one kernel; `{connection_file}` is filled in by jupyter-client."""
    lim = config.limits
    launcher = [sys.executable, "-I", str(LAUNCHER)]
    launcher += ["--memory-mb", str(lim.memory_mb), "--cpu-seconds", str(lim.cpu_seconds)]
    launcher += ["--file-mb", str(lim.file_mb), "--open-files", str(lim.open_files)]
    if place.user is not None:
        launcher += ["--user", f"{place.user[0]}:{place.user[1]}", "--chown", "{connection_file}"]
        launcher += ["--nproc", str(lim.processes)]
    elif os.getuid() != 0 and place.cgroup is None:
        # RLIMIT_NPROC counts the whole uid: allow this kernel as many as it has now, plus its own.
        launcher += ["--nproc", str(tasks_of(os.getuid()) + lim.processes)]
    if info.mode != "bwrap":
        launcher += ["--die-with", str(os.getpid())]
        if place.cgroup is not None:
            launcher += ["--cgroup", str(place.cgroup)]
    if info.seccomp:
        launcher += ["--no-network", "1"]
    if info.mode == "landlock":
        writable = [dirs.base] + ([] if cwd.is_relative_to(dirs.base) else [cwd])
        launcher += ["--landlock", landlock_rules(place.python.roots, writable)]
    kernel = [place.python.executable]
    kernel += ["-c", NO_PIPE_BOOT] if info.seccomp else ["-m", "ipykernel_launcher"]
    launcher += ["--", *kernel, "-f", "{connection_file}", "--HistoryManager.hist_file=:memory:"]
    if info.mode == "bwrap" or info.seccomp:  # no network: say so when asked to install
        launcher.append(f"--IPKernelApp.exec_lines={NO_INSTALL_BOOT}")
    if info.mode != "bwrap":
        return launcher
    wrapped = [*bwrap_argv(dirs.base, cwd, lim.file_mb << 20), *launcher]
    if place.cgroup is None:
        return wrapped
    # The cgroup is joined outside bubblewrap, which hides /sys/fs/cgroup.
    return [sys.executable, "-I", str(LAUNCHER), "--cgroup", str(place.cgroup), "--", *wrapped]


def placement(
    info: SandboxInfo,
    config: KernelConfig,
    dirs: KernelDirs,
    user: tuple[int, int] | None,
    group: Path | None,
) -> Placement:
    """Where the kernel runs: `user` (pass the one it had before, so files it made stay its
    own across restarts) and `group` likewise; both made here when missing and applicable."""
    user = user or unprivileged_user(info)
    python = server_python()
    if user is not None:
        python = python_for_others(kernels_root()) or python
        for folder in (dirs.base, dirs.work, dirs.ipc, dirs.tmp):
            os.chown(folder, *user)
    if group is None and info.cgroup:
        lim = config.limits
        group = cgroup.create(dirs.base.name, lim.processes, lim.memory_mb << 20)
    return Placement(python, user, group)


def unprivileged_user(info: SandboxInfo) -> tuple[int, int] | None:
    """A fresh (uid, gid) for a kernel of a root server without bubblewrap.

    Without namespaces a root kernel could read and change anything on the machine (Landlock
    aside), and root is exempt from RLIMIT_NPROC. Each kernel gets a uid of its own, with no
    entry in /etc/passwd, so it can read neither the server's root-only files and /proc
    environment nor another kernel's folder, and cannot signal other kernels; it also makes the
    process limit per kernel. None when not root, in bubblewrap, or when no Python runs as
    another uid (`layers.SandboxInfo.own_uid`).
    """
    if not info.own_uid:
        return None
    uid = UID_BASE + secrets.randbelow(UID_SPAN)
    return uid, uid
