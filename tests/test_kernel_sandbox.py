"""What a kernel can see and touch, in each sandbox mode this host can run (real kernels)."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import codegen_ui
from codegen_ui import settings
from codegen_ui.core import KernelError
from codegen_ui.kernel import Kernel, KernelConfig, Limits, SandboxInfo, kernels_root, sandbox_info
from codegen_ui.kernel.folders import KernelDirs
from codegen_ui.kernel.pyview import server_python
from codegen_ui.kernel.sandbox import kernel_env
from codegen_ui.settings import Settings, SettingsError
from tests.kernelkit import (
    HAS_BWRAP,
    MODES,
    follow_up,
    needs_bwrap,
    procs_running,
    procs_with_marker,
    text,
    wait_for,
)

pytestmark = pytest.mark.slow

SECRET = "s3cr3t-token-for-the-sandbox-test"
APP_DIR = Path(codegen_ui.__file__).resolve().parents[1]
# The same module kernel, bwrap mode only (skipped, with the reason, where bubblewrap cannot run).
BWRAP_ONLY = pytest.mark.parametrize(
    "k",
    [pytest.param("bwrap", marks=pytest.mark.skipif(not HAS_BWRAP, reason=needs_bwrap))],
    indirect=True,
)


@pytest.fixture(scope="module", params=MODES)
def k(request: pytest.FixtureRequest) -> Iterator[Kernel]:
    os.environ["CODEGEN_UI_TEST_API_TOKEN"] = SECRET  # as if the server held a secret
    try:
        kernel = Kernel(config=KernelConfig(sandbox=request.param, interrupt_grace=2.0))
        kernel.start()
    finally:
        del os.environ["CODEGEN_UI_TEST_API_TOKEN"]
    assert kernel.dirs is not None
    marker, folder = kernel.dirs.base.name, kernel.dirs.base
    yield kernel
    kernel.shutdown()
    assert not folder.exists()
    assert wait_for(lambda: not procs_with_marker(marker))


def test_mode_is_the_one_asked_for(k: Kernel) -> None:
    assert k.info is not None and k.info.mode == k.config.sandbox
    assert ("bubblewrap" in k.describe()) == (k.config.sandbox == "bwrap")


def test_environment_is_an_allow_list_without_the_servers_secret(k: Kernel) -> None:
    result = k.run("import os\nprint(sorted(os.environ))\nprint(os.environ['HOME'])")
    names, home = text(result).splitlines()
    assert "CODEGEN_UI_TEST_API_TOKEN" not in names
    assert SECRET not in text(result)
    assert home == str(k.workdir)


@BWRAP_ONLY  # without a PID namespace the server's /proc entry is visible (README)
def test_no_process_in_the_sandbox_shows_the_secret(k: Kernel) -> None:
    code = (
        "import glob\n"
        "hits = []\n"
        "for p in glob.glob('/proc/[0-9]*/environ'):\n"
        "    try:\n"
        "        hits.append(open(p, 'rb').read())\n"
        "    except OSError:\n"
        "        pass\n"
        f"print(len(hits) > 0, any({SECRET.encode()!r} in h for h in hits))"
    )
    assert text(k.run(code)) == "True False\n"


def test_working_folder_is_private_and_outside_the_app(k: Kernel) -> None:
    work = k.workdir
    assert work is not None and work.is_dir()
    assert stat.S_IMODE(work.stat().st_mode) == 0o700
    assert stat.S_IMODE(work.parent.parent.stat().st_mode) == 0o711  # pass through, not list
    assert not work.is_relative_to(APP_DIR)
    assert text(k.run("import os\nprint(os.getcwd())")) == f"{work}\n"
    assert k.run("open('made-here.txt', 'w').write('hi')").status == "ok"
    assert (work / "made-here.txt").read_text() == "hi"


def test_limits_are_set_in_the_kernel_process(k: Kernel) -> None:
    code = (
        "import resource as r\n"
        "for name in ('RLIMIT_AS', 'RLIMIT_CORE', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE', 'RLIMIT_CPU'):\n"
        "    print(name, *r.getrlimit(getattr(r, name)))"
    )
    lim = k.config.limits
    lines = text(k.run(code)).splitlines()
    assert lines == [
        f"RLIMIT_AS {lim.memory_mb << 20} {lim.memory_mb << 20}",
        "RLIMIT_CORE 0 0",
        f"RLIMIT_FSIZE {lim.file_mb << 20} {lim.file_mb << 20}",
        f"RLIMIT_NOFILE {lim.open_files} {lim.open_files}",
        f"RLIMIT_CPU {lim.cpu_seconds} {lim.cpu_seconds + 5}",
    ]
    raised = k.run("import resource as r\nr.setrlimit(r.RLIMIT_AS, (-1, -1))")
    assert raised.status == "error"  # the hard limit cannot be lifted from inside
    follow_up(k)


def test_deadline_interrupts_in_each_mode(k: Kernel) -> None:
    k.run("kept = 'yes'")
    result = k.run("import time\nwhile True:\n    time.sleep(0.01)", timeout=2)
    assert result.status == "timeout" and not result.state_lost
    assert text(k.run("print(kept)")) == "yes\n"


def test_death_and_escaped_children_in_each_mode(k: Kernel) -> None:
    code = (
        "import subprocess\n"
        "subprocess.Popen(['sleep', '987.701'], start_new_session=True)\n"
        "subprocess.Popen(['sh', '-c', 'setsid sleep 987.702 &']).wait()\n"
        "import os\nos._exit(3)"
    )
    result = k.run(code, timeout=60)
    assert result.status == "died"
    assert wait_for(lambda: not procs_running("987.701") and not procs_running("987.702"))
    follow_up(k)


@BWRAP_ONLY  # limits-only mode does not isolate the network (README)
def test_bwrap_has_no_network_to_the_server(k: Kernel) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)"
        result = k.run(code, timeout=30)
        assert result.status == "error"
        assert "OSError" in text(result, "error") or "Error" in text(result, "error")
        with pytest.raises(TimeoutError):
            server.accept()
    follow_up(k)


@BWRAP_ONLY  # limits-only mode runs as the server's user (README)
def test_bwrap_hides_other_sessions_and_the_app(k: Kernel, tmp_path: Path) -> None:
    other = KernelDirs.create()
    try:
        (other.work / "notes.txt").write_text("private")
        sessions = Path(Settings.from_env().sessions_dir)
        sessions.mkdir(parents=True, exist_ok=True)
        (sessions / "s.ipynb").write_text("{}")
        for path in (other.work / "notes.txt", sessions / "s.ipynb", APP_DIR / "pyproject.toml"):
            result = k.run(f"print(open({str(path)!r}).read())")
            assert result.status == "error", path
            assert "FileNotFoundError" in text(result, "error")
        listing = k.run(f"import os\nprint(os.listdir({str(other.base.parent)!r}))")
        assert other.base.name not in text(listing)
        assert k.run("open('/usr/evil', 'w')").status == "error"  # the system is read-only
    finally:
        other.remove()
    follow_up(k)


def test_cpu_and_file_size_limits_in_a_folder_the_caller_chose(tmp_path: Path) -> None:
    config = KernelConfig(limits=Limits(cpu_seconds=4, file_mb=1))
    with Kernel(cwd=tmp_path, config=config) as kernel:
        big = kernel.run("open('big.bin', 'wb').write(b'x' * (2 << 20))")
        assert big.status == "error" and "File too large" in text(big, "error")
        assert (tmp_path / "big.bin").stat().st_size == 1 << 20  # written here, up to the limit
        spin = kernel.run("while True:\n    pass", timeout=120)
        assert spin.status == "died" and spin.state_lost
        follow_up(kernel)


def test_env_is_the_allow_list_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    monkeypatch.setenv("CODEGEN_UI_API_KEY", "model-server-key")
    monkeypatch.setenv("TZ", "UTC")
    env = kernel_env(KernelDirs(tmp_path), "none", server_python())
    assert "HF_TOKEN" not in env and env["TZ"] == "UTC"
    assert "model-server-key" not in env.values()
    assert env["HOME"] == str(tmp_path / "work") and env["TMPDIR"] == str(tmp_path / "tmp")


def test_kernels_root_is_private(tmp_path: Path) -> None:
    root = kernels_root(str(tmp_path / "kernels"))
    assert stat.S_IMODE(root.stat().st_mode) == 0o711
    with pytest.raises(SettingsError, match="too long"):
        KernelDirs.create(str(tmp_path / ("x" * 90)))
    # The app folder is the one holding the package (the repository in a checkout), derived once
    # in settings: a kernel folder anywhere under it, inside the package too, is refused.
    assert settings.APP_DIR == APP_DIR and (settings.APP_DIR / "codegen_ui" / "kernel").is_dir()
    for inside in (APP_DIR / "kernels", APP_DIR / "codegen_ui" / "kernels"):
        with pytest.raises(SettingsError, match="may be served"):
            kernels_root(str(inside))
        assert not inside.exists()


def test_mode_none_and_describe() -> None:
    info = sandbox_info("none")
    assert (info.mode, info.reason, info.landlock_abi) == ("none", "sandbox=none was chosen", 0)
    assert info.describe().startswith("sandbox: none: ")
    assert info.describe().endswith("limits (sandbox=none was chosen)")
    assert [layer.name for layer in info.layers() if not layer.active][:2] == [
        "bubblewrap",
        "landlock",
    ]


@pytest.mark.parametrize("mode", ["bwrap", "landlock"])
def test_a_required_layer_that_cannot_run_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    import codegen_ui.kernel.client as kernel_module

    monkeypatch.setattr(
        kernel_module, "resolve_sandbox", lambda mode: SandboxInfo("none", f"no {mode} here")
    )
    with pytest.raises(KernelError, match=f"no {mode} here"):
        Kernel(config=KernelConfig(sandbox=mode)).start()  # type: ignore[arg-type]


def test_sandbox_settings_are_validated() -> None:
    s = Settings.from_env({"CODEGEN_UI_SANDBOX": "none", "CODEGEN_UI_MAX_KERNELS": "3"})
    assert (s.sandbox, s.max_kernels) == ("none", 3)
    config = KernelConfig.from_settings(s.replace(kernel_memory_mb=512, output_text_kb=8))
    assert config.limits.memory_mb == 512 and config.caps.text_bytes == 8 << 10
    with pytest.raises(SettingsError, match="sandbox"):
        Settings(sandbox="docker").validated()
    with pytest.raises(SettingsError, match="max_kernels"):
        Settings(max_kernels=0).validated()


def test_auto_falls_back_to_limits_and_logs_it_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import codegen_ui.kernel.bwrap as bwrap
    import codegen_ui.kernel.layers as layers

    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None)
    monkeypatch.setattr(layers.confine, "landlock_abi", lambda: 0)  # nor Landlock
    layers._resolve.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="codegen_ui.kernel"):
            first, again = sandbox_info("auto"), sandbox_info("auto")
        required = sandbox_info("bwrap"), sandbox_info("landlock")
    finally:
        layers._resolve.cache_clear()
    assert first is again and first.mode == "none"
    assert "bubblewrap (bwrap) is not installed; Landlock is not available" in first.describe()
    assert len(caplog.records) == 1  # two lookups, one warning
    assert "without a filesystem sandbox" in caplog.records[0].message
    assert [info.mode for info in required] == ["none", "none"]
    assert required[0].reason.startswith("bubblewrap was required")
    assert required[1].reason.startswith("Landlock was required")


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping root needs root")
def test_launcher_drops_root_for_a_uid_of_its_own() -> None:
    import subprocess
    import sys
    import tempfile

    from codegen_ui.kernel.bwrap import LAUNCHER

    with tempfile.TemporaryDirectory() as folder:  # pytest's tmp_path is closed to other users
        Path(folder).chmod(0o755)
        secret = Path(folder) / "kernel.json"
        secret.write_text("key")
        secret.chmod(0o600)
        cmd = [sys.executable, "-I", str(LAUNCHER), "--user", "1234567:1234567"]
        cmd += ["--chown", str(secret), "--memory-mb", "0", "--cpu-seconds", "0"]
        cmd += ["--file-mb", "0", "--open-files", "0", "--"]
        cmd += [
            "/bin/sh",
            "-c",
            f"id -u; id -g; id -G; grep processes /proc/self/limits; cat {secret}",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        assert done.stdout.split() == ["1234567"] * 3 + [
            "Max",
            "processes",
            "256",
            "256",
            "processes",
            "key",
        ], done.stderr
        assert secret.stat().st_uid == 1234567


def _root_can_drop() -> bool:
    from codegen_ui.kernel.sandbox import unprivileged_user

    return os.geteuid() == 0 and unprivileged_user(sandbox_info("none")) is not None


def test_limits_only_kernels_of_a_root_server_run_as_users_of_their_own() -> None:
    if not _root_can_drop():
        pytest.skip("not root, or other users cannot run this Python here (logged at start)")
    config = KernelConfig(sandbox="none")
    with Kernel(config=config) as one, Kernel(config=config) as two:
        assert one.run("open('mine.txt', 'w').write('x')").status == "ok"
        uid = text(one.run("import os\nprint(os.getuid())")).strip()
        assert uid != "0"
        for code in (
            f"open({str(one.workdir / 'mine.txt')!r}).read()",  # another kernel's folder
            f"open('/proc/{os.getpid()}/environ').read()",  # the server's environment
            f"import os\nos.kill({os.getpid()}, 0)",  # signalling the server
        ):
            result = two.run(code)
            assert result.status == "error", code
            assert "PermissionError" in text(result, "error"), code
        follow_up(two)


def test_a_python_under_tmp_is_bound_over_the_private_tmp(monkeypatch: pytest.MonkeyPatch) -> None:
    # A venv in /tmp (a CI clone, say) must not vanish under the sandbox's own /tmp.
    import codegen_ui.kernel.bwrap as bwrap

    monkeypatch.setattr(bwrap, "python_roots", lambda: ["/tmp/clone/.venv"])
    argv = bwrap.bwrap_argv(Path("/tmp/kernels"), Path("/tmp/kernels/one"))
    assert argv.index("--tmpfs") < argv.index("/tmp/clone/.venv")


# Run by a server whose Python is a venv under /tmp that reaches its packages through a .pth
# file, as some installs do: Landlock's rules (the venv, its site-packages) miss what the
# kernel's Python imports. It must say so at start, and refuse, never start a dead kernel.
_OUTSIDE_THE_RULES = """
import json
from codegen_ui.core import KernelError
from codegen_ui.kernel import Kernel, KernelConfig, sandbox_info
info = sandbox_info("landlock")
try:
    Kernel(config=KernelConfig(sandbox="landlock")).start()
    started = "started"
except KernelError as exc:
    started = str(exc)
print(json.dumps({"mode": info.mode, "reason": info.reason, "started": started}))
"""


def test_a_python_whose_packages_landlock_does_not_allow_is_said_at_start() -> None:
    import json
    import subprocess
    import sys
    import tempfile

    from codegen_ui.kernel import confine
    from codegen_ui.kernel.bwrap import site_packages

    if confine.landlock_abi() < 1:
        pytest.skip("this Linux kernel has no Landlock")
    with tempfile.TemporaryDirectory(prefix="codegen-ui-outside-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        packages = next(venv.glob("lib/python*/site-packages"))
        (packages / "outside.pth").write_text("\n".join(site_packages()) + "\n")
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", _OUTSIDE_THE_RULES],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["mode"] == "none"
    assert report["reason"].startswith("Landlock was required but a kernel's Python cannot start")
    assert report["started"] == report["reason"]


def test_processes_that_build_one_view_at_once_all_get_it_whole(tmp_path: Path) -> None:
    """Two test workers, or two servers, ask for the same view of this Python at once: each
    gets it whole, its package folder among what Landlock lets it read (a builder used to
    delete the view another had just built, which then read no package folder from the gap)."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from codegen_ui.kernel.pyview import build_view

    dest = tmp_path / "python-view"
    with ThreadPoolExecutor(4) as pool:
        views = set(pool.map(lambda _: build_view(dest), range(4)))
    assert len(views) == 1
    (view,) = views
    if sys.prefix != sys.base_prefix:  # a venv: the packages it reads are among its roots
        # (the real folder, linked, or the view's own copy where others cannot read that one)
        (packages,) = (dest / "venv" / "lib").glob("python*/site-packages")
        real = os.path.realpath(packages)
        assert any(real == root or real.startswith(root + "/") for root in view.roots), view
    env = {"PATH": "/usr/bin:/bin", **dict(view.env)}
    done = subprocess.run(
        [view.executable, "-I", "-c", "import ipykernel"], env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-500:]
