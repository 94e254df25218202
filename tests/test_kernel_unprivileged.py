"""The same hostile cells with the server run as an unprivileged user, in every mode that user
can get (bubblewrap, Landlock, limits only), through `tests/confine_probe.py`.

Needs root (to start the probe as that user) and the user named by CODEGEN_UI_TEST_USER
(default `codegen-test`; `.ci/run` creates it). Skipped, with the reason, where either is
missing or that user cannot run this Python or read this checkout.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

from codegen_ui.kernel import SandboxInfo, kernels_root
from codegen_ui.kernel.pyview import KernelPython, python_for_others
from tests.kernelkit import expected_contained

pytestmark = pytest.mark.slow

USER = os.environ.get("CODEGEN_UI_TEST_USER", "codegen-test")
REPO = Path(__file__).resolve().parents[1]


def _as_user(python: KernelPython, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = ["PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8", *(f"{k}={v}" for k, v in python.env)]
    runuser = shutil.which("runuser") or "runuser"
    cmd = [runuser, "-u", USER, "--", "env", "-i", *env, python.executable, *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def python() -> KernelPython:
    if os.geteuid() != 0:
        pytest.skip("starting the server as another user needs root")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        pytest.skip(f"no user {USER!r} (`.ci/run` creates it: useradd --system {USER})")
    found = python_for_others(kernels_root())
    if found is None:
        pytest.skip("other users cannot run this Python, nor a view of it (logged)")
    done = _as_user(found, "-c", "import codegen_ui.kernel, tests.confine_probe", timeout=60)
    if done.returncode != 0:
        pytest.skip(f"{USER} cannot import this checkout: {done.stderr.strip()[-200:]}")
    return found


@pytest.mark.parametrize("mode", ["bwrap", "landlock", "none"])
def test_an_unprivileged_server_contains_what_its_layers_say(
    python: KernelPython, mode: str
) -> None:
    done = _as_user(python, "-m", "tests.confine_probe", mode, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if "skip" in report:
        pytest.skip(f"{USER} cannot get {mode}: {report['skip']}")
    info = SandboxInfo(**report["info"])
    assert info.mode == mode and not info.own_uid
    for check in report["checks"]:
        expected = expected_contained(info, check["name"], server_is_root=False)
        assert check["contained"] == expected, (check, info)
    other = expected_contained(info, "another kernel's folder", server_is_root=False)
    assert (report["other_kernel_read"] == "error") == other
    assert report["segfault"] == "died" and report["after"] == ["42\n"]
    if mode == "landlock" and info.landlock_abi >= 6:
        assert all(check["contained"] for check in report["checks"]), report["checks"]
