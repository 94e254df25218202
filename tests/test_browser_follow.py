"""Share to follow in a real Chromium: a teacher's tab and two followers' tabs on one server.

Followers see a new turn stream in and find no control to change it; an event forged with a
follower's own browser session (the page's queue protocol, as its script would send it) is
refused and changes nothing; Copy to my own gives a working session of the student's own; Stop
sharing ends the view; a wrong link shows one line; presentation mode at 1920x1080 and at phone
width, with screenshots in test-output/browser/ (look at them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browserkit import DESKTOP, DONE, OUT, PHONE, WAIT_MS, Server, Tab, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def app(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Guarded (reachable by others), as a classroom server is: a tab changes only what it made.
    OUT.mkdir(parents=True, exist_ok=True)
    yield from serve(tiny_model_dir, tmp_path_factory.mktemp("follow"), ["--host", "0.0.0.0"])


class Follower:
    """A student's browser session on a follow link; its console must stay clean too."""

    def __init__(self, browser: Any, url: str, viewport: dict[str, int] | None = None) -> None:
        self.context = browser.new_context(viewport=viewport or DESKTOP)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "console",
            lambda m: self.problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        self.sessions: list[str] = []  # the browser session hash the page's events carry
        self.page.on("request", self._seen)
        self.page.goto(url)
        self.page.wait_for_selector(".cg-follow", timeout=WAIT_MS)

    def _seen(self, request: Any) -> None:
        found = re.search(r"/heartbeat/([^/?]+)|[?&]session_hash=([^&]+)", request.url)
        if found:
            self.sessions.append(found.group(1) or found.group(2))
        elif "/queue/join" in request.url and request.post_data:
            self.sessions.append(json.loads(request.post_data)["session_hash"])

    def cells(self) -> Any:
        return self.page.locator(".cg-follow [data-cell]")

    def close(self) -> None:
        assert self.problems == [], "the follower's console reported problems"
        self.context.close()


def share(tab: Tab) -> str:
    tab.page.locator("#share-panel").click()  # the accordion opens
    tab.page.locator("#share").click()
    link = tab.page.locator(".cg-share-link")
    expect(link).to_have_value(re.compile(r".*\?follow=~.*"), timeout=WAIT_MS)
    return str(link.input_value())


def record_statuses(f: Follower) -> None:
    """Keep, in the page, every data-status the follower's last cell shows, as it changes."""
    f.page.evaluate(
        """() => { window.seen = [];
            const look = () => { const c = document.querySelectorAll('.cg-follow [data-cell]');
                const s = c.length ? `${c.length}:${c[c.length - 1].dataset.status}` : '';
                if (s && window.seen[window.seen.length - 1] !== s) window.seen.push(s); };
            new MutationObserver(look).observe(document.querySelector('#follow'),
                {subtree: true, childList: true, attributes: true}); }"""
    )


def forge_cell_event(app: Server, session_hash: str, action: str) -> str:
    """Send the page's `cell` event with a follower's own browser session, over the page's own
    queue protocol, and return what the server answered (its outputs' text)."""
    import httpx

    config = httpx.get(app.url + "config", timeout=30).json()
    props = {c["id"]: c["props"] for c in config["components"]}
    notebook = next(i for i, p in props.items() if p.get("elem_id") == "notebook")
    dep = next(d for d in config["dependencies"] if [notebook, "cell"] in d["targets"])
    data = [props[i].get("value") for i in dep["inputs"]]  # the sampling settings as shown
    event = {"action": action, "cell": 1, "revision": 1, "code": "import os; os.remove('x')"}
    body = {"data": data, "event_data": event, "fn_index": dep["id"], "trigger_id": notebook,
            "session_hash": session_hash}  # fmt: skip
    with httpx.Client(base_url=app.url + "gradio_api/", timeout=60) as http:
        assert http.post("queue/join", json=body).status_code == 200
        answer = []
        with http.stream("GET", "queue/data", params={"session_hash": session_hash}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    answer.append(json.dumps(message.get("output")))
                    if message.get("msg") == "process_completed":
                        break
    return "".join(answer)


def wait_done(f: Follower) -> None:
    """Until the follower's second cell shows a finished status."""
    f.page.wait_for_function(
        "done => done.includes(document.querySelectorAll('.cg-follow [data-cell]')[1]"
        ".dataset.status)",
        arg=DONE,
        timeout=WAIT_MS,
    )


def test_a_class_follows_live_read_only_copies_and_is_ended(browser: Any, app: Server) -> None:
    teacher = Tab(browser, app.url, alive=app.alive)
    teacher.submit("make a list of numbers")
    link = share(teacher)
    kernels = app.kernels()
    students = [Follower(browser, link), Follower(browser, link, PHONE)]
    for s in students:
        expect(s.cells()).to_have_count(1, timeout=WAIT_MS)
        record_statuses(s)
        # Nothing on a follower's page can change the session: no cell buttons, no editor,
        # no instruction box, no panels.
        assert s.page.locator(".cg-follow button[data-action], .cg-follow textarea").count() == 0
        for hidden in ("#instruction", "#submit", "#side-panels", "#notebook"):
            expect(s.page.locator(hidden)).to_be_hidden()
    assert app.kernels() == kernels, "a follower holds no kernel"
    teacher.submit("print the sum")
    for s in students:
        expect(s.cells()).to_have_count(2, timeout=WAIT_MS)
        wait_done(s)
    # A run that takes a while (the tiny model's turns can be over within one frame): each
    # follower sees the cell running, then its output, as the teacher does.
    for s in students:
        record_statuses(s)
    teacher.run_code("import time\ntime.sleep(2)\nprint('slept')", "slept", cell=2)
    for s in students:
        expect(s.page.locator(".cg-follow [data-cell]").nth(1)).to_contain_text(
            "slept", timeout=WAIT_MS
        )
        wait_done(s)
        seen = s.page.evaluate("() => window.seen")
        assert any(x.startswith("2:") and x[2:] in ("running", "waiting") for x in seen), seen
        assert s.page.locator(".cg-follow .cg-code").all_inner_texts() == teacher.codes()
    teacher.page.screenshot(path=str(OUT / "follow-teacher.png"))
    students[0].page.screenshot(path=str(OUT / "follow-student.png"))
    students[1].page.screenshot(path=str(OUT / "follow-student-phone.png"))

    # A forged event with a follower's own browser session is refused and changes nothing.
    before = teacher.codes()
    for action in ("run", "delete"):
        answer = forge_cell_event(app, students[0].sessions[0], action)
        assert "read-only" in answer, answer[-300:]
    assert teacher.codes() == before and app.kernels() == kernels

    # Copy to my own: the first student's tab works on its own copy, replayed.
    mine = students[0]
    mine.page.locator(".cg-follow button[data-follow='copy']").click()
    mine.page.wait_for_function(
        """done => { const nb = document.querySelector('#notebook .cg-nb');
            const c = document.querySelectorAll('#notebook [data-cell]');
            return nb && nb.dataset.busy === 'false' && c.length === 2
                && !nb.querySelector('.cg-replay')
                && [...c].every(x => done.includes(x.dataset.status)); }""",
        arg=DONE,
        timeout=WAIT_MS,
    )
    assert "follow=" not in mine.page.url and "session=" in mine.page.url
    expect(mine.page.locator("#follow .cg-follow")).to_have_count(0)
    box = mine.page.locator("#instruction textarea")
    box.fill("my own next step")
    box.press("Enter")
    expect(mine.page.locator("#notebook [data-cell]")).to_have_count(3, timeout=WAIT_MS)
    expect(teacher.cells()).to_have_count(2)
    expect(students[1].cells()).to_have_count(2)

    # Stop sharing ends the other student's view: one line, nothing else.
    teacher.page.locator("#stop-sharing").click()
    other = students[1]
    expect(other.page.locator(".cg-follow-line")).to_contain_text("ended", timeout=WAIT_MS)
    expect(other.cells()).to_have_count(0)
    other.page.reload()
    expect(other.page.locator(".cg-follow-line")).to_contain_text("ended", timeout=WAIT_MS)
    for s in students:
        s.close()
    assert teacher.problems == []
    teacher.close()


def test_a_wrong_or_malformed_link_is_one_line_and_shows_nothing(browser: Any, app: Server) -> None:
    for token, line in (("nonsense", "not a follow link"), ("~" + "x" * 32, "No session")):
        f = Follower(browser, app.url + "?follow=" + token)
        expect(f.page.locator(".cg-follow-line")).to_contain_text(line, timeout=WAIT_MS)
        expect(f.page.locator("#instruction")).to_be_hidden()
        assert f.page.locator("[data-cell]").count() == 0
        f.close()


def font(page: Any, selector: str) -> float:
    return float(page.evaluate(f"() => parseFloat(getComputedStyle("
                               f"document.querySelector('{selector}')).fontSize)"))  # fmt: skip


def test_presentation_mode_at_1920_and_at_phone_width_for_teacher_and_follower(
    browser: Any, app: Server
) -> None:
    teacher = Tab(browser, app.url, viewport={"width": 1920, "height": 1080}, alive=app.alive)
    teacher.submit("make a list of numbers")
    link = share(teacher)  # before the Share panel collapses with the others
    normal = font(teacher.page, "#notebook .cg-code")
    teacher.page.locator(".cg-present-toggle").click()
    expect(teacher.page.locator("#side-panels")).to_be_hidden()
    assert 1.25 <= font(teacher.page, "#notebook .cg-code") / normal <= 1.5
    assert font(teacher.page, "#instruction textarea") >= 22
    width = teacher.page.evaluate("() => document.querySelector('#notebook').clientWidth")
    assert width > 1700  # the whole width, the side panels collapsed
    teacher.page.screenshot(path=str(OUT / "present-1920.png"))
    teacher.reload()  # remembered in this tab
    expect(teacher.page.locator(".cg-present-toggle")).to_have_attribute("aria-pressed", "true")
    teacher.page.set_viewport_size(PHONE)
    overflow = "() => document.documentElement.scrollWidth - window.innerWidth"
    assert teacher.page.evaluate(overflow) <= 0, "nothing wider than a phone's screen"
    teacher.page.screenshot(path=str(OUT / "present-phone.png"))
    student = Follower(browser, link, {"width": 1920, "height": 1080})
    expect(student.cells()).to_have_count(1, timeout=WAIT_MS)
    student.page.locator(".cg-present-toggle").click()
    assert font(student.page, ".cg-follow .cg-code") / normal >= 1.25
    student.page.screenshot(path=str(OUT / "present-follower-1920.png"))
    student.page.set_viewport_size(PHONE)
    assert student.page.evaluate(overflow) <= 0
    student.page.screenshot(path=str(OUT / "present-follower-phone.png"))
    student.close()
    assert teacher.problems == []
    teacher.close()
