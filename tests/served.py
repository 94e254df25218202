"""A real `transformers serve` on 127.0.0.1 for the remote-backend tests: start, wait, stop.

The server is transformers' own CLI and app (`tests/serve_launch.py` runs it), pinned to a tiny
CodeGen folder. `transformers serve` has no API keys; the launcher puts the check vLLM's
`--api-key` makes (401 without the right bearer token) in front of it, so key handling is tested
against a real HTTP server too. `newline_model` writes a tiny model that always says "\\n", so a
turn is complete (three newlines) long before its token budget: the early-stop test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tiny import build_tiny_model

LAUNCH = Path(__file__).with_name("serve_launch.py")
KEY = "test-key-not-secret"


def need_serving() -> None:
    from transformers.utils.import_utils import is_serve_available

    if not is_serve_available():
        pytest.skip("transformers[serving] is not installed (pip install -e '.[test]')")


@dataclass
class TinyServer:
    url: str  # the /v1 base
    model: Path  # the folder it serves (also its served name)
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: Path, log: Path, key: str = KEY, wait_s: float = 300) -> TinyServer:
    """Start the server and return once it answers HTTP (the model is loaded before that)."""
    need_serving()
    port = free_port()
    env = {**os.environ, "TINY_SERVER_KEY": key, "HF_HUB_OFFLINE": "1"}
    args = [str(model), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(LAUNCH), *args], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    server = TinyServer(f"http://127.0.0.1:{port}/v1", model, proc, log)
    wait_until_up(server, port, wait_s)
    return server


def wait_until_up(server: TinyServer, port: int, wait_s: float) -> None:
    """Return once the server answers HTTP at all; RuntimeError (and stopped) if it never does."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"the server exited: {server.log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
            return
        except urllib.error.HTTPError:  # it answers (401 without the key): it is up
            return
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"the server did not start in {wait_s:g} s: {server.log}")


def server_model(path: Path) -> Path:
    """The tiny CodeGen without embedding padding rows (see tests/tiny.py)."""
    return build_tiny_model(path, padding_rows=0)


def newline_model(path: Path) -> Path:
    """A tiny CodeGen whose every next token is "\\n", whatever the prompt."""
    import torch
    from transformers import AutoTokenizer, CodeGenForCausalLM

    build_tiny_model(path, padding_rows=0)
    newline = AutoTokenizer.from_pretrained(path).encode("\n")
    assert len(newline) == 1
    model = CodeGenForCausalLM.from_pretrained(path)
    with torch.no_grad():
        model.lm_head.weight.zero_()
        model.lm_head.bias.fill_(-10.0)
        model.lm_head.bias[newline[0]] = 10.0
    model.save_pretrained(path)
    return path
