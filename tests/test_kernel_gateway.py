"""The gateway backend against a real Jupyter Enterprise Gateway on 127.0.0.1 (`gatewaykit`):
a turn, a replay, deadlines, Stop, caps, a death, restart, the idle sweep and the pool, files in
and out of the kernel's folder, and the gateway's own failures (absent, a wrong token, killed
mid-run and back), each one line that ends the run `error` and leaves the next run able to go.
The contract every kernel keeps is in `test_kernel_contract.py`, which runs on this backend too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from codegen_ui.cli.main import main
from codegen_ui.core import KernelError, SamplingParams, Session, Turn
from codegen_ui.files import FilesError
from codegen_ui.kernel import (
    TOKEN_VAR,
    GatewayConfig,
    GatewayError,
    GatewayKernel,
    KernelConfig,
    KernelPool,
    OutputCaps,
    kernel_maker,
)
from codegen_ui.settings import Settings
from tests.fakes import ScriptedModel
from tests.gatewaykit import Gateway, free_port, running_gateway
from tests.kernelkit import follow_up, text
from tests.test_kernel_session import hang_and_crash

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with running_gateway() as gw:
        yield gw


@pytest.fixture
def kernel(gateway: Gateway) -> Iterator[GatewayKernel]:
    k = GatewayKernel(gateway.config(), KernelConfig(interrupt_grace=3.0))
    k.start()
    yield k
    k.shutdown()


def _last(turns: Iterator[Turn]) -> Turn:
    return list(turns)[-1]


def test_session_turns_survive_a_hang_and_a_crash_on_the_gateway(
    gateway: Gateway, scripted: ScriptedModel
) -> None:
    with GatewayKernel(gateway.config(), KernelConfig(interrupt_grace=3.0)) as kernel:
        # A death is seen when the gateway's restarter notices it (its time_to_dead, 3 s, plus
        # its poll): a deadline shorter than that would call the dead cell a timeout.
        hang_and_crash(scripted, kernel, run_timeout=10)


def test_replay_runs_a_notebook_on_the_gateway_from_the_command_line(
    gateway: Gateway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 2"), nbformat.v4.new_code_cell("print(x * 21)")]
    )
    path = tmp_path / "replay.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv(TOKEN_VAR, gateway.token)
    assert main(["replay", str(path), "--kernels", gateway.url]) == 0
    said = capsys.readouterr().out
    assert "gateway at http://127.0.0.1" in said and gateway.token not in said
    saved = nbformat.read(path, as_version=4)
    assert saved.cells[1].outputs[0]["text"] == "42\n"


def test_stop_interrupts_and_keeps_the_variables(kernel: GatewayKernel) -> None:
    kernel.run("y = 5")
    started = threading.Event()

    def seen(out: dict[str, object]) -> None:
        if out.get("text") == "going\n":
            started.set()

    def stop() -> None:
        assert started.wait(30)
        kernel.interrupt()

    stopper = threading.Thread(target=stop)
    stopper.start()
    result = kernel.run("import time\nprint('going', flush=True)\ntime.sleep(60)", 60, seen)
    stopper.join()
    assert result.status == "error" and "KeyboardInterrupt" in text(result, "error")
    assert text(kernel.run("print(y)")) == "5\n"


def test_a_cell_that_ignores_the_interrupt_is_restarted_past_its_deadline(
    kernel: GatewayKernel,
) -> None:
    kernel.run("z = 1")
    code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
    result = kernel.run(code, timeout=1)
    assert result.status == "timeout" and result.state_lost
    assert "restarted; variables were reset" in text(result, "error")
    assert text(kernel.run("print('z' in globals())")) == "False\n"
    follow_up(kernel)  # type: ignore[arg-type]


def test_output_caps_hold_on_the_gateway(gateway: Gateway) -> None:
    caps = OutputCaps(text_bytes=64 << 10)
    with GatewayKernel(gateway.config(), KernelConfig(caps=caps)) as kernel:
        result = kernel.run("print('x' * 1_000_000)")
    said = text(result)
    assert result.status == "ok" and len(said) < 80 << 10
    assert "characters of output dropped" in said


def test_restart_resets_state_and_count_and_keeps_the_folder(kernel: GatewayKernel) -> None:
    folder = kernel.folder
    kernel.run("w = 1")
    kernel.put_files({"kept.txt": b"still here"})
    kernel.restart()
    result = kernel.run("import os\nprint('w' in globals(), os.getcwd(), open('kept.txt').read())")
    assert text(result) == f"False {folder} still here\n"
    assert result.execution_count == 1


def test_files_go_in_by_chunks_and_come_back_byte_for_byte(kernel: GatewayKernel) -> None:
    data = bytes(range(256)) * 10_000  # 2.5 MB: three chunks of 1 MiB
    kernel.put_files({"data.bin": data, "empty.txt": b""}, chunk=1 << 20)
    assert kernel.list_files() == ["data.bin", "empty.txt"]
    assert kernel.read_file("data.bin", chunk=1 << 20) == data
    assert kernel.read_file("empty.txt") == b""
    result = kernel.run("print(len(open('data.bin', 'rb').read()))")
    assert text(result) == f"{len(data)}\n"
    assert result.execution_count == 2 - 1  # the transfer's requests were not counted
    for bad in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(KernelError, match="not a plain file name"):
            kernel.put_files({bad: b"x"})
    with pytest.raises(KernelError, match="FileNotFoundError"):
        kernel.read_file("missing.txt")


def test_the_files_panel_reaches_a_gateway_kernels_folder(kernel: GatewayKernel) -> None:
    # The Files panel's seam (`KernelFiles`) on a remote kernel: subfolders, sizes, links
    # and hidden names left out, limits, delete and clear, all through the execute channel.
    files = kernel.files
    data = bytes(range(256)) * 20_000  # 5 MB: two chunks
    files.write("raw/2024.csv", b"a,b\n1,2\n")
    files.write("data.bin", data)
    kernel.run("import os\nos.symlink('/etc/passwd', 'link')\nopen('.secret', 'w').write('x')")
    listed = {e.name: e.size for e in files.list()}
    assert listed == {"data.bin": len(data), "raw/2024.csv": 8}
    assert files.read("data.bin") == data
    assert text(kernel.run("print(open('raw/2024.csv').read().split())")) == "['a,b', '1,2']\n"
    with pytest.raises(FilesError, match="larger than"):
        files.read("data.bin", max_bytes=1000)
    with pytest.raises(FilesError, match="not a regular file"):
        files.read("link")
    for bad in ("../x", "/etc/passwd", "a/../b"):
        with pytest.raises(FilesError):
            files.write(bad, b"x")
    files.delete("data.bin")
    with pytest.raises(FilesError, match="there is no file"):
        files.delete("data.bin")
    files.clear()
    assert files.list() == ()
    assert text(kernel.run("import os\nprint(sorted(os.listdir('.')))")).count(".secret") == 1


def test_the_pool_prestarts_parks_idle_kernels_and_a_run_brings_one_back(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_VAR, gateway.token)
    settings = Settings(kernels=gateway.url)
    pool = KernelPool(max_kernels=2, size=1, idle_s=60, make=kernel_maker(settings))
    try:
        pool.refill(wait=True)
        ready = pool._ready[0]
        kernel = pool.acquire()
        assert kernel is ready and kernel.is_alive and isinstance(kernel, GatewayKernel)
        kernel.run("v = 3")
        remote = kernel.kernel_id
        assert pool.sweep(now=kernel.last_used + 61) == 1
        assert kernel.parked and remote not in gateway.kernel_ids()  # gone from the gateway
        assert pool.capacity.used == 1  # only the refilled spare holds a slot
        result = kernel.run("print('v' in globals())")
        assert "was stopped after being idle" in text(result) and text(result).endswith("False\n")
        assert result.state_lost and not kernel.parked and kernel.is_alive
    finally:
        pool.close()
    assert pool.capacity.used == 0 and gateway.kernel_ids() == []


def test_a_kernel_the_gateway_dropped_is_replaced_at_the_next_run(
    kernel: GatewayKernel, gateway: Gateway
) -> None:
    old = kernel.kernel_id
    Gateway_delete = GatewayKernel(gateway.config())._api  # the gateway culls it behind our back
    Gateway_delete.delete(old or "")
    result = kernel.run("print('back')")
    assert result.status == "ok" and result.state_lost, result.outputs
    assert "had stopped since the last run" in text(result) and kernel.kernel_id != old


def test_a_wrong_token_is_one_line_that_never_shows_the_token(
    gateway: Gateway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "not-the-token-0123"
    with pytest.raises(GatewayError, match="refused the token \\(HTTP 401\\)") as caught:
        GatewayKernel(gateway.config(token=wrong)).start()
    assert "\n" not in str(caught.value) and wrong not in str(caught.value)
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), path)
    monkeypatch.setenv(TOKEN_VAR, wrong)
    caplog.set_level(logging.DEBUG)
    assert main(["replay", str(path), "--kernels", gateway.url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused the token" in err and wrong not in err
    assert not any(wrong in r.getMessage() for r in caplog.records)


def test_the_token_is_not_logged_and_reaches_no_kernel(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with GatewayKernel(gateway.config()) as kernel:
        result = kernel.run(
            f"import os\nprint(any({gateway.token!r} in v for v in os.environ.values()),"
            f" {TOKEN_VAR!r} in os.environ)"
        )
    assert text(result) == "False False\n"
    assert not any(gateway.token in r.getMessage() for r in caplog.records)


def test_an_absent_gateway_is_one_line_and_the_run_ends_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(GatewayError, match="cannot be reached") as caught:
        GatewayKernel(GatewayConfig(url)).start()
    assert str(caught.value).startswith(f"the kernel gateway at {url} cannot be reached")
    assert "\n" not in str(caught.value)


def test_the_gateway_killed_mid_run_ends_the_turn_error_and_the_next_run_reconnects(
    scripted: ScriptedModel,
) -> None:
    port = free_port()
    with running_gateway(port=port) as gw:
        token = gw.token
        kernel = GatewayKernel(gw.config())
        kernel.start()
        session = Session(scripted, kernel, run_timeout=60)
        scripted.enqueue("\nx = 1\n\n\n")
        assert _last(session.add_turn("x", SamplingParams(max_new_tokens=16))).status == "ok"
        started = threading.Event()
        # The gateway dies while the cell sleeps, as soon as the cell says it runs.
        scripted.enqueue("\nimport time\nprint('going', flush=True)\ntime.sleep(60)\n\n\n")
        killer = threading.Thread(target=lambda: started.wait(30) and gw.kill())
        killer.start()
        turns = session.add_turn("sleep", SamplingParams(max_new_tokens=16))
        for turn in turns:
            if any(o.get("text") == "going\n" for o in turn.outputs):
                started.set()
        killer.join()
    last = session.turns[-1]
    assert last.status == "error"
    said = last.outputs[-1]
    assert said["ename"] == "GatewayError" and "cannot be reached" in said["evalue"]
    # While it is down, each run says so in one line, and nothing raises.
    down = kernel.run("print(1)")
    assert down.status == "error" and "cannot be reached" in text(down, "error")
    with running_gateway(port=port, token=token):
        back = kernel.run("print('x' in globals())")
        assert back.status == "ok" and text(back).endswith("False\n") and back.state_lost
        kernel.shutdown()


def test_doctor_reports_what_holds_inside_a_local_gateways_kernels(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOKEN_VAR, gateway.token)
    # A gateway's local process proxy confines nothing: doctor must say so (status 1).
    assert main(["doctor", "--kernels", gateway.url]) == 1
    lines = capsys.readouterr().out.splitlines()
    verdict = {line.split(":")[0].split(maxsplit=1)[1]: line.split()[0] for line in lines[2:-1]}
    assert verdict["its folder is private (0700)"] == "contained"
    assert verdict["secrets in its environment"] == "contained"  # the token is not sent to it
    assert verdict["fork 300 processes"] == "OPEN"  # no process cap on a local gateway
    assert verdict["signal its parent process"] == "OPEN"
    assert lines[0].startswith("kernels from the gateway at") and "python3" in lines[1]
    assert gateway.token not in "\n".join(lines)


def test_the_page_shows_the_gateways_line_stays_up_and_reconnects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codegen_ui.notebooks import SessionStore
    from codegen_ui.web.app import assemble
    from codegen_ui.workspace import ModelHolder

    port = free_port()
    model = ScriptedModel()
    with running_gateway(port=port) as gw:
        token = gw.token
        monkeypatch.setenv(TOKEN_VAR, token)
        pool = KernelPool(size=0, make=kernel_maker(Settings(kernels=gw.url)))
        store = SessionStore(tmp_path / "sessions")
        c = assemble(ModelHolder.ready(model), pool, store, False)
        try:
            model.enqueue("\nx = 1\nprint(x)\n\n\n")
            ok = list(c.submit("tab", "one", SamplingParams(max_new_tokens=16)))[-1]
            assert 'data-status="ok"' in ok.notebook and "1\n</pre>" in ok.notebook
            gw.kill()
            model.enqueue("\nprint(x + 1)\n\n\n")
            down = list(c.submit("tab", "two", SamplingParams(max_new_tokens=16)))[-1]
            assert 'data-status="error"' in down.notebook
            assert f"the kernel gateway at {gw.url} cannot be reached" in down.notebook
            assert (
                f"the kernel gateway at {gw.url} cannot be reached" in c.open_page("new").notebook
            )
            with running_gateway(port=port, token=token):
                model.enqueue("\nprint('back')\n\n\n")
                back = list(c.submit("tab", "three", SamplingParams(max_new_tokens=16)))[-1]
                assert 'data-status="ok"' in back.notebook and "back\n</pre>" in back.notebook
                c.workspaces.shutdown()
        finally:
            c.workspaces.shutdown()
            pool.close()


def test_the_backend_is_chosen_in_one_place_from_the_setting_or_its_variable() -> None:
    from codegen_ui.kernel import Kernel, new_kernel
    from codegen_ui.settings import SettingsError

    env = {"CODEGEN_UI_KERNELS": "http://127.0.0.1:1", TOKEN_VAR: "s3cret-value"}
    settings = Settings.from_env(env)
    assert settings.kernels == "http://127.0.0.1:1" and settings.kernel_spec == "python3"
    assert isinstance(new_kernel(Settings()), Kernel)
    remote = kernel_maker(settings, KernelConfig())(None)
    assert isinstance(remote, GatewayKernel) and remote.gateway.url == "http://127.0.0.1:1"
    config = GatewayConfig.from_settings(settings, env)
    assert config.token == "s3cret-value" and "s3cret" not in repr(config)
    with pytest.raises(SettingsError, match="gateway's http\\(s\\) URL"):
        Settings(kernels="ftp://x").validated()
