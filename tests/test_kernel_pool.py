"""The live-kernel cap, pre-started kernels, the idle sweep and shutdown on server exit."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen_ui.kernel import kernels_root
from codegen_ui.kernel.pool import Capacity, KernelPool, ServerBusy
from codegen_ui.settings import Settings
from tests.kernelkit import follow_up, procs_with_marker, text, wait_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pool() -> Iterator[KernelPool]:
    p = KernelPool(max_kernels=2, size=1, idle_s=60)
    yield p
    p.close()


def test_closing_the_pool_gives_every_slot_back() -> None:
    p = KernelPool(max_kernels=2, size=1, idle_s=60)
    p.refill(wait=True)
    leased = p.acquire()
    assert p.capacity.used >= 1 and leased.is_alive
    p.close()
    assert p.capacity.used == 0 and not leased.is_alive and p._ready == []


def test_capacity_refuses_past_the_cap() -> None:
    cap = Capacity(1)
    cap.take()
    with pytest.raises(ServerBusy, match="server is busy"):
        cap.take()
    cap.give()
    cap.take()
    assert cap.free() == 0


def test_prestarted_kernel_is_handed_out_and_the_cap_holds(pool: KernelPool) -> None:
    pool.refill(wait=True)
    assert len(pool._ready) == 1
    ready = pool._ready[0]
    first = pool.acquire()
    assert first is ready and first.is_alive  # no start on the session's path
    assert text(first.run("print('first')")) == "first\n"
    second = pool.acquire()  # the refill may have started it already; either way it works
    follow_up(second)
    assert wait_for(lambda: not pool._filling)
    with pytest.raises(ServerBusy):
        pool.acquire()
    folder = first.dirs.base if first.dirs else None
    pool.release(first)
    assert folder is not None and not folder.exists()
    third = pool.acquire()  # the freed slot is usable again
    follow_up(third)


def test_idle_sweep_parks_and_the_next_run_revives(pool: KernelPool) -> None:
    kernel = pool.acquire()
    kernel.run("kept = 1\nopen('file.txt', 'w').write('still here')")
    assert pool.sweep(now=time.monotonic()) == 0
    used = pool.capacity.used
    assert pool.sweep(now=time.monotonic() + 61) == 1
    assert not kernel.is_alive and kernel.parked
    assert pool.capacity.used == used - 1
    result = kernel.run("print(open('file.txt').read())\nprint('kept' in globals())")
    assert result.status == "ok" and result.state_lost
    assert "was stopped after being idle" in text(result)
    assert text(result).endswith("still here\nFalse\n")


def test_sweeper_thread_parks_idle_kernels() -> None:
    p = KernelPool(max_kernels=1, size=0, idle_s=0.2)
    try:
        kernel = p.acquire()
        worker = p.start_sweeper(every_s=0.1)
        assert wait_for(lambda: kernel.parked, 30)
        assert p.capacity.used == 0
    finally:
        p.close()
    worker.join(timeout=5)
    assert not worker.is_alive()


def test_pool_from_settings() -> None:
    s = Settings(max_kernels=5, kernel_pool=0, kernel_idle_minutes=2)
    p = KernelPool.from_settings(s)
    assert (p.capacity.limit, p.size, p.idle_s) == (5, 0, 120)
    p.close()


SERVER = """
import os, signal, sys, time
from codegen_ui.kernel import KernelPool
from codegen_ui.kernel import KernelConfig
pool = KernelPool(KernelConfig(sandbox=sys.argv[1]), max_kernels=2, size=0)
kernel = pool.acquire()
def interrupt(signum, frame):
    raise KeyboardInterrupt
signal.signal(signal.SIGTERM, interrupt)  # as `codegen-ui serve` does; atexit does the rest
print(kernel.dirs.base.name, flush=True)
time.sleep(600)
"""


def _server(mode: str) -> tuple[subprocess.Popen[str], str]:
    script = textwrap.dedent(SERVER)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, mode], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    marker = proc.stdout.readline().strip()
    assert marker and procs_with_marker(marker), "the server's kernel did not start"
    return proc, marker


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_server_signal_shuts_every_kernel_down(sig: signal.Signals) -> None:
    proc, marker = _server("auto")
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert wait_for(lambda: not procs_with_marker(marker), 10)
    assert not (kernels_root() / marker).exists()


def test_killed_server_takes_its_kernels_along() -> None:
    proc, marker = _server("none")  # bubblewrap's --die-with-parent does the same in its mode
    proc.kill()
    proc.communicate(timeout=60)
    assert wait_for(lambda: not procs_with_marker(marker), 10)
    folder = kernels_root() / marker
    assert folder.is_dir()  # a killed server cannot clean up its folders
    shutil.rmtree(folder)
