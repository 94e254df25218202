"""Adversarial cells against one real kernel in each sandbox mode this host offers (bubblewrap,
Landlock, limits only; `tests/test_kernel_confine.py` has the escapes).

Each case ends with a follow-up run that must succeed. Deadlines are short so the suite stays
bounded; nothing here forks without bound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from codegen_ui.kernel import Kernel, KernelConfig, Limits, OutputCaps
from tests.kernelkit import MODES, follow_up, procs_running, procs_with_marker, text, wait_for

pytestmark = pytest.mark.slow

CAP = 64 << 10
CONFIG = KernelConfig(
    limits=Limits(memory_mb=1024, cpu_seconds=900, file_mb=16),
    caps=OutputCaps(text_bytes=CAP, outputs=50, image_bytes=1 << 20),
    interrupt_grace=2.0,
)


@pytest.fixture(scope="module", params=MODES)
def k(request: pytest.FixtureRequest) -> Iterator[Kernel]:
    kernel = Kernel(config=dataclasses.replace(CONFIG, sandbox=request.param))
    kernel.start()
    yield kernel
    kernel.shutdown()


@pytest.mark.parametrize("mode", MODES)
def test_shutdown_removes_the_folder_and_every_process_the_kernel_left(mode: str) -> None:
    kernel = Kernel(config=dataclasses.replace(CONFIG, sandbox=mode))
    kernel.start()
    assert kernel.dirs is not None
    marker, folder = kernel.dirs.base.name, kernel.dirs.base
    # A child that left the kernel's process tree (setsid, double fork) must go too.
    code = "import subprocess\nsubprocess.Popen(['setsid', 'sleep', '300'])"
    assert kernel.run(code).status == "ok"
    assert wait_for(lambda: len(procs_with_marker(marker)) >= 2)
    kernel.shutdown()
    assert not folder.exists()
    assert wait_for(lambda: not procs_with_marker(marker)), "kernel processes outlived shutdown"


def test_infinite_loop_is_interrupted_and_keeps_state(k: Kernel) -> None:
    assert k.run("kept = 'yes'").status == "ok"
    result = k.run("while True:\n    pass", timeout=2)
    assert result.status == "timeout"
    assert not result.state_lost
    assert "ran past 2 s and was interrupted; variables kept" in text(result, "error")
    assert text(k.run("print(kept)")) == "yes\n"
    follow_up(k)


def test_sleep_far_past_the_deadline(k: Kernel) -> None:
    result = k.run("import time\ntime.sleep(3600)", timeout=2)
    assert result.status == "timeout"
    assert result.seconds < 60
    follow_up(k)


def test_cell_that_ignores_interrupts_gets_a_restart(k: Kernel) -> None:
    k.run("kept = 1")
    code = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    result = k.run(code, timeout=2)
    assert result.status == "timeout"
    assert result.state_lost
    assert "restarted; variables were reset" in text(result, "error")
    assert "NameError" in text(k.run("kept"), "error")
    follow_up(k)


def test_memory_bomb_hits_the_address_space_limit(k: Kernel) -> None:
    bomb = (
        "def bomb():\n    hog = []\n    while True:\n        hog.append(b'x' * (16 << 20))\nbomb()"
    )
    result = k.run(bomb, timeout=60)
    # Usually a MemoryError in the cell; if the kernel itself cannot allocate, it dies instead.
    if result.status == "error":
        assert "MemoryError" in text(result, "error")
    else:
        assert result.status == "died"
    follow_up(k)
    huge = k.run("block = bytearray(64 << 30)", timeout=60)
    assert huge.status == "error" and "MemoryError" in text(huge, "error")
    follow_up(k)


@pytest.mark.parametrize(
    "code", ["import os\nos._exit(1)", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"]
)
def test_kernel_death_is_detected_and_restarted(k: Kernel, code: str) -> None:
    k.run("kept = 1")
    result = k.run(code, timeout=60)
    assert result.status == "died"
    assert result.state_lost
    assert "the kernel died while running this cell" in text(result, "error")
    assert "NameError" in text(k.run("kept"), "error")
    follow_up(k)


def test_sys_exit_is_an_error_not_a_death(k: Kernel) -> None:
    k.run("kept = 1")
    result = k.run("import sys\nsys.exit(3)")
    assert result.status == "error"
    assert "SystemExit: 3" in text(result, "error")
    assert text(k.run("print(kept)")) == "1\n"
    follow_up(k)


@pytest.mark.parametrize("code", ["exit()", "quit()"])
def test_exit_and_quit_end_in_a_fresh_kernel(k: Kernel, code: str) -> None:
    k.run("kept = 1")
    result = k.run(code, timeout=60)
    # The kernel leaves after its reply (or, rarely, before it): replaced at once either way.
    assert result.state_lost
    assert result.status in ("ok", "died")
    after = k.run("print('kept' in globals())", timeout=60)
    assert after.status == "ok"
    assert text(after).endswith("False\n")
    follow_up(k)


def test_one_huge_string_keeps_head_and_tail(k: Kernel) -> None:
    result = k.run("print('h' + 'x' * (8 << 20) + 't')", timeout=60)
    assert result.status == "ok"
    out = text(result)
    assert out.startswith("hxxx") and out.endswith("xxt\n")
    assert "characters of output dropped" in out
    assert len(out) < CAP + 1000
    follow_up(k)


def test_many_small_prints_are_capped(k: Kernel) -> None:
    result = k.run("for i in range(40_000):\n    print(i)", timeout=120)
    assert result.status == "ok"
    out = text(result)
    assert out.startswith("0\n1\n2\n") and out.endswith("39998\n39999\n")
    assert "characters of output dropped" in out
    assert len(out) < CAP + 1000
    follow_up(k)


def test_endless_prints_end_at_the_deadline(k: Kernel) -> None:
    streamed: list[int] = []
    result = k.run("i = 0\nwhile True:\n    print(i)\n    i += 1", 3, lambda o: streamed.append(1))
    assert result.status == "timeout"
    out = text(result)
    assert out.startswith("0\n1\n2\n")
    assert len(out) < CAP + 1000
    assert len(streamed) < 10_000  # the live view got a bounded number of pieces, too
    follow_up(k)


def test_output_count_and_image_size_are_capped(k: Kernel) -> None:
    many = k.run("for i in range(500):\n    display(i)", timeout=60)
    assert many.status == "ok"
    assert len(many.outputs) <= CONFIG.caps.outputs + 1
    assert "more outputs dropped" in text(many)
    code = "display({'image/png': 'A' * (2 << 20), 'text/plain': 'img'}, raw=True)"
    image = k.run(code, timeout=60)
    data = image.outputs[0]["data"]
    assert "image/png" not in data
    assert "not shown" in data["text/plain"]
    follow_up(k)


def test_input_fails_at_once(k: Kernel) -> None:
    result = k.run("name = input('name? ')", timeout=30)
    assert result.status == "error"
    assert "StdinNotImplementedError" in text(result, "error")
    follow_up(k)


def test_children_left_running_are_gone_after_restart(k: Kernel) -> None:
    code = (
        "import subprocess\n"
        "subprocess.Popen(['sleep', '987.601'], start_new_session=True)\n"
        "subprocess.Popen(['sh', '-c', 'setsid sleep 987.602 &']).wait()\n"
    )
    assert k.run(code).status == "ok"
    assert wait_for(lambda: len(procs_running("987.601") + procs_running("987.602")) == 2)
    k.restart()
    assert wait_for(lambda: not procs_running("987.601") and not procs_running("987.602"))
    follow_up(k)
