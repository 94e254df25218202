"""A real Jupyter Enterprise Gateway on 127.0.0.1 for the gateway backend's tests.

`Gateway.start()` runs `jupyter enterprisegateway` from the virtual environment named by
CODEGEN_UI_TEST_GATEWAY (its own: the gateway pins jupyter_client 6, which the app's cannot
share; `.ci/run` makes it; a venv with jupyter-kernel-gateway instead runs Kernel Gateway)
on a free port, with a token given through a config file (not its environment, which its local
kernels inherit), and waits until it answers. `stop()` kills it
and what it started; `kill()` is the gateway dying mid-run. `GATEWAY_SKIP` says why the tests
skip when there is no such environment.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from codegen_ui.kernel import GatewayConfig

ROOT = Path(__file__).resolve().parents[1]
VENV = os.environ.get("CODEGEN_UI_TEST_GATEWAY") or str(ROOT / ".eg-venv")
# Enterprise Gateway, or else Kernel Gateway (the same API) if that is what the venv holds.
EG, KG = (
    Path(VENV) / "bin" / "jupyter-enterprisegateway",
    Path(VENV) / "bin" / "jupyter-kernelgateway",
)
EXE = EG if EG.exists() or not KG.exists() else KG
APP = "EnterpriseGatewayApp" if EXE == EG else "KernelGatewayApp"
CONFIG = "jupyter_enterprise_gateway_config.py" if EXE == EG else "jupyter_kernel_gateway_config.py"
LISTS = "EnterpriseGatewayApp" if EXE == EG else "JupyterWebsocketPersonality"
GATEWAY_SKIP = (
    f"no Enterprise Gateway at {EG}: set CODEGEN_UI_TEST_GATEWAY to a virtual environment "
    "with jupyter-enterprise-gateway and ipykernel (.ci/run makes one)"
)
HAS_GATEWAY = EXE.exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gateway:
    """One gateway process; `url` and `token` once started."""

    def __init__(
        self, port: int | None = None, token: str | None = None, cull_idle_s: int = 0
    ) -> None:
        self.port = port or free_port()
        self.token = token or secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.cull_idle_s = cull_idle_s
        self.home = Path(tempfile.mkdtemp(prefix="codegen-ui-eg-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Gateway:
        config = self.home / CONFIG
        # list_kernels: the tests look at what the gateway still runs (off by default).
        config.write_text(f"c.{APP}.auth_token = {self.token!r}\nc.{LISTS}.list_kernels = True\n")
        (self.home / "tmp").mkdir(exist_ok=True)
        env = {
            "PATH": f"{Path(VENV) / 'bin'}:/usr/bin:/bin",
            "HOME": str(self.home),
            "JUPYTER_CONFIG_DIR": str(self.home),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "TMPDIR": str(self.home / "tmp"),  # the kernels' folders, removed with the home
            "LANG": "C.UTF-8",
        }
        argv = [str(EXE), "--ip=127.0.0.1", f"--port={self.port}", "--port_retries=0"]
        if self.cull_idle_s:
            argv += [
                f"--MappingKernelManager.cull_idle_timeout={self.cull_idle_s}",
                "--MappingKernelManager.cull_interval=1",
            ]
        self.log = (self.home / "gateway.log").open("ab")
        self.proc = subprocess.Popen(
            argv, env=env, cwd=self.home, stdout=self.log, stderr=self.log, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the gateway exited: {self.log_text()[-2000:]}")
            try:
                answer = requests.get(
                    f"{self.url}/api", headers={"Authorization": f"token {self.token}"}, timeout=2
                )
                if answer.ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the gateway did not answer: {self.log_text()[-2000:]}")

    def log_text(self) -> str:
        return (self.home / "gateway.log").read_text(errors="replace")

    def kernel_pids(self) -> list[int]:
        if self.proc is None:
            return []
        try:
            return [c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.Error:
            return []

    def kill(self) -> None:
        """The gateway dies at once (SIGKILL), its kernels with it."""
        if self.proc is None:
            return
        kids = self.kernel_pids()
        self.proc.kill()
        self.proc.wait()
        for pid in kids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc = None
        self.log.close()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.home, ignore_errors=True)

    def config(self, token: str | None = None) -> GatewayConfig:
        return GatewayConfig(self.url, "python3", self.token if token is None else token)

    def kernel_ids(self) -> list[str]:
        answer = requests.get(
            f"{self.url}/api/kernels", headers={"Authorization": f"token {self.token}"}, timeout=5
        )
        return [k["id"] for k in answer.json()]


@contextlib.contextmanager
def running_gateway(**options: Any) -> Iterator[Gateway]:
    """A started gateway, stopped on the way out; skips the test without one."""
    if not HAS_GATEWAY:
        pytest.skip(GATEWAY_SKIP)
    gateway = Gateway(**options)
    try:
        yield gateway.start()
    finally:
        gateway.stop()
