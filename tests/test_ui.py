"""The web app without a browser: the controller's actions (what every handler calls), the
per-browser-session workspaces, the shared model's queue, and the Gradio app's wiring."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from codegen_ui.core import PREAMBLE, Delta, Event, Finished, RunResult, SamplingParams
from codegen_ui.engine import ModelLoadError
from codegen_ui.kernel import KernelPool
from codegen_ui.notebooks import SessionStore
from codegen_ui.web.app import assemble
from codegen_ui.web.controller import Controller, View
from codegen_ui.web.examples import EXAMPLES
from codegen_ui.web.views import NEXT
from codegen_ui.workspace import ModelHolder
from tests.fakes import EchoKernel, EchoPool, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=32)


def real_kernels() -> KernelPool:
    return KernelPool(size=0)


def make(
    tmp_path: Path,
    model: Any = None,
    holder: ModelHolder | None = None,
    pool: Any = None,
    guarded: bool = False,
    **kw: Any,
) -> Controller:
    holder = holder or ModelHolder.ready(model or ScriptedModel())
    store = SessionStore(tmp_path / "sessions")
    return assemble(holder, pool or EchoPool(), store, guarded, **kw)


@pytest.fixture
def controllers() -> Iterator[list[Controller]]:
    made: list[Controller] = []
    yield made
    for c in made:
        c.workspaces.shutdown()


def last(views: Iterator[View]) -> View:
    items = list(views)
    assert items, "the action showed nothing"
    return items[-1]


def press(
    c: Controller, key: str, action: str, cell: int, code: str | None = None, **kw: Any
) -> Iterator[View]:
    """What the page sends when a cell's button is pressed, on the notebook as drawn now."""
    revision = c.workspaces.get(key).session.revision
    event = {"action": action, "cell": cell, "revision": revision, "code": code,
             "instruction": kw.pop("instruction", None)}  # fmt: skip
    return c.cell(key, event, kw.pop("params", GREEDY))


def test_a_turn_streams_views_runs_in_a_real_kernel_and_autosaves(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    model = ScriptedModel(chunk=4).enqueue("total = 40 + 2\nprint(total)\n")
    c = make(tmp_path, model, pool=real_kernels())
    controllers.append(c)
    views = list(c.submit("tab", "add forty and two", GREEDY))
    assert views[0].busy and views[0].instruction == ""  # the box empties at once
    assert any('data-state="generating"' in v.notebook for v in views[1:-1]), "no streaming view"
    final = views[-1]
    assert not final.busy and final.can_undo and not final.can_redo
    assert 'data-status="ok"' in final.notebook and "42\n</pre>" in final.notebook
    ws = c.workspaces.get("tab")
    assert ws.session.turns[0].code == "total = 40 + 2\nprint(total)\n"
    # The inspector shows the prompt the next turn will send.
    assert final.prompt == ws.session.prompt_for(NEXT, 32).text
    assert final.prompt.endswith(
        "# add forty and two\ntotal = 40 + 2\nprint(total)\n\n\n# " + NEXT + "\n"
    )
    assert (
        "prompt tokens" in final.prompt_info and "every turn is in the prompt" in final.prompt_info
    )
    assert "kernel: idle" in final.status and "scripted model" in final.status
    saved = list((tmp_path / "sessions").glob("*.ipynb"))
    assert [p.stem for p in saved] == [ws.saved.id]
    nbformat.validate(nbformat.read(saved[0], as_version=4))
    turns, _ = c.shelf.store.load(ws.saved.id)
    assert turns[0].outputs[0]["text"] == "42\n"


def test_edit_regenerate_undo_restart_and_replay(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    model = ScriptedModel().enqueue("a = 1\n", "b = 2\n", "b = 3\n")
    c = make(tmp_path, model)
    controllers.append(c)
    last(c.submit("k", "set a", GREEDY))
    last(c.submit("k", "set b", GREEDY))
    view = last(press(c, "k", "run", 1, "a = 10\nprint(a)"))
    ws = c.workspaces.get("k")
    assert ws.session.turns[0].code == "a = 10\nprint(a)" and ws.session.turns[0].edited
    assert "edited" in view.notebook
    view = last(press(c, "k", "regenerate", 2))
    assert [t.code for t in ws.session.turns] == ["a = 10\nprint(a)", "b = 3\n"]
    assert model.calls[-1][0].endswith("a = 10\nprint(a)\n\n# set b\n")  # edits reach the prompt
    kernel = ws.kernel.kernel
    view = c.restart("k")
    assert kernel.count("restart") == 1 and "kernel: restarted" in view.status
    kernel.calls.clear()
    last(c.replay("k"))
    assert kernel.calls[0] == ("restart", "")  # a replay starts from a fresh kernel
    assert kernel.runs == [PREAMBLE, "a = 10\nprint(a)", "b = 3\n"] and kernel.count("restart") == 1
    view = c.undo("k")  # the regeneration
    assert [t.code for t in ws.session.turns] == ["a = 10\nprint(a)", "b = 2\n"]
    view = c.undo("k")  # the edit
    assert [t.code for t in ws.session.turns] == ["a = 1\n", "b = 2\n"] and view.can_redo
    bad = last(press(c, "k", "run", 6, "x"))
    assert "nothing was done" in bad.notebook


def test_examples_load_as_pending_turns_offered_one_by_one(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    title, steps = EXAMPLES[0]
    c = make(tmp_path, ScriptedModel().enqueue(*(["x = 1\n"] * len(steps))))
    controllers.append(c)
    view = c.load_example("k", title)
    assert view.instruction == steps[0]
    assert all(s.replace('"', "&quot;") in view.notebook for s in steps)
    views = list(c.submit("k", steps[0], GREEDY))
    assert views[0].instruction == steps[1]
    assert c.workspaces.get("k").page.pending == list(steps[1:])
    assert "no example named" in c.load_example("k", "nope").notebook


class GatedScript(ScriptedModel):
    """A scripted model that waits for `go` before each delta, to hold a generation open."""

    def __init__(self) -> None:
        super().__init__(chunk=2)
        self.go = threading.Event()
        self.started = threading.Event()

    def stream(
        self, prompt: str, params: SamplingParams, cancel: Any = None, prompt_format: str = "paper"
    ) -> Iterator[Event]:
        self.calls.append((prompt, params))
        self.started.set()
        for i, ch in enumerate("x = 1\n"):
            self.go.wait(timeout=30)
            if cancel is not None and cancel.is_set():
                yield Finished("cancelled", 1, i)
                return
            yield Delta(ch)
        yield Finished("complete", 1, 6)


def test_stop_cancels_generation_and_a_busy_tab_is_told_to_wait(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    model = GatedScript()
    c = make(tmp_path, model)
    controllers.append(c)
    c.open_page("k")
    views: list[View] = []
    worker = threading.Thread(target=lambda: views.extend(c.submit("k", "go", GREEDY)))
    worker.start()
    assert model.started.wait(10)
    busy = last(c.replay("k"))
    assert "still working on the previous action" in busy.notebook
    c.stop("k")
    model.go.set()
    worker.join(10)
    assert 'data-status="stopped"' in views[-1].notebook


def test_stop_interrupts_a_running_cell(tmp_path: Path, controllers: list[Controller]) -> None:
    c = make(tmp_path, ScriptedModel().enqueue("pass\n"), pool=real_kernels())
    controllers.append(c)
    last(c.submit("k", "nothing", GREEDY))
    views: list[View] = []
    worker = threading.Thread(
        target=lambda: views.extend(press(c, "k", "run", 1, "import time\ntime.sleep(60)"))
    )
    start = time.monotonic()
    worker.start()
    ws = c.workspaces.get("k")
    while ws.kernel.state != "busy" and time.monotonic() - start < 30:
        time.sleep(0.05)
    time.sleep(0.3)
    c.stop("k")
    worker.join(30)
    assert not worker.is_alive()
    assert "KeyboardInterrupt" not in views[-1].notebook  # Stop is a choice, not an error
    assert 'data-status="stopped"' in views[-1].notebook


def test_the_page_works_while_the_model_loads_and_shows_a_load_failure(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    release = threading.Event()

    def slow(name: str, device: str, progress: Callable[[str], None]) -> Any:
        progress("downloading")
        release.wait(30)
        return ScriptedModel().enqueue("y = 2\n")

    holder = ModelHolder("some/model", loader=slow).start()
    deadline = time.monotonic() + 10
    while holder.progress != "downloading" and time.monotonic() < deadline:
        time.sleep(0.01)  # the loader thread has started
    c = make(tmp_path, holder=holder)
    controllers.append(c)
    view = c.open_page("k")
    assert "loading some/model (downloading" in view.status
    pulse = c.pulse("k")  # what the page's timer shows: it ticks on while the model loads
    assert pulse.again and not pulse.busy and not pulse.blocked and "downloading" in pulse.status
    assert "still loading" in last(c.submit("k", "set y", GREEDY)).notebook
    release.set()
    assert holder.wait(10)
    assert 'data-status="ok"' in last(c.submit("k", "set y", GREEDY)).notebook
    assert not c.pulse("k").again  # loaded, the kernel idle: the timer stops
    assert c.pulse("a tab with no workspace yet").again

    def broken(name: str, device: str, progress: Callable[[str], None]) -> Any:
        raise ModelLoadError(f"cannot load model {name!r}: not in the cache")

    failed = ModelHolder("gone/model", loader=broken).start()
    assert not failed.wait(10)
    c2 = make(tmp_path, holder=failed)
    controllers.append(c2)
    assert "model failed to load: cannot load model 'gone/model'" in c2.open_page("k").status
    assert "failed to load" in last(c2.submit("k", "anything", GREEDY)).notebook
    pulse = c2.pulse("k")
    assert pulse.blocked.startswith("the model failed to load") and not pulse.again


def test_over_the_kernel_cap_a_new_tab_is_told_the_server_is_busy(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    c = make(tmp_path, pool=EchoPool(limit=1))
    controllers.append(c)
    assert "server is busy" not in c.open_page("first").notebook
    assert "server is busy" in c.open_page("second").notebook
    assert "server is busy" in last(c.submit("second", "x", GREEDY)).notebook
    c.close_page("first")
    assert "server is busy" not in c.open_page("second").notebook


def test_closing_a_tab_or_idling_past_the_ttl_shuts_its_kernel_down(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    c = make(tmp_path, idle_ttl_s=60)
    controllers.append(c)
    a, b = c.workspaces.get("a"), c.workspaces.get("b")
    c.close_page("a")
    assert not a.kernel.kernel.is_alive and b.kernel.kernel.is_alive
    assert c.workspaces.sweep(now=time.monotonic() + 30) == []
    assert c.workspaces.sweep(now=time.monotonic() + 61) == ["b"]
    assert not b.kernel.kernel.is_alive and len(c.workspaces) == 0


def test_sessions_autosave_download_upload_and_reopen_with_the_same_prompt(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    c = make(tmp_path, ScriptedModel().enqueue("a = 1\n", "b = a + 1\n"))
    controllers.append(c)
    assert c.export("k", "ipynb") is None  # nothing saved before the first turn
    last(c.submit("k", "set a", GREEDY))
    view = last(c.submit("k", "set b", GREEDY))
    ws = c.workspaces.get("k")
    assert view.session_id == ws.saved.id and view.sessions is not None
    assert [sid for _, sid in view.sessions] == [ws.saved.id]
    assert "2 turns" in view.sessions[0][0]
    assert c.rename("k", "  My <work>  ").title == "My <work>"
    path = c.export("k", "ipynb")
    assert path is not None and Path(path).suffix == ".ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["codegen_ui"]["title"] == "My <work>"
    script = Path(c.export("k", "py") or "").read_text()
    assert script.startswith("# Import libraries.") and "# set b\nb = a + 1\n" in script
    view = c.upload("other", path)
    other = c.workspaces.get("other")
    assert "Opened 2 turns" in view.notebook and other.saved.title == "My <work>"
    assert other.saved.id not in (None, ws.saved.id)
    assert other.session.prompt_for("next", 32).text == ws.session.prompt_for("next", 32).text
    junk = tmp_path / "junk.ipynb"
    junk.write_text("{not json")
    assert "not" in c.upload("other", str(junk)).notebook
    assert len(other.session.turns) == 2  # a bad upload leaves the session alone
    # Open the first session in a fresh tab: same turns, same prompt, fresh kernel.
    view = c.open_session("third", ws.saved.id)
    third = c.workspaces.get("third")
    assert third.saved.id == ws.saved.id and "Replay all" in view.notebook
    assert third.session.prompt_for("x", 32).text == ws.session.prompt_for("x", 32).text


def test_new_copy_delete_and_who_may_change_what(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    c = make(tmp_path, ScriptedModel().enqueue("a = 1\n", "b = 2\n"), guarded=True)
    controllers.append(c)
    last(c.submit("teacher", "set a", GREEDY))
    lesson = c.workspaces.get("teacher").saved.id
    assert lesson is not None
    # A student opening the teacher's session gets a copy; the original cannot be changed.
    view = c.open_session("student", lesson)
    student = c.workspaces.get("student")
    assert "opened a copy" in view.notebook and student.saved.id != lesson
    assert "only sessions made in this tab" in c.delete_session("student", lesson).notebook
    c.open_session("student", lesson)
    last(c.submit("student", "set b", GREEDY))
    assert len(c.shelf.store.load(lesson)[0]) == 1  # the teacher's session is unchanged
    copy = c.duplicate_session("student")
    assert "copy" in copy.notebook and student.saved.id not in (None, lesson)
    view = c.delete_session("student", student.saved.id)
    assert (
        "to the trash" in view.notebook and student.saved.id is None and not student.session.turns
    )
    view = c.new_session("teacher")
    assert c.workspaces.get("teacher").saved.id is None
    assert c.workspaces.get("teacher").session.turns == []
    assert "Pick a session" in c.open_session("teacher", None).notebook


class SleepyKernel(EchoKernel):
    """Runs until interrupted, like `while True: pass`, then reports the interrupt."""

    def __init__(self) -> None:
        super().__init__()
        self.running = threading.Event()
        self.stop_now = threading.Event()
        self.finished = threading.Event()
        self.shut_down_mid_run = False

    def run(self, code: str, timeout: float = 30.0, on_output: Any = None) -> RunResult:
        if code == PREAMBLE:
            return super().run(code, timeout, on_output)
        self.running.set()
        self.stop_now.wait(30)
        self.finished.set()
        out = nbformat.v4.new_output("error", ename="KeyboardInterrupt", evalue="", traceback=[])
        return RunResult("error", (out,), None, 0.1)

    def interrupt(self) -> None:
        super().interrupt()
        self.stop_now.set()

    def shutdown(self, keep_folder: bool = False) -> None:
        self.shut_down_mid_run = self.running.is_set() and not self.finished.is_set()
        super().shutdown(keep_folder)


def test_closing_a_tab_mid_run_stops_the_run_before_the_kernel_goes(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    pool = EchoPool(make=SleepyKernel)
    c = make(tmp_path, ScriptedModel().enqueue("loop()\n"), pool=pool)
    controllers.append(c)
    views: list[View] = []
    worker = threading.Thread(target=lambda: views.extend(c.submit("k", "spin", GREEDY)))
    worker.start()
    kernel = c.workspaces.get("k").kernel.kernel
    assert isinstance(kernel, SleepyKernel) and kernel.running.wait(10)
    c.close_page("k")
    worker.join(10)
    assert not worker.is_alive() and kernel.count("interrupt") == 1 and not kernel.is_alive
    assert not kernel.shut_down_mid_run
    assert 'data-status="stopped"' in views[-1].notebook and pool.live == []


def test_fix_on_a_failed_cell_runs_the_models_correction_and_undo_brings_the_failure_back(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    model = ScriptedModel().enqueue("x = 41\n", "print(X + 1)\n", "print(x + 1)\n")
    c = make(tmp_path, model, pool=real_kernels())
    controllers.append(c)
    last(c.submit("k", "set x", GREEDY))
    view = last(c.submit("k", "print x plus one", GREEDY))
    # Fix is offered on the cell that raised, and on no other.
    assert view.notebook.count('data-action="fix"') == 1
    assert 'data-cell="2" data-status="error"' in view.notebook
    view = last(press(c, "k", "fix", 2))
    ws = c.workspaces.get("k")
    fixed = ws.session.turns[1]
    assert fixed.code == "print(x + 1)\n" and fixed.status == "ok" and fixed.fixes == 1
    assert "NameError: name &#x27;X&#x27; is not defined" not in view.notebook
    assert 'data-fixes="1"' in view.notebook and "fixed · 1 try" in view.notebook
    assert 'data-action="fix"' not in view.notebook
    assert "# The code `print(X + 1)` raised NameError" in model.calls[-1][0]
    view = c.undo("k")
    assert ws.session.turns[1].code == "print(X + 1)\n" and 'data-action="fix"' in view.notebook
    turns, _ = c.shelf.store.load(ws.saved.id)  # the fix count is saved
    assert turns[1].fixes == 0
    view = c.redo("k")
    assert c.shelf.store.load(ws.saved.id)[0][1].fixes == 1


def test_auto_fix_is_the_settings_on_every_turn_of_the_page(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    model = ScriptedModel().enqueue("print(a)\n", "print(b)\n", "print(c)\n", "print(d)\n")
    c = make(tmp_path, model, pool=real_kernels(), auto_fix=2)
    controllers.append(c)
    view = last(c.submit("k", "print a", GREEDY))
    turn = c.workspaces.get("k").session.turns[0]
    assert len(model.calls) == 3 and turn.fixes == 2 and turn.status == "error"
    assert "still failing after 2 tries" in view.notebook


def test_the_prompt_tab_shows_the_kernels_state_when_it_is_given(
    tmp_path: Path, controllers: list[Controller]
) -> None:
    model = ScriptedModel().enqueue("x = 41\n", "y = x + 1\n")
    c = make(tmp_path, model, pool=real_kernels(), kernel_state=True)
    controllers.append(c)
    last(c.submit("k", "set x", GREEDY))
    view = last(c.submit("k", "set y", GREEDY))
    assert model.calls[1][0].endswith('"""The kernel holds:\nx: int, 41\n"""\n# set y\n')
    assert view.prompt.endswith('"""The kernel holds:\nx: int, 41\n"""\n# ' + NEXT + "\n")
    assert "the kernel's state is as read before the last turn" in view.prompt_info
