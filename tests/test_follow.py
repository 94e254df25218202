"""Share to follow without a browser: the follow links' pure core (`web.sharing`), the rules of
`web.follow` over real workspaces and a real store (a scripted model, echo kernels), every door
refusing a follow token for anything but reading (the page's events, forged ones included, and the
session API), Copy to my own, and the server-sent events of `web.followfeed`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import SamplingParams, Turn
from codegen_ui.notebooks import SessionStore, check_id
from codegen_ui.web.api import ApiError, SessionApi
from codegen_ui.web.app import assemble
from codegen_ui.web.controller import Controller
from codegen_ui.web.follow import Follow
from codegen_ui.web.followfeed import Feed
from codegen_ui.web.followhtml import render_follow
from codegen_ui.web.sharing import (
    REASONS,
    FollowRefused,
    FollowState,
    Frame,
    Shares,
    event_stream,
    is_token,
    new_token,
    same_turns,
)
from codegen_ui.workspace import ModelHolder, ReadOnlyTab
from tests.fakes import EchoPool, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=32)


# ---- the pure core ----------------------------------------------------------------------------
def test_a_token_is_unguessable_and_can_never_be_taken_for_a_session_id() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert is_token(token) and len(token) == 33
        with pytest.raises(Exception, match="not a session id"):
            check_id(token)
    for bad in ("", "~short", "abc" * 11, None, 42, "~" + "a" * 31 + "!", "~" + "a" * 33):
        assert not is_token(bad)


@pytest.mark.parametrize(
    ("token", "state"),
    [
        ("nonsense", FollowState.MALFORMED),
        (None, FollowState.MALFORMED),
        ("~" + "A" * 32, FollowState.UNKNOWN),
    ],
)
def test_lookup_says_why_a_token_shows_nothing(token: object, state: FollowState) -> None:
    assert Shares().lookup(token) == (state, None)
    assert REASONS[state].count(".") == 1  # one line


def test_share_gives_one_token_per_session_and_revoke_ends_it_for_good() -> None:
    shares = Shares()
    token = shares.share("s1")
    assert shares.share("s1") == token and shares.share("s2") != token
    assert shares.lookup(token) == (FollowState.LIVE, "s1")
    assert shares.revoke("s1") == token and shares.revoke("s1") is None
    assert shares.lookup(token) == (FollowState.ENDED, None)
    again = shares.share("s1")
    assert again != token and shares.lookup(token)[0] == FollowState.ENDED
    assert shares.active() == {again: "s1", shares.token_of("s2"): "s2"}


def test_same_turns_is_identity_of_each_turn() -> None:
    a, b = Turn("one"), Turn("two")
    assert same_turns((a, b), [a, b])
    assert not same_turns((a, b), (a, b.replace(code="x")))
    assert not same_turns((a,), (a, b)) and not same_turns((a, b), (b, a))


def test_a_frame_is_one_server_sent_event_of_one_json_line() -> None:
    frame = Frame(7, FollowState.LIVE, "Lesson", "<p>line one\nline two</p>", busy=True)
    text = event_stream(frame).decode()
    head, data = text.split("data: ")
    assert head == "id: 7\nevent: frame\n" and data.endswith("\n\n") and data.count("\n") == 2
    assert json.loads(data)["html"] == frame.html
    ended = json.loads(Frame(0, FollowState.ENDED).as_json())
    assert ended["line"] == REASONS[FollowState.ENDED] and ended["html"] == ""


# ---- the application layer --------------------------------------------------------------------
@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[tuple[Controller, Follow]]:
    model = ScriptedModel().enqueue(*[f"x{i} = {i}\nprint(x{i})\n" for i in range(10)])
    c = assemble(ModelHolder.ready(model), EchoPool(), SessionStore(tmp_path / "s"), True)
    yield c, Follow(c.workspaces, c.shelf)
    c.workspaces.shutdown()


def turn(c: Controller, key: str, text: str) -> None:
    views = list(c.submit(key, text, GREEDY))
    assert not views[-1].busy


def test_a_follower_sees_each_change_read_only_and_never_the_session_id(
    classroom: tuple[Controller, Follow],
) -> None:
    c, f = classroom
    c.open_page("teacher")
    token = f.share("teacher")  # an empty session is saved, so it can be followed from the start
    sid = c.workspaces.get("teacher").saved.id
    assert sid is not None and sid not in token
    first = f.watch("student", token)
    assert first.state == FollowState.LIVE and "No turns yet" in first.html
    assert f.frame(token) is first  # nothing changed: not rendered again
    turn(c, "teacher", "make x")
    second = f.frame(token)
    assert second.version > first.version and 'data-cell="1"' in second.html
    assert "data-action" not in second.html and "<textarea" not in second.html
    assert sid not in second.html and 'data-session=""' in second.html
    c.undo("teacher")
    assert 'data-cell="1"' not in f.frame(token).html
    c.redo("teacher")
    c.rename("teacher", "Lesson 1")
    shown = f.frame(token)
    assert shown.title == "Lesson 1" and 'data-cell="1"' in shown.html
    assert len(c.workspaces) == 1, "a follower holds no workspace, so no kernel"


def test_every_page_door_refuses_a_follower_and_changes_nothing(
    classroom: tuple[Controller, Follow],
) -> None:
    c, f = classroom
    c.open_page("teacher")
    turn(c, "teacher", "make x")
    token = f.share("teacher")
    f.watch("student", token)
    teacher = c.workspaces.get("teacher")
    before = (tuple(teacher.session.turns), teacher.session.revision)
    forged_cell = {"action": "run", "cell": 1, "revision": teacher.session.revision, "code": "1"}
    refusals = [
        c.submit("student", "delete everything", GREEDY),
        c.cell("student", forged_cell, GREEDY),
        c.cell("student", {**forged_cell, "action": "delete"}, GREEDY),
        c.replay("student"),
        iter([c.undo("student"), c.restart("student"), c.add_code("student", "x")]),
        iter([c.upload_files("student", ["/etc/hostname"]), c.rename("student", "mine")]),
        iter([c.open_session("student", teacher.saved.id), c.load_example("student", "x")]),
        iter([c.files_action("student", {"action": "delete", "name": "a.csv"})]),
        iter([c.delete_session("student", teacher.saved.id), c.new_session("student")]),
    ]
    notes = [v.notebook for views in refusals for v in views]
    assert len(notes) == 14
    assert all("follows a session read-only" in n for n in notes)
    assert c.export("student", "ipynb") is None
    with pytest.raises(FollowRefused, match="read-only"):
        f.share("student")
    with pytest.raises(ReadOnlyTab):
        c.workspaces.get("student")
    assert (tuple(teacher.session.turns), teacher.session.revision) == before
    assert len(c.workspaces) == 1 and c.workspaces.peek("student") is None


def test_the_session_api_opens_nothing_to_a_follow_token_but_reading(
    classroom: tuple[Controller, Follow],
) -> None:
    c, f = classroom
    api = SessionApi(c.bench, follow=f)
    sid = api.new_session()
    list(api.turn(sid, "make x"))
    token = api.share_session(sid)
    assert api.share_session(sid) == token
    for call in (
        lambda: list(api.turn(token, "make y")),
        lambda: api.run_cell(token, 1, "x = 2"),
        lambda: api.notebook(token),
        lambda: api.close_session(token),
        lambda: api.share_session(token),
        lambda: api.stop_sharing(token),
    ):
        with pytest.raises(ApiError, match="not a session id"):
            call()
    nb = json.loads(api.followed_notebook(token))
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert code[-1].endswith("x0 = 0\nprint(x0)\n")
    with pytest.raises(FollowRefused, match="not a follow link"):
        api.followed_notebook(sid)
    assert api.stop_sharing(sid).startswith("stopped")
    with pytest.raises(FollowRefused, match="ended"):
        api.followed_notebook(token)
    api.shutdown()


def test_revoke_ends_the_view_and_only_the_owner_may_share_or_revoke(
    classroom: tuple[Controller, Follow],
) -> None:
    c, f = classroom
    c.open_page("teacher")
    turn(c, "teacher", "make x")
    token = f.share("teacher")
    c.open_page("other")
    sid = c.workspaces.get("teacher").saved.id
    c.open_session("other", sid)  # guarded: the other tab gets a copy, not the session
    assert f.share("other") != token
    assert f.watch("student", token).state == FollowState.LIVE
    assert f.revoke("teacher").startswith("The follow link is ended")
    ended = f.frame(token)
    assert ended.state == FollowState.ENDED and ended.html == ""
    assert "ended" in render_follow(ended, token) and token not in render_follow(ended, token)
    with pytest.raises(FollowRefused, match="ended"):
        f.copy_to_own("student")
    assert f.revoke("teacher") == "This session has no follow link."


def test_a_follow_link_to_a_deleted_session_says_so(classroom: tuple[Controller, Follow]) -> None:
    c, f = classroom
    c.open_page("teacher")
    turn(c, "teacher", "make x")
    token = f.share("teacher")
    sid = c.workspaces.get("teacher").saved.id
    c.delete_session("teacher", sid)
    frame = f.watch("student", token)
    assert frame.state == FollowState.DELETED and frame.line.endswith("was deleted.")
    assert f.frame(token) is frame


def test_copy_to_my_own_gives_the_follower_a_session_and_kernel_of_its_own(
    classroom: tuple[Controller, Follow],
) -> None:
    c, f = classroom
    c.open_page("teacher")
    turn(c, "teacher", "make x")
    turn(c, "teacher", "make y")
    token = f.share("teacher")
    f.watch("student", token)
    note = f.copy_to_own("student")
    assert "your own copy" in note and f.following("student") is None
    mine, theirs = c.workspaces.get("student"), c.workspaces.get("teacher")
    assert mine.saved.id != theirs.saved.id and mine.saved.id in mine.ownership.owned
    assert [t.code for t in mine.session.turns] == [t.code for t in theirs.session.turns]
    views = list(c.replay("student"))
    assert [t.status for t in mine.session.turns] == ["ok", "ok"] and not views[-1].busy
    turn(c, "student", "make z")  # ready for its own next turn
    assert len(mine.session.turns) == 3 and len(theirs.session.turns) == 2
    assert f.frame(token).html.count("data-cell=") == 2  # the teacher's is unchanged


# ---- the server-sent events --------------------------------------------------------------------
def test_the_feed_streams_each_change_to_every_follower_and_ends_with_the_link(
    classroom: tuple[Controller, Follow],
) -> None:
    c, f = classroom
    c.open_page("teacher")
    token = f.share("teacher")
    feed = Feed(f, poll_s=0.02)

    async def follow(seen: list[dict[str, Any]]) -> None:
        async for chunk in feed.events(token):
            seen.append(json.loads(chunk.decode().split("data: ", 1)[1]))

    async def main() -> list[list[dict[str, Any]]]:
        seen: list[list[dict[str, Any]]] = [[], []]
        tasks = [asyncio.create_task(follow(s)) for s in seen]
        while feed.followers(token) < 2:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(turn, c, "teacher", "make x")
        while not all('data-state="ok"' in s[-1]["html"] for s in seen):
            await asyncio.sleep(0.01)
        f.revoke("teacher")
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        return seen

    try:
        for frames in asyncio.run(main()):
            versions = [fr["version"] for fr in frames[:-1]]
            assert versions == sorted(set(versions)) and len(frames) >= 3
            assert frames[-1]["state"] == "ended" and frames[-1]["html"] == ""
        assert feed.followers(token) == 0
    finally:
        feed.stop()


def test_the_routes_give_a_frame_with_an_etag_and_a_wrong_token_one_line(
    classroom: tuple[Controller, Follow],
) -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from codegen_ui.web.followfeed import routes

    c, f = classroom
    c.open_page("teacher")
    token = f.share("teacher")
    feed = Feed(f)
    with TestClient(Starlette(routes=routes(feed))) as http:
        first = http.get(f"/follow/{token}")
        assert first.status_code == 200 and first.json()["state"] == "live"
        etag = first.headers["etag"]
        assert http.get(f"/follow/{token}", headers={"If-None-Match": etag}).status_code == 304
        turn(c, "teacher", "make x")
        changed = http.get(f"/follow/{token}", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and 'data-cell=\\"1\\"' in changed.text
        for wrong, line in (("nonsense", "not a follow link"), ("~" + "b" * 32, "No session")):
            events = http.get(f"/follow/{wrong}/events")
            assert events.headers["content-type"].startswith("text/event-stream")
            frames = [x for x in events.text.split("\n\n") if x]
            assert len(frames) == 1 and line in frames[0] and '"html": ""' in frames[0]
    feed.stop()


def test_presentation_sheet_outweighs_the_pages_scoped_rules_from_body() -> None:
    import re

    from codegen_ui.web.present import PRESENT_CSS

    rules = re.findall(r"([^{}]+)\{([^{}]*)\}", PRESENT_CSS)
    assert len(rules) > 20
    for selectors, body in rules:
        decls = [d for d in body.split(";") if d.strip()]
        assert decls and all(d.endswith("!important") for d in decls), selectors
        names = [s.strip() for s in selectors.split(",")]
        assert all(n.startswith(("body.cg-present", ".cg-present-toggle", "#present"))
                   for n in names), selectors  # fmt: skip
    assert "@media (max-width:700px)" in PRESENT_CSS
