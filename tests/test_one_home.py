"""Knowledge the doors share, written once: outputs as text, a turn's sampling bounds, the loader.

The CLI and the session API print a cell's outputs with `core.outputs_text`; the page's sliders
and the API's checks take `core`'s ranges; the page, the CLI and the magic load the settings'
model with `engine.settings_model`. These tests pin each home's behaviour and that the page
really uses the same bounds as the API.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from codegen_ui.core import (
    FRESH_SEED,
    MAX_NEW_TOKENS_RANGE,
    TEMPERATURE_RANGE,
    TOP_P_RANGE,
    SamplingError,
    SamplingParams,
    asked_sampling,
    error_output,
    output_text,
    outputs_text,
    stream_output,
)
from codegen_ui.settings import Settings

RED_TRACEBACK = {
    "output_type": "error",
    "ename": "ZeroDivisionError",
    "evalue": "division by zero",
    "traceback": [
        "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero",
        "\x1b[1;32m----> 1\x1b[0m",
    ],
}


@pytest.mark.parametrize(
    ("output", "text"),
    [
        (stream_output("stdout", "hello\n"), "hello\n"),
        (RED_TRACEBACK, "ZeroDivisionError: division by zero\n----> 1\n"),
        (error_output("NameError", "x"), "NameError: x\n"),
        ({"output_type": "execute_result", "data": {"text/plain": ["[1,", " 2]"]}}, "[1, 2]\n"),
        ({"output_type": "display_data", "data": {"text/plain": "<Figure>"}}, "<Figure>\n"),
        ({"output_type": "display_data", "data": {"image/png": "iVBOR", "text/html": "<b>"}},
         "[image/png, text/html]\n"),
    ],
)  # fmt: skip
def test_an_output_is_the_text_a_terminal_shows(output: dict[str, Any], text: str) -> None:
    assert output_text(output) == text


def test_a_cells_outputs_are_their_texts_in_order() -> None:
    outputs = (stream_output("stdout", "a\n"), RED_TRACEBACK, stream_output("stderr", "b"))
    assert outputs_text(outputs) == "a\nZeroDivisionError: division by zero\n----> 1\nb"
    assert outputs_text(()) == ""


@pytest.mark.parametrize(
    ("asked", "params"),
    [
        ((0.0, 0.95, 128, FRESH_SEED), SamplingParams(128, 0.0, 0.95, None)),
        ((0.2, 0.95, 64.0, None), SamplingParams(64, 0.2, 0.95, None)),
        ((0.8, 0.5, 16, 7.0), SamplingParams(16, 0.8, 0.5, 7)),
        ((*TEMPERATURE_RANGE[1:], TOP_P_RANGE[0], MAX_NEW_TOKENS_RANGE[1], 0),
         SamplingParams(1024, 2.0, 0.05, 0)),
    ],
)  # fmt: skip
def test_asked_sampling_within_its_bounds(asked: tuple[Any, ...], params: SamplingParams) -> None:
    assert asked_sampling(*asked) == params


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ((-0.1, 0.95, 128, -1), "temperature must be from 0 to 2 (0 is greedy), not -0.1"),
        ((2.5, 0.95, 128, -1), "temperature must be from 0 to 2"),
        ((0.0, 0.0, 128, -1), "top_p must be from 0.05 to 1"),
        ((0.0, 1.2, 128, -1), "top_p must be from 0.05 to 1"),
        ((0.0, 0.95, 0, -1), "max_new_tokens must be from 1 to 1024 (per turn), not 0"),
        ((0.0, 0.95, 2048, -1), "max_new_tokens must be from 1 to 1024"),
    ],
)
def test_asked_sampling_outside_its_bounds_is_one_line(
    asked: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(SamplingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        asked_sampling(*asked)


# Building a gr.Blocks leaves asyncio event loops unclosed (as in test_ui_wiring.py).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_pages_sliders_take_the_apis_bounds() -> None:
    import gradio as gr

    from codegen_ui.web.layout import settings_panel

    with gr.Blocks():
        panel = settings_panel(Settings())
    assert (panel.temperature.minimum, panel.temperature.maximum) == TEMPERATURE_RANGE
    assert (panel.top_p.minimum, panel.top_p.maximum) == TOP_P_RANGE
    assert (panel.max_new.minimum, panel.max_new.maximum) == MAX_NEW_TOKENS_RANGE
    assert panel.seed.value == FRESH_SEED


def test_the_one_loader_reaches_the_server_the_settings_name() -> None:
    # A server's URL with nothing listening: the loader must try that address, with the
    # settings' timeout, and fail in one line (no model is loaded).
    from codegen_ui.engine import ModelLoadError, settings_model

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(ModelLoadError, match=f"cannot reach the model server at {url}"):
        settings_model(Settings(model=url, server_timeout=5))


def test_checkers_count_kernels_in_both_benchmarks_and_workers_is_deprecated_in_mtpb(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # One meaning per flag: --checkers is kernels (humaneval's word), --workers generations in
    # flight (humaneval); mtpb's old --workers (kernels) still works for a release and says so.
    from codegen_ui.cli import build_parser
    from codegen_ui.cli.mtpb import checkers

    parse = build_parser().parse_args
    assert checkers(parse(["mtpb", "--checkers", "3"])) == 3
    assert checkers(parse(["mtpb", "--checkers", "2", "score", "s.jsonl"])) == 2
    assert checkers(parse(["mtpb", "score", "s.jsonl", "--checkers", "4"])) == 4
    assert checkers(parse(["mtpb"])) == 1
    assert capsys.readouterr().err == ""
    assert checkers(parse(["mtpb", "--workers", "5"])) == 5
    assert checkers(parse(["mtpb", "score", "s.jsonl", "--workers", "6"])) == 6
    err = capsys.readouterr().err
    assert err.count("mtpb --workers is deprecated") == 2 and "use --checkers" in err
    humaneval = parse(["humaneval", "--workers", "16", "--checkers", "2"])
    assert (humaneval.workers, humaneval.checkers) == (16, 2)
