"""Fix in the browser: a cell whose code raises offers Fix; one press puts the model's
correction in place and runs it; Undo brings the failed code back. The app runs in this process
with the scripted model (its words are the test's) and real kernels, in Chromium at desktop and
phone width."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browserkit import OUT, PHONE, WAIT_MS, Tab

pytestmark = pytest.mark.slow
SHOTS = OUT / "fix"  # docs/images/fix.png is desktop-fixed.png
LAPTOP = {"width": 1280, "height": 800}
LAUNCHER = Path(__file__).with_name("serve_scripted.py")
# What the model writes, in order: two turns per tab (the second raises), then the fix.
SCRIPT = ["total = 40\n", "print(totl + 2)\n", "print(total + 2)\n"]


class App:
    """The app with the scripted model, in its own process."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{port}/"
        self.log = folder / "server.log"
        with self.log.open("wb") as out:
            command = [sys.executable, str(LAUNCHER), str(port), str(folder / "sessions")]
            self.proc = subprocess.Popen(
                [*command, *SCRIPT * 2], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert self.alive(), self.log.read_text()[-2000:]
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("the app did not answer")

    def alive(self) -> bool:
        return self.proc.poll() is None


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    server = App(tmp_path_factory.mktemp("fix"))
    yield server
    server.proc.terminate()
    server.proc.wait(timeout=60)


def done(tab: Tab, cell: int, status: str) -> None:
    tab.page.wait_for_function(
        """([n, status]) => {
            const nb = document.querySelector('#notebook .cg-nb');
            const c = document.querySelector(`#notebook [data-cell="${n}"]`);
            return nb.dataset.busy === 'false' && c && c.dataset.status === status; }""",
        arg=[cell, status],
        timeout=WAIT_MS,
    )


def fix_once(tab: Tab, shots: str, full_page: bool = True) -> None:
    tab.submit("set total to 40")
    tab.submit("print total plus two")
    failed = tab.cell(2)
    expect(failed).to_have_attribute("data-status", "error")
    expect(failed.locator(".cg-outputs")).to_contain_text("NameError")
    expect(tab.cell(1).locator('[data-action="fix"]')).to_have_count(0)  # it ran: no Fix
    fix = failed.locator('[data-action="fix"]')
    expect(fix).to_be_enabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SHOTS / f"{shots}-failed.png"), full_page=full_page)
    fix.click()
    done(tab, 2, "ok")
    expect(failed.locator(".cg-code")).to_have_text("print(total + 2)")
    expect(failed.locator(".cg-outputs")).to_have_text("42")
    expect(failed).to_have_attribute("data-fixes", "1")
    expect(failed.locator(".cg-badge")).to_contain_text("fixed · 1 try")
    expect(failed.locator(".cg-msg")).to_contain_text("Undo brings back the failed code")
    tab.page.screenshot(path=str(SHOTS / f"{shots}-fixed.png"), full_page=full_page)
    tab.page.locator("#undo").click()
    done(tab, 2, "error")
    expect(failed.locator(".cg-code")).to_have_text("print(totl + 2)")
    expect(failed.locator('[data-action="fix"]')).to_have_count(1)


def test_fix_puts_the_correction_in_place_runs_it_and_undo_brings_back_the_failure(
    browser: Any, app: App
) -> None:
    desktop = Tab(browser, app.url, viewport=LAPTOP, alive=app.alive)
    try:
        fix_once(desktop, "desktop", full_page=False)  # what a 1280x800 screen shows
        assert desktop.page.evaluate("() => document.documentElement.scrollWidth") <= 1280
        assert desktop.problems == []
    finally:
        desktop.close()


def test_fix_at_phone_width(browser: Any, app: App) -> None:
    phone = Tab(browser, app.url, viewport=PHONE, alive=app.alive)
    try:
        fix_once(phone, "phone")
        assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        assert phone.problems == []
    finally:
        phone.close()


def test_shots_are_kept(app: App) -> None:
    names = sorted(p.name for p in Path(SHOTS).glob("*.png"))
    assert names == [
        "desktop-failed.png",
        "desktop-fixed.png",
        "phone-failed.png",
        "phone-fixed.png",
    ]
