"""The remote backend against a real `transformers serve` of the tiny CodeGen on 127.0.0.1.

Greedy code through the server equals the in-process engine's; sampling is seeded; Stop and a
complete turn close the stream; a server killed mid-turn, a wrong key, an unknown model, a
server that is not there and one that never answers each end in one clear line.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen_ui.core import Delta, Finished, SamplingParams, Session, finish, render_prompt
from codegen_ui.engine import ModelLoadError, ServerOptions, load_model
from tests.served import KEY, TinyServer, newline_model, server_model, start_server

GREEDY = SamplingParams(max_new_tokens=24)
LONG = SamplingParams(max_new_tokens=400)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyServer]:
    root = tmp_path_factory.mktemp("served")
    srv = start_server(server_model(root / "tiny"), root / "server.log")
    yield srv
    srv.stop()


def connect(url: str, **options: object):  # type: ignore[no-untyped-def]
    return load_model(url, server=ServerOptions(**{"api_key": KEY, **options}))  # type: ignore[arg-type]


def run(model, prompt: str, params: SamplingParams, cancel=None) -> tuple[str, Finished]:  # type: ignore[no-untyped-def]
    events = list(model.stream(prompt, params, cancel))
    assert isinstance(events[-1], Finished)
    return "".join(e.text for e in events if isinstance(e, Delta)), events[-1]


def fresh_local(path: Path):  # type: ignore[no-untyped-def]
    # A fresh in-process engine encodes the prompt text afresh, as a text-prompt server does.
    return load_model(str(path), device="cpu", precision="exact", cache_mib=0)


@pytest.mark.slow
def test_connect_learns_the_served_model(server: TinyServer) -> None:
    model = connect(server.url)
    assert model.name == server.url
    assert model.describe() == f"{server.model} served at {server.url} (prompts as text)"
    assert model.context_size == 512  # the served folder's n_positions
    assert model.count_tokens("print('hi')\n") == fresh_local(server.model).count_tokens(
        "print('hi')\n"
    )


@pytest.mark.slow
def test_session_through_the_server_writes_the_in_process_greedy_code(
    server: TinyServer, kernel: object
) -> None:
    session = Session(connect(server.url), kernel, run_timeout=10)  # type: ignore[arg-type]
    instructions = ["Set x to 41.", "Print x plus one.", "Define a function add."]
    for instruction in instructions:
        finish(session.add_turn(instruction, GREEDY))
    history: list[tuple[str, str]] = []
    for turn in session.turns:
        text, done = run(
            fresh_local(server.model), render_prompt(history, turn.instruction), GREEDY
        )
        assert (turn.completion, turn.stats.stop_reason) == (text, done.stop_reason)
        assert turn.stats.prompt_tokens == done.prompt_tokens
        history.append((turn.instruction, turn.code))
    assert [t.status for t in session.turns] != ["generating"] * 3


@pytest.mark.slow
def test_sampling_sends_temperature_top_p_and_seed(server: TinyServer) -> None:
    model = connect(server.url)
    prompt = render_prompt([], "Say hi.")
    one, two, other = (
        run(model, prompt, SamplingParams(max_new_tokens=12, temperature=0.8, seed=s))[0]
        for s in (1, 1, 2)
    )
    assert one == two != other
    assert one != run(model, prompt, SamplingParams(max_new_tokens=12))[0]


@pytest.mark.slow
def test_stop_cancels_the_request(server: TinyServer) -> None:
    model = connect(server.url)
    cancel = threading.Event()
    text, new_tokens = "", 0
    for event in model.stream(render_prompt([], "Loop."), LONG, cancel):
        if isinstance(event, Delta):
            text += event.text
            cancel.set()
        else:
            assert event.stop_reason == "cancelled"
            new_tokens = event.new_tokens
    assert text and 0 < new_tokens < LONG.max_new_tokens
    assert run(model, render_prompt([], "Again."), GREEDY)[1].stop_reason == "length"


@pytest.mark.slow
def test_a_complete_turn_closes_the_stream(tmp_path: Path) -> None:
    srv = start_server(newline_model(tmp_path / "nl"), tmp_path / "server.log")
    try:
        model = connect(srv.url)
        text, done = run(model, render_prompt([], "Anything."), LONG)
        # A loaded server may send several tokens in one event (six newlines once): the stream
        # still ends at the event that completed the turn, far inside the token budget.
        assert text.startswith("\n\n\n") and not text.strip() and done.stop_reason == "complete"
        assert 3 <= done.new_tokens <= len(text) < LONG.max_new_tokens
        from codegen_ui.engine.server_http import CompletionStream

        stream = CompletionStream(model.ep, model.request("x", [], LONG))
        for count, _event in enumerate(stream.events(), 1):
            if count == 3:
                break
        stream.close()
        assert not stream.done and stream._conn.sock is None
    finally:
        srv.stop()


@pytest.mark.slow
def test_a_server_killed_mid_turn_ends_the_turn_with_what_it_had(tmp_path: Path) -> None:
    srv = start_server(server_model(tmp_path / "tiny"), tmp_path / "server.log")
    model = connect(srv.url)
    text, done = "", None
    for event in model.stream(render_prompt([], "Loop."), LONG):
        if isinstance(event, Delta):
            if not text:
                srv.kill()
            text += event.text
        else:
            done = event
    assert done is not None and done.stop_reason == "error" and text
    assert done.message == f"the model server at {srv.url} broke off the stream mid-turn"
    _, again = run(model, render_prompt([], "Again."), GREEDY)
    assert again.stop_reason == "error"
    assert again.message == f"cannot reach the model server at {srv.url} (Connection refused)"
    with pytest.raises(ModelLoadError, match="cannot reach the model server"):
        connect(srv.url)


@pytest.mark.slow
def test_a_wrong_key_or_model_name_is_one_clear_line(server: TinyServer) -> None:
    with pytest.raises(ModelLoadError) as refused:
        connect(server.url, api_key="wrong")
    assert str(refused.value) == (
        f"the model server at {server.url} refused the API key (HTTP 401); "
        "set CODEGEN_UI_API_KEY to the server's key"
    )
    assert "wrong" not in str(refused.value)
    with pytest.raises(ModelLoadError) as unknown:
        connect(server.url, served_model="codegen-6B")
    assert str(unknown.value) == (
        f"the model server at {server.url} does not serve 'codegen-6B'; it serves: {server.model}"
    )


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        with pytest.raises(ModelLoadError) as slow:
            connect(url, timeout=0.5)
    assert str(slow.value) == f"the model server at {url} did not answer within 0.5 s"


def test_the_api_key_comes_from_the_environment_and_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from codegen_ui.engine import server_options
    from codegen_ui.engine.server_http import Endpoint
    from codegen_ui.settings import Settings

    monkeypatch.setenv("CODEGEN_UI_API_KEY", "sk-do-not-show")
    monkeypatch.setenv("CODEGEN_UI_MODEL", "http://gpu-box:8000/v1")
    settings = Settings.from_env()
    options = server_options(settings)
    assert options.api_key == "sk-do-not-show"
    shown = repr(settings) + repr(options) + repr(Endpoint(settings.model, options.api_key))
    assert "sk-do-not-show" not in shown


@pytest.mark.parametrize(
    ("model", "server"),
    [
        ("http://gpu-box:8000/v1", True),
        ("https://models.example.org/v1/", True),
        ("http://gpu-box:8000", False),
        ("Salesforce/codegen-350M-mono", False),
        ("/models/v1", False),
    ],
)
def test_a_model_setting_names_a_server_by_its_v1_url(model: str, server: bool) -> None:
    from codegen_ui.engine import is_server_url

    assert is_server_url(model) is server


@pytest.mark.slow
def test_the_run_command_works_unchanged_against_the_server(
    server: TinyServer, tmp_path: Path
) -> None:
    import nbformat

    from tests.test_cli import cli

    turns = tmp_path / "turns.txt"
    turns.write_text("Set x to 41.\nPrint x.\n")
    out = tmp_path / "out.ipynb"
    args = ["run", str(turns), "--model", server.url, "--out", str(out), "--max-new-tokens", "8"]
    refused = cli(*args, env={"CODEGEN_UI_API_KEY": "wrong"})
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "refused the API key" in refused.stderr and "wrong" not in refused.stderr
    proc = cli(*args, env={"CODEGEN_UI_API_KEY": KEY})
    assert proc.returncode == 0, proc.stderr
    assert "saved 2 turns" in proc.stdout
    cells = nbformat.read(out, as_version=4).cells
    assert [c.metadata["codegen_ui"]["instruction"] for c in cells[1:]] == [
        "Set x to 41.",
        "Print x.",
    ]


@pytest.mark.slow
def test_mtpb_runs_unchanged_against_the_server_with_checkers(
    server: TinyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from codegen_ui.cli import main
    from codegen_ui.mtpb import SampleResult

    raw = {"id": "9", "name": "p", "description": "", "category": "math", "max_gen_length": 8}
    raw |= {"prompts": ["Print {x}."], "inputs": [{"x": 1}, {"x": 2}], "outputs": [1, 2]}
    data = tmp_path / "own.jsonl"
    data.write_text(json.dumps(raw) + "\n")
    monkeypatch.setenv("CODEGEN_UI_API_KEY", KEY)
    monkeypatch.setenv("CODEGEN_UI_PRECISION", "exact")  # float32, as the server runs it
    codes = []
    for name, model in (("remote", server.url), ("local", str(server.model))):
        out = tmp_path / f"{name}.jsonl"
        argv = ["mtpb", "--data", str(data), "--model", model, "--out", str(out)]
        assert main([*argv, "--temperature", "0", "--checkers", "2"]) == 0
        lines = out.read_text().splitlines()
        results = sorted((SampleResult.from_json(x) for x in lines), key=lambda r: r.case)
        codes.append([(r.case, r.completions) for r in results])
    assert codes[0] == codes[1] and len(codes[0]) == 2


@pytest.mark.slow
def test_the_web_app_drives_the_served_model_and_shows_a_missing_server(
    server: TinyServer, tmp_path: Path
) -> None:
    import functools

    from codegen_ui.core import truncate
    from codegen_ui.workspace import ModelHolder
    from tests.served import free_port
    from tests.test_ui import last, make, real_kernels

    loader = functools.partial(load_model, server=ServerOptions(api_key=KEY))
    holder = ModelHolder(server.url, loader=loader).start()
    assert holder.wait(60)
    missing = f"http://127.0.0.1:{free_port()}/v1"
    gone = ModelHolder(missing, loader=loader).start()
    assert not gone.wait(60)
    pages = [make(tmp_path, holder=h, pool=real_kernels()) for h in (holder, gone)]
    try:
        assert f"served at {server.url}" in pages[0].open_page("tab").status
        final = last(pages[0].submit("tab", "Add two numbers.", GREEDY))
        text, _ = run(fresh_local(server.model), render_prompt([], "Add two numbers."), GREEDY)
        (turn,) = pages[0].workspaces.get("tab").session.turns
        assert not final.busy and turn.code == truncate(text)
        status = pages[1].open_page("tab").status
        reason = f"cannot reach the model server at {missing} (Connection refused)"
        assert status.startswith(f"model failed to load: {reason} · ")
    finally:
        for page in pages:
            page.workspaces.shutdown()
