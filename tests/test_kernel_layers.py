"""Each confinement layer on its own, through the real launcher on a small Python (no kernel):
the seccomp socket filter, Landlock's folders and TCP rule, the pids cgroup, the view of the
interpreter for other uids, the undumpable server, and how `auto` falls back."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen_ui.kernel import cgroup, confine, sandbox_info
from codegen_ui.kernel.bwrap import LAUNCHER
from codegen_ui.kernel.layers import landlock_rules
from codegen_ui.kernel.pyview import build_view, can_run, server_python
from codegen_ui.kernel.reaper import kill_leftovers, leftovers
from tests.kernelkit import wait_for

NEEDS_LANDLOCK = pytest.mark.skipif(confine.landlock_abi() < 1, reason="no Landlock here")
NEEDS_SECCOMP = pytest.mark.skipif(confine.libseccomp() is None, reason="no libseccomp here")


def launch(options: list[str], code: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-I", str(LAUNCHER), *options, "--", sys.executable, "-I", "-c", code]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="codegen-ui-layer-") as name:
        yield Path(name)


@NEEDS_SECCOMP
def test_seccomp_leaves_only_unix_sockets() -> None:
    code = (
        "import socket as s\n"
        "for family in (s.AF_INET, s.AF_INET6, s.AF_NETLINK, s.AF_PACKET):\n"
        "    try:\n"
        "        s.socket(family, s.SOCK_DGRAM)\n"
        "    except PermissionError:\n"
        "        print('denied', end=' ')\n"
        "s.socket(s.AF_UNIX).close()\n"
        "a, b = s.socketpair()\n"
        "print('unix ok')"
    )
    done = launch(["--no-network", "1"], code)
    assert done.stdout == "denied denied denied denied unix ok\n", done.stderr


@NEEDS_LANDLOCK
def test_landlock_allows_its_folders_only(folder: Path) -> None:
    (folder / "own").mkdir()
    (folder / "outside.txt").write_text("secret")
    rules = landlock_rules(server_python().roots, [folder / "own"])
    code = (
        f"open({str(folder / 'own' / 'new.txt')!r}, 'w').write('mine')\n"
        "import json\n"
        "try:\n"
        f"    open({str(folder / 'outside.txt')!r}).read()\n"
        "except PermissionError:\n"
        "    print('denied')"
    )
    done = launch(["--landlock", rules], code)
    assert done.stdout == "denied\n", done.stderr
    assert (folder / "own" / "new.txt").read_text() == "mine"
    assert json.loads(rules)["devices"][0] == "/dev/null"


@pytest.mark.skipif(confine.landlock_abi() < 4, reason="Landlock below ABI 4 has no TCP rules")
def test_landlock_alone_stops_tcp(folder: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), 5)"
        done = launch(["--landlock", landlock_rules(server_python().roots, [folder])], code)
    assert done.returncode != 0 and "PermissionError" in done.stderr


def test_a_layer_that_cannot_be_applied_stops_the_launch(folder: Path) -> None:
    rules = json.dumps({"read": [], "write": [str(folder)], "devices": [], "shared": []})
    done = launch(["--landlock", rules], "print('ran')")
    if confine.landlock_abi() >= 1:  # then Python itself cannot be read: it must not start
        assert "ran" not in done.stdout and done.returncode != 0
    else:
        assert done.returncode == 70 and "cannot confine the kernel" in done.stderr


def test_auto_without_bubblewrap_takes_landlock(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import codegen_ui.kernel.bwrap as bwrap
    import codegen_ui.kernel.layers as layers

    if sandbox_info("landlock").mode != "landlock":
        pytest.skip("Landlock does not work here")
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None)
    layers._resolve.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="codegen_ui.kernel"):
            info = sandbox_info("auto")
    finally:
        layers._resolve.cache_clear()
    assert info.mode == "landlock" and info.landlock_abi == confine.landlock_abi()
    assert info.describe().startswith(f"sandbox: landlock: landlock ABI {info.landlock_abi}")
    assert "Landlock, not bubblewrap" in caplog.records[0].message


def test_a_kernel_cgroup_caps_processes_and_goes_away() -> None:
    if cgroup.parent() is None:
        pytest.skip("this server may not make cgroups here (kernels get RLIMIT_NPROC)")
    group = cgroup.create(f"test-{os.getpid()}", 5, 0)
    assert group is not None and (group / "pids.max").read_text().strip() == "5"
    code = (
        "import os, time\nkids = []\ntry:\n    for _ in range(20):\n"
        "        kids.append(os.fork() or os.closerange(0, 9) or time.sleep(60) or os._exit(0))\n"
        "except OSError:\n    pass\nprint(len(kids))"
    )
    done = launch(["--cgroup", str(group)], code)
    assert done.stdout.strip() == "4", done.stderr  # the launcher's Python is the fifth
    # Its children outlived it, outside any tree the reaper could walk: the group still has them.
    orphans = cgroup.members(group)
    assert len(orphans) == 4
    kill_leftovers(leftovers(None, None, orphans))
    assert wait_for(lambda: cgroup.members(group) == [])
    cgroup.remove(group)
    assert not group.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another uid needs root")
def test_the_view_of_this_python_runs_as_another_uid(folder: Path) -> None:
    folder.chmod(0o755)
    view = build_view(folder / "python")
    assert Path(view.executable).exists() and view.executable.startswith(str(folder))
    assert can_run(view)
    again = build_view(folder / "python")  # built once, then reused
    assert again == view


def test_the_server_becomes_undumpable() -> None:
    code = (
        "import ctypes\nfrom codegen_ui.kernel.layers import hide_server\n"
        "assert hide_server()\nprint(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))"  # PR_GET_DUMPABLE
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout == "0\n", done.stderr
