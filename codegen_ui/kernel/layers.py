"""Which confinement layers kernels get on this host, decided once per process, and how to say so.

`sandbox_info(mode)` resolves a requested mode (`auto`, `bwrap`, `landlock`, `none`) to a
`SandboxInfo`: bubblewrap where it runs (`auto`, `bwrap`), else Landlock (`auto`, `landlock`),
else resource limits only; in the modes without bubblewrap also the seccomp socket filter where
libseccomp is installed, a uid of its own per kernel when the server is root and such a uid can
run a Python (see `pyview.py`), and a process cap (a pids cgroup, else RLIMIT_NPROC). Each
probe runs a real confined Python once. The Landlock probe imports ipykernel under the kernels'
own rules, and a root server's also does so as a uid of its own with the Python those kernels
get: a Python whose files the rules miss costs Landlock (or the uid layer) at start, said in one
line, never a dead kernel. `SandboxInfo.layers()` lists every layer with whether it is active
and why, for the status line, the log and `codegen-ui doctor`. `hide_server()` makes the
server's own process undumpable. Nothing here starts a kernel.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codegen_ui.kernel import cgroup, confine
from codegen_ui.kernel.bwrap import LAUNCHER, bwrap_problem, system_paths
from codegen_ui.kernel.folders import kernels_root
from codegen_ui.kernel.pyview import PROBE_UID, KernelPython, python_for_others, server_python
from codegen_ui.settings import SandboxMode

log = logging.getLogger("codegen_ui.kernel")

Mode = Literal["bwrap", "landlock", "none"]
DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]
PR_SET_DUMPABLE = 4


@dataclass(frozen=True)
class Layer:
    name: str
    active: bool
    detail: str


@dataclass(frozen=True)
class SandboxInfo:
    """The mode kernels actually run in, why, and the layers that come with it."""

    mode: Mode
    reason: str
    landlock_abi: int = 0  # the ABI used, in landlock mode
    seccomp: bool = False  # the socket filter (modes without bubblewrap)
    own_uid: bool = False  # a root server runs each kernel as a uid of its own
    own_uid_note: str = ""  # why not, when a root server's kernels cannot have one
    cgroup: bool = False  # each kernel in a pids cgroup of its own (else RLIMIT_NPROC)
    root: bool = False  # the server runs as root (exempt from RLIMIT_NPROC)

    def layers(self) -> tuple[Layer, ...]:
        bwrap = self.mode == "bwrap"
        abi = self.landlock_abi
        landlock = (
            f"ABI {abi}: read-only system and Python, own folder only"
            + (", no TCP bind or connect" if abi >= 4 else "")
            + (", signals and abstract unix sockets scoped to the kernel" if abi >= 6 else "")
        )
        cap = "pids cgroup" if self.cgroup else "RLIMIT_NPROC"
        capped = self.cgroup or not self.root or self.own_uid
        return (
            Layer("bubblewrap", bwrap, "namespaces: no network, private /tmp and /proc")
            if bwrap
            else Layer("bubblewrap", False, self.reason),
            Layer("landlock", abi > 0, landlock if abi else "not used in this mode"),
            Layer("seccomp", self.seccomp, "no sockets but AF_UNIX, no io_uring")
            if self.seccomp
            else Layer("seccomp", False, "bubblewrap has no network" if bwrap else "no libseccomp"),
            Layer("own uid", self.own_uid, "a random uid per kernel")
            if self.own_uid
            else Layer("own uid", False, "server is not root" if not self.root else
                       "bubblewrap mode" if bwrap else
                       self.own_uid_note or "other uids cannot run this Python"),
            Layer("process cap", capped, cap if capped else "root kernel without a cgroup"),
            Layer("limits", True, "memory, CPU time, file size, open files"),
        )  # fmt: skip

    def active(self) -> str:
        """The active layers in a few words: "landlock ABI 7 + seccomp + ... + limits"."""
        names = [layer.name for layer in self.layers() if layer.active]
        if self.landlock_abi:
            names[names.index("landlock")] = f"landlock ABI {self.landlock_abi}"
        return " + ".join(names)

    def describe(self) -> str:
        note = "" if self.mode != "none" else f" ({self.reason})"
        return f"sandbox: {self.mode}: {self.active()}{note}"


def _server_is_root() -> bool:
    return os.geteuid() == 0


def sandbox_info(mode: SandboxMode = "auto") -> SandboxInfo:
    """Resolve a requested mode, once per process; a fallback is logged once."""
    return _resolve(mode)


@functools.cache
def _resolve(mode: SandboxMode) -> SandboxInfo:
    info = _decide(mode)
    log.info("kernels (sandbox=%s): %s", mode, info.describe())
    return info


def _decide(mode: SandboxMode) -> SandboxInfo:
    if mode in ("auto", "bwrap"):
        problem = bwrap_problem()
        if problem is None:
            return _with_cap(SandboxInfo("bwrap", "bubblewrap works here"))
        if mode == "bwrap":
            return SandboxInfo("none", f"bubblewrap was required but {problem}")
        why = problem
    else:
        why = "sandbox=none was chosen" if mode == "none" else "sandbox=landlock was chosen"
    seccomp = _probe(no_network=True, landlock=False)
    if mode in ("auto", "landlock"):
        abi = confine.landlock_abi()
        if abi and _probe(no_network=False, landlock=True):
            info = _with_cap(SandboxInfo("landlock", why, abi, seccomp))
            if mode == "auto":
                log.warning(
                    "kernels run under Landlock, not bubblewrap (%s): %s", why, info.active()
                )
            return info
        problem = (
            "a kernel's Python cannot start under its rules here (the probe's line is logged)"
            if abi
            else "this kernel does not offer it"
        )
        if mode == "landlock":
            return SandboxInfo("none", f"Landlock was required but {problem}")
        why += f"; Landlock is not available: {problem}" if abi else "; Landlock is not available"
    info = _with_cap(SandboxInfo("none", why, 0, seccomp))
    if mode == "auto":
        log.warning("kernels run without a filesystem sandbox: %s", info.describe())
    return info


def _with_cap(info: SandboxInfo) -> SandboxInfo:
    from dataclasses import replace

    root = _server_is_root()
    own, note = False, ""
    if info.mode != "bwrap" and root:
        python = _others_python()
        if python is None:
            note = "other uids cannot run this Python"
        elif info.mode == "landlock" and not _own_uid_kernel_starts(python):
            # Their kernels would die at start (a Python whose files lie outside what the
            # rules allow): run them as the server's user instead, and say so once.
            note = "a uid of its own cannot start a kernel under Landlock here"
            log.warning("kernels run as root under Landlock: %s (see the probe's line)", note)
        else:
            own = True
    cap = cgroup.parent() is not None
    return replace(info, own_uid=own, own_uid_note=note, cgroup=cap, root=root)


def _others_python() -> KernelPython | None:
    return python_for_others(kernels_root())


def landlock_rules(roots: tuple[str, ...], writable: list[Path]) -> str:
    """The launcher's `--landlock` value: what a kernel reads, writes, and which devices."""
    read = system_paths() + list(roots)
    rules = {"read": read, "write": [str(p) for p in writable], "devices": DEVICES}
    return json.dumps({**rules, "shared": ["/dev/shm"]})


def _probe(no_network: bool, landlock: bool) -> bool:
    """Whether a Python starts under the layer (and the layer really holds)."""
    if landlock and confine.landlock_abi() < 1:
        return False
    if no_network and confine.libseccomp() is None:
        return False
    with tempfile.TemporaryDirectory(prefix="codegen-ui-probe-") as tmp:
        cmd = [sys.executable, "-I", str(LAUNCHER)]
        if no_network:
            cmd += ["--no-network", "1"]
        if landlock:
            cmd += ["--landlock", landlock_rules(server_python().roots, [Path(tmp)])]
        check = "import socket\ntry:\n socket.socket(socket.AF_INET6)\nexcept OSError: pass\n"
        check += "else: raise SystemExit(3)\n" if no_network else ""
        check += "import ipykernel\n" if landlock else ""  # what a kernel reads before it replies
        check += f"open({tmp!r} + '/ok', 'w').close()\n"
        return _probe_ran([*cmd, "--", sys.executable, "-I", "-c", check], {})


def _own_uid_kernel_starts(python: KernelPython) -> bool:
    """Whether a kernel's Python, run as a uid of its own under the Landlock rules its kernels
    get, imports ipykernel and writes to its folder: what a kernel needs before it can reply."""
    with tempfile.TemporaryDirectory(prefix="probe-", dir=kernels_root()) as tmp:
        os.chown(tmp, PROBE_UID, PROBE_UID)
        rules = landlock_rules(python.roots, [Path(tmp)])
        cmd = [sys.executable, "-I", str(LAUNCHER), "--user", f"{PROBE_UID}:{PROBE_UID}"]
        cmd += ["--landlock", rules, "--", python.executable, "-c"]
        cmd.append(f"import ipykernel\nopen({tmp!r} + '/ok', 'w').close()\n")
        return _probe_ran(cmd, dict(python.env))


def _probe_ran(cmd: list[str], env: dict[str, str]) -> bool:
    """Run one probe from /, with a bare environment; its failure is logged in one line."""
    full = {"PATH": "/usr/bin:/bin", **env}
    try:
        done = subprocess.run(
            cmd, cwd="/", env=full, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        log.info("kernel layer probe failed: %s", last[0][-300:])
    return done.returncode == 0


@functools.cache
def hide_server() -> bool:
    """Make this process undumpable: no same-uid process reads its /proc environ or memory, or
    attaches a debugger. Once per process; False where the call fails."""
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)


def tasks_of(uid: int) -> int:
    """Threads running as real uid `uid` (what RLIMIT_NPROC counts), from /proc."""
    count = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as status:
                lines = dict(line.split(b":", 1) for line in status if b":" in line)
            if int(lines[b"Uid"].split()[0]) == uid:
                count += int(lines[b"Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return count
