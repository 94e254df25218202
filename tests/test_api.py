"""The session API from code: gradio_client and a real MCP client against `codegen-ui serve`.

One server (the tiny model, `--mcp`) serves the module; each test makes its own sessions. The
checks are what a script or an agent relies on: the six named endpoints and nothing of the
page's, separate kernels per session, a streamed turn, a notebook that validates, the stored
session a page opens with `?session=`, refused ids that run nothing, and MCP tools that are
typed and described.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browserkit import Server, serve

pytestmark = pytest.mark.slow

FINISHED = {"ok", "error", "timeout", "died", "empty", "cancelled", "not-run"}
ENDPOINTS = {"/new_session", "/turn", "/run_cell", "/fix_cell", "/notebook", "/close_session",
             "/share_session", "/stop_sharing", "/followed_notebook"}  # fmt: skip


@pytest.fixture(scope="module")
def app(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(tiny_model_dir, tmp_path_factory.mktemp("api"), ["--mcp"])


@pytest.fixture(scope="module")
def client(app: Server) -> Any:
    from gradio_client import Client

    return Client(app.url, verbose=False, download_files=False)


def test_the_api_page_lists_its_endpoints_and_none_of_the_pages(client: Any) -> None:
    info = client.view_api(return_format="dict", print_info=False)
    assert set(info["named_endpoints"]) == ENDPOINTS
    assert info["unnamed_endpoints"] == {}
    turn = info["named_endpoints"]["/turn"]["parameters"]
    names = [p["parameter_name"] for p in turn]
    assert names == ["session_id", "instruction", "temperature", "top_p", "max_new_tokens", "seed"]
    assert [p["parameter_has_default"] for p in turn] == [False, False, True, True, True, True]


def test_two_sessions_have_their_own_kernels(client: Any, app: Server) -> None:
    before = app.kernels()
    a = client.predict(api_name="/new_session")
    b = client.predict(api_name="/new_session")
    assert a != b
    first = client.predict(a, 1, "x = 'from a'", api_name="/run_cell")
    other = client.predict(b, 1, "x = 'from b'", api_name="/run_cell")
    assert first["status"] == other["status"] == "ok"
    assert app.kernels() == before + 2  # a kernel process each
    # Each session's variables are its own; a run of a cell's own code needs no code.
    assert client.predict(a, 2, "print(x)", api_name="/run_cell")["outputs"] == "from a\n"
    assert client.predict(b, 2, "print(x)", api_name="/run_cell")["outputs"] == "from b\n"
    again = client.predict(a, 2, api_name="/run_cell")
    assert (again["cell"], again["code"], again["outputs"]) == (2, "print(x)", "from a\n")
    errors = client.predict(a, 3, "1 / 0", api_name="/run_cell")
    assert errors["status"] == "error" and "ZeroDivisionError" in errors["outputs"]
    for sid in (a, b):
        client.predict(sid, api_name="/close_session")


def test_a_turn_streams_its_cell_and_ends_finished(client: Any, app: Server) -> None:
    sid = client.predict(api_name="/new_session")
    job = client.submit(sid, "print hello", 0.0, 0.95, 24, -1, api_name="/turn")
    final = job.result(timeout=300)
    updates = job.outputs()
    assert len(updates) >= 2 and updates[-1] == final
    assert updates[0]["status"] == "generating" and updates[0]["cell"] == 1
    assert final["cell"] == 1 and final["status"] in FINISHED
    assert 0 < final["tokens"] <= 24
    fields = {"cell", "status", "code", "outputs", "tokens", "seconds", "message", "fixes"}
    assert set(final) == fields
    # A second turn is the next cell (its prompt holds the first).
    second = client.predict(sid, "print hello", 0.0, 0.95, 24, -1, api_name="/turn")
    assert second["cell"] == 2 and second["status"] in FINISHED

    text = client.predict(sid, api_name="/notebook")
    import nbformat

    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    codes = [c.source for c in nb.cells if c.cell_type == "code"]
    assert codes[1:] == [f"# print hello\n{final['code']}", f"# print hello\n{second['code']}"]

    # It is a stored session like a page's, autosaved as it went.
    stored = nbformat.read(app.sessions / f"{sid}.ipynb", as_version=4)
    assert [c.source for c in stored.cells if c.cell_type == "code"] == codes
    client.predict(sid, api_name="/close_session")


def test_a_page_opens_an_api_session(client: Any, app: Server) -> None:
    from tests.browserkit import Tab, chromium

    sid = client.predict(api_name="/new_session")
    client.predict(sid, 1, "print('made by the api')", api_name="/run_cell")
    for browser in chromium():
        tab = Tab(browser, f"{app.url}?session={sid}")
        try:
            assert [c.strip() for c in tab.codes()] == ["print('made by the api')"]
            assert tab.problems == []
        finally:
            tab.close()
    client.predict(sid, api_name="/close_session")


def test_made_up_and_closed_ids_are_refused_and_run_nothing(client: Any, app: Server) -> None:
    from gradio_client.exceptions import AppError

    before = app.kernels()
    refusals = [
        ("no-such-session-id", "no open session has this id"),
        ("../../etc/passwd", "that is not a session id"),
        ("", "that is not a session id"),
    ]
    for bad, reason in refusals:
        with pytest.raises(AppError, match=reason):
            client.predict(bad, 1, "open('/tmp/x', 'w')", api_name="/run_cell")
        with pytest.raises(AppError, match=reason):
            client.predict(bad, "print 1", api_name="/turn")
    assert app.kernels() == before  # no kernel was started for them

    sid = client.predict(api_name="/new_session")
    client.predict(sid, 1, "y = 1", api_name="/run_cell")
    saved = (app.sessions / f"{sid}.ipynb").read_text()
    assert client.predict(sid, api_name="/close_session") == f"closed {sid}"
    with pytest.raises(AppError, match="no open session"):
        client.predict(sid, 2, "print(y)", api_name="/run_cell")
    with pytest.raises(AppError, match="no open session"):
        client.predict(sid, api_name="/close_session")
    assert (app.sessions / f"{sid}.ipynb").read_text() == saved  # nothing ran, nothing saved


def test_bad_arguments_get_one_line(client: Any) -> None:
    from gradio_client.exceptions import AppError

    sid = client.predict(api_name="/new_session")
    with pytest.raises(AppError, match="no cell 5"):
        client.predict(sid, 5, "print(1)", api_name="/run_cell")
    with pytest.raises(AppError, match="temperature"):
        client.predict(sid, "print 1", -1.0, api_name="/turn")
    with pytest.raises(AppError, match="instruction is empty"):
        client.predict(sid, "   ", api_name="/turn")
    client.predict(sid, api_name="/close_session")


# Building a gr.Blocks leaves asyncio event loops (and their sockets) unclosed: Gradio's own,
# with or without the API (the page alone leaves as many).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_no_api_turns_it_off(tiny_model_dir: Path, tmp_path: Path) -> None:
    from codegen_ui.cli.main import build_parser
    from codegen_ui.settings import Settings
    from codegen_ui.web.app import create
    from codegen_ui.workspace import ModelHolder
    from tests.fakes import ScriptedModel

    assert build_parser().parse_args(["serve", "--no-api"]).api is False
    assert build_parser().parse_args(["serve", "--api"]).api is True
    assert build_parser().parse_args(["serve"]).api is None  # the setting's default: on
    settings = Settings(sessions_dir=str(tmp_path), kernel_pool=0)
    for on in (True, False):
        demo, controller, _ = create(settings.replace(api=on), ModelHolder.ready(ScriptedModel()))
        try:
            named = set(demo.get_api_info()["named_endpoints"])
            assert named == (ENDPOINTS if on else set())
        finally:
            controller.workspaces.shutdown()
        del demo, controller
    # Collect those loops here, under this test's filter, not in whichever test comes next.
    gc.collect()


# ---- MCP ---------------------------------------------------------------------------------------
def _mcp(url: str, work: Any) -> Any:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> Any:
        async with (
            streamable_http_client(url + "gradio_api/mcp/") as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await work(session)

    return asyncio.run(main())


def _result(call: Any) -> Any:
    assert not call.isError, call.content
    text = call.content[0].text
    if not text.startswith("{"):
        return text  # a string comes back as itself
    try:
        return json.loads(text)  # the notebook's JSON text
    except json.JSONDecodeError:
        return ast.literal_eval(text)  # a dict comes back as its Python text


def test_mcp_tools_are_typed_and_described_and_turn_twice(app: Server) -> None:
    async def work(session: Any) -> Any:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        sid = _result(await session.call_tool("new_session", {}))
        args = {"session_id": sid, "instruction": "print hello", "max_new_tokens": 16}
        one = _result(await session.call_tool("turn", args))
        two = _result(await session.call_tool("turn", args))
        nb = _result(await session.call_tool("notebook", {"session_id": sid}))
        bad = await session.call_tool("turn", {**args, "session_id": "made-up"})
        await session.call_tool("close_session", {"session_id": sid})
        return tools, one, two, nb, bad

    tools, one, two, nb, bad = _mcp(app.url, work)
    assert set(tools) == {e.lstrip("/") for e in ENDPOINTS}
    turn = tools["turn"]
    assert turn.description.startswith("Turn one plain-English instruction into Python")
    props = turn.inputSchema["properties"]
    assert props["session_id"]["type"] == "string"
    assert "session_id" in turn.inputSchema["required"]
    assert "instruction" in turn.inputSchema["required"]
    assert "what the next step" in props["instruction"]["description"]
    assert json.dumps(props["max_new_tokens"]).count("integer") == 1
    assert (one["cell"], two["cell"]) == (1, 2)
    assert one["status"] in FINISHED and two["status"] in FINISHED
    cells = nb["cells"]
    assert len([c for c in cells if c["cell_type"] == "code"]) == 3  # the preamble and two turns
    assert bad.isError and "no open session" in bad.content[0].text


def test_over_mcp_a_follow_token_reads_the_session_and_opens_nothing_else(app: Server) -> None:
    async def work(session: Any) -> Any:
        sid = _result(await session.call_tool("new_session", {}))
        run = {"session_id": sid, "cell": 1, "code": "shared = 7"}
        assert _result(await session.call_tool("run_cell", run))["status"] == "ok"
        token = _result(await session.call_tool("share_session", {"session_id": sid}))
        as_token = {"session_id": token}
        writes = [
            await session.call_tool("turn", {**as_token, "instruction": "delete it"}),
            await session.call_tool("run_cell", {**run, **as_token}),
            await session.call_tool("fix_cell", {**as_token, "cell": 1, "tries": 1}),
            await session.call_tool("close_session", as_token),
            await session.call_tool("share_session", as_token),
            await session.call_tool("stop_sharing", as_token),
            await session.call_tool("notebook", as_token),
        ]
        read = _result(await session.call_tool("followed_notebook", {"follow_token": token}))
        by_id = await session.call_tool("followed_notebook", {"follow_token": sid})
        await session.call_tool("stop_sharing", {"session_id": sid})
        ended = await session.call_tool("followed_notebook", {"follow_token": token})
        after = _result(await session.call_tool("notebook", {"session_id": sid}))
        await session.call_tool("close_session", {"session_id": sid})
        return token, writes, read, by_id, ended, after

    token, writes, read, by_id, ended, after = _mcp(app.url, work)
    assert token != "" and token.startswith("~")
    assert all(w.isError and "not a session id" in w.content[0].text for w in writes)
    assert "shared = 7" in json.dumps(read)
    assert by_id.isError and "not a follow link" in by_id.content[0].text
    assert ended.isError and "ended" in ended.content[0].text
    code = [c for c in after["cells"] if c["cell_type"] == "code"]
    assert len(code) == 2  # the preamble and the one cell: nothing a follow token sent ran


def test_fix_cell_tries_once_on_a_cell_that_raised_and_refuses_one_that_did_not(
    client: Any,
) -> None:
    from gradio_client.exceptions import AppError

    sid = client.predict(api_name="/new_session")
    client.predict(sid, 1, "x = 1", api_name="/run_cell")
    client.predict(sid, 2, "1 / 0", api_name="/run_cell")
    fixed = client.predict(sid, 2, 1, api_name="/fix_cell")
    # The tiny model's words are random: whatever it wrote, one try was made on cell 2.
    assert fixed["cell"] == 2 and fixed["fixes"] == 1 and fixed["status"] in FINISHED
    with pytest.raises(AppError, match="cell 1 raised no error"):
        client.predict(sid, 1, 1, api_name="/fix_cell")
    with pytest.raises(AppError, match="tries must be between 1 and 3"):
        client.predict(sid, 2, 4, api_name="/fix_cell")
    client.predict(sid, api_name="/close_session")
