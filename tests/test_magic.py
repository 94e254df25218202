"""The `%%codegen` magic in a real IPython kernel, driven through jupyter_client.

The same two instructions go through `codegen-ui run` and through the magic (each suggested
cell run as a user would run it): the code of each `set_next_input` payload must equal what
`run` wrote for that turn. The history parser is also checked on its own, as a pure function.
"""

from __future__ import annotations

import os
import queue
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import OWN_CODE
from codegen_ui.magic import MagicError, history_from_inputs, parse_options

ROOT = Path(__file__).resolve().parents[1]
INSTRUCTIONS = ["define a list of the numbers from 1 to 10", "print the sum of the list"]
TIMEOUT = 300


def test_history_pairs_instructions_with_the_cells_that_followed() -> None:
    inputs = [
        "",
        "%load_ext codegen_ui.magic",
        "x = 1",
        "%%codegen\nmake a list",
        "a = [1, 2]",  # the suggested code, run as it was written (without its newline)
        "%%codegen\nthis suggestion was never run",
        "%%codegen --run\nprint it",
        "%codegen_prompt",
        "!ls\nb = a  # edited",
    ]
    wrote = {3: "a = [1, 2]\n", 5: "never = 1"}
    ran = {6: "print(a)"}
    assert history_from_inputs(inputs, ran, wrote) == [
        (OWN_CODE, "x = 1"),
        ("make a list", "a = [1, 2]\n"),  # the written code exactly, newline and all
        ("print it", "print(a)"),
        (OWN_CODE, "b = a  # edited"),
    ]


def test_flags() -> None:
    assert parse_options("--model m --temperature 0.2 --run").temperature == 0.2
    assert parse_options("").run is False
    with pytest.raises(MagicError, match="unknown"):
        parse_options("--colour red")
    with pytest.raises(MagicError, match="number"):
        parse_options("--temperature hot")


def _env(model: Path, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CODEGEN_UI_MODEL": str(model),
        "CODEGEN_UI_DEVICE": "cpu",
        "CODEGEN_UI_MAX_NEW_TOKENS": "24",
        "CODEGEN_UI_SESSIONS_DIR": str(tmp / "sessions"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture
def ipykernel(tiny_model_dir: Path, tmp_path: Path) -> Iterator[Any]:
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    km.start_kernel(env=_env(tiny_model_dir, tmp_path), cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _execute(kc: Any, code: str) -> tuple[list[dict[str, Any]], str, str]:
    """Run one cell; its reply's payloads, its stdout and its stderr."""
    msg_id = kc.execute(code)
    out, err = [], []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no answer from the kernel for {code!r}") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        content = msg["content"]
        if msg["msg_type"] == "stream":
            (out if content["name"] == "stdout" else err).append(content["text"])
        elif msg["msg_type"] == "error":
            err.append("\n".join(content["traceback"]))
        elif msg["msg_type"] == "status" and content["execution_state"] == "idle":
            break
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    while reply["parent_header"].get("msg_id") != msg_id:  # an earlier request's reply
        reply = kc.get_shell_msg(timeout=TIMEOUT)
    return reply["content"].get("payload", []), "".join(out), "".join(err)


@pytest.mark.slow
def test_the_payload_is_what_run_writes_for_the_same_history(
    ipykernel: Any, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codegen_ui.cli.main import main
    from codegen_ui.notebooks import from_notebook, load

    turns_file = tmp_path / "turns.txt"
    turns_file.write_text("\n".join(INSTRUCTIONS) + "\n")
    out = tmp_path / "run.ipynb"
    for key, value in _env(tiny_model_dir, tmp_path).items():
        if key.startswith("CODEGEN_UI_"):
            monkeypatch.setenv(key, value)
    assert main(["run", str(turns_file), "--out", str(out)]) == 0
    written = [t.code for t in from_notebook(load(out))[0]]
    assert len(written) == 2 and all(code.strip() for code in written)

    payloads, _, err = _execute(ipykernel, "%load_ext codegen_ui.magic")
    assert payloads == [] and err == ""
    for instruction, expected in zip(INSTRUCTIONS, written, strict=True):
        payloads, shown, _ = _execute(ipykernel, f"%%codegen\n{instruction}")
        assert [p["source"] for p in payloads] == ["set_next_input"]  # exactly one
        assert payloads[0]["text"] == expected
        assert payloads[0]["replace"] is False
        assert expected in shown  # printed too, for frontends without payloads
        _execute(ipykernel, payloads[0]["text"])  # the user runs the suggested cell

    # The prompt the next turn would get holds both turns, in the paper's format.
    _, prompt, _ = _execute(ipykernel, "%codegen_prompt print the list")
    assert prompt.startswith("# Import libraries.\n\nimport numpy as np\n\n")
    body = "".join(f"# {i}\n{c}\n\n" for i, c in zip(INSTRUCTIONS, written, strict=True))
    assert prompt == "# Import libraries.\n\nimport numpy as np\n\n" + body + "# print the list\n"

    # --run runs the code here and sends no payload; the model was loaded once.
    payloads, shown, _ = _execute(ipykernel, "%%codegen --run\nprint the list")
    assert payloads == [] and shown.strip()
    _, shown, _ = _execute(ipykernel, "import codegen_ui.magic as m\nprint(m.loaded_models())")
    assert shown == "1\n"
    _, _, err = _execute(ipykernel, "%%codegen --temperature hot\nx")
    assert "--temperature must be a number" in err
