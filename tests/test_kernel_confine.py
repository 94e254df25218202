"""Hostile cells against real kernels in every mode this host offers, as this (test) server's
user: what each layer contains, held against what the kernel reports as its active layers.

Each case ends with a run that must succeed. The fork loop is bounded (300 sleeping children at
most, all killed and reaped); the big file stops at a small file-size limit.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen_ui.kernel import Kernel, KernelConfig, Limits, escape_checks
from codegen_ui.kernel.folders import KernelDirs
from tests.kernelkit import MODES, expected_contained, follow_up, procs_with_marker, text, wait_for

pytestmark = pytest.mark.slow

CONFIG = KernelConfig(limits=Limits(memory_mb=1024, file_mb=32), interrupt_grace=2.0)
ROOT = os.geteuid() == 0


@pytest.fixture(scope="module", params=MODES)
def k(request: pytest.FixtureRequest) -> Iterator[Kernel]:
    kernel = Kernel(config=dataclasses.replace(CONFIG, sandbox=request.param))
    kernel.start()
    assert kernel.dirs is not None
    marker = kernel.dirs.base.name
    yield kernel
    kernel.shutdown()
    assert wait_for(lambda: not procs_with_marker(marker)), "kernel processes outlived shutdown"


@pytest.fixture
def sessions() -> Iterator[Path]:
    """A folder as the server makes its sessions folder: 0755, notebooks 0644 (pytest's own
    tmp_path is 0700, which would test the permissions instead of the sandbox)."""
    with tempfile.TemporaryDirectory(prefix="codegen-ui-sessions-") as folder:
        path = Path(folder)
        path.chmod(0o755)
        (path / "secret.txt").write_text("another user's notebook")
        yield path


def test_the_reported_layers_are_the_ones_a_hostile_cell_meets(k: Kernel, sessions: Path) -> None:
    assert k.info is not None and k.info.mode == k.config.sandbox
    checks = escape_checks(k, sessions)
    assert len(checks) == 7
    for check in checks:
        assert check.contained == expected_contained(k.info, check.name, ROOT), (check, k.info)
    assert not (sessions / "planted.txt").exists() or not k.info.layers()[1].active
    follow_up(k)


@pytest.mark.parametrize("mode", [m for m in MODES if m != "none"])
def test_sandboxed_modes_contain_every_case_on_this_host(mode: str, sessions: Path) -> None:
    with Kernel(config=dataclasses.replace(CONFIG, sandbox=mode)) as kernel:
        assert kernel.info is not None
        if mode == "landlock" and kernel.info.landlock_abi < 6:
            pytest.skip(f"Landlock ABI {kernel.info.landlock_abi} does not scope signals")
        open_ = [c for c in escape_checks(kernel, sessions) if not c.contained]
        capped = kernel.info.layers()[4]
        uncapped = not capped.active and [c.name for c in open_] == ["fork 300 processes"]
        assert open_ == [] or uncapped, open_
        follow_up(kernel)


def test_another_kernels_folder(k: Kernel) -> None:
    other = KernelDirs.create()
    try:
        (other.work / "notes.txt").write_text("private")
        read = k.run(f"print(open({str(other.work / 'notes.txt')!r}).read())")
        write = k.run(f"open({str(other.work / 'planted.txt')!r}, 'w').write('x')")
        assert k.info is not None
        contained = expected_contained(k.info, "another kernel's folder", ROOT)
        assert (read.status == "error") == contained, text(read)
        assert (write.status == "error") == contained
        assert (other.work / "planted.txt").exists() != contained
    finally:
        other.remove()
    follow_up(k)


def test_a_file_past_the_size_limit_stops_there(k: Kernel) -> None:
    code = "with open('big.bin', 'wb') as f:\n    for _ in range(300):\n        f.write(bytes(MIB))"
    code = code.replace("MIB", str(1 << 20))  # 300 MiB asked for
    result = k.run(code, timeout=120)
    assert result.status == "error" and "File too large" in text(result, "error")
    assert k.workdir is not None
    assert (k.workdir / "big.bin").stat().st_size == CONFIG.limits.file_mb << 20
    assert k.run("import os\nos.remove('big.bin')").status == "ok"
    follow_up(k)


def test_a_segfault_is_a_death_and_a_fresh_kernel(k: Kernel) -> None:
    k.run("kept = 1")
    result = k.run("import ctypes\nctypes.string_at(0)", timeout=60)
    assert result.status == "died" and result.state_lost
    assert "NameError" in text(k.run("kept"), "error")
    follow_up(k)


def test_the_kernel_runs_numpy_subprocesses_and_a_process_pool_under_its_layers(k: Kernel) -> None:
    code = (
        "import multiprocessing, numpy, subprocess\n"
        "out = subprocess.check_output(['echo', 'hi'])\n"
        "with multiprocessing.Pool(2) as pool:\n"
        "    print(numpy.arange(4).sum(), pool.map(abs, [-1, -2]), out.decode())"
    )
    result = k.run(code, timeout=60)
    assert result.status == "ok", result.outputs
    assert text(result) == "6 [1, 2] hi\n\n"
    follow_up(k)


@pytest.mark.parametrize("mode", MODES)
def test_doctor_prints_the_layers_and_checks_them(mode: str) -> None:
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "codegen_ui", "doctor", "--sandbox", mode]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"requested sandbox: {mode}; kernels run in mode: {mode}")
    assert [line[6:].split()[0] for line in lines[1:7]] == [
        "bubblewrap", "landlock", "seccomp", "own", "process", "limits",
    ]  # fmt: skip
    results = [line for line in lines if line.startswith(("  contained", "  OPEN"))]
    assert len(results) == 7
    expected_open = mode == "none"  # the folder it must not see is world-readable
    assert (done.returncode == 1) == expected_open, done.stdout + done.stderr
    assert lines[-1] == ("every attempt was contained" if not expected_open else lines[-1])
