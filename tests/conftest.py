"""Shared fixtures: the tiny real model (built once per test run) and the scripted fake."""

from __future__ import annotations

import gc
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import ScriptedModel
from tests.tiny import build_tiny_model

# The checkout's sibling shared/ folder; SHARED_DATA_DIR points elsewhere (a worktree, say).
SHARED_DATA = Path(
    os.environ.get("SHARED_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
)


@pytest.fixture(scope="session", autouse=True)
def _app_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The app's cache (dequantised .gguf folders) in a temporary folder, not the home's."""
    from codegen_ui.engine.ggufcache import CACHE_VAR

    old = os.environ.get(CACHE_VAR)
    folder = tmp_path_factory.mktemp("app-cache")
    os.environ[CACHE_VAR] = str(folder)
    yield folder
    if old is None:
        os.environ.pop(CACHE_VAR, None)
    else:
        os.environ[CACHE_VAR] = old


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-codegen")


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from codegen_ui.engine import load_model

    return load_model(str(tiny_model_dir), device="cpu", precision="exact")


@pytest.fixture
def scripted() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
def kernel() -> Iterator[object]:
    from codegen_ui.kernel import Kernel

    with Kernel() as k:
        yield k


@pytest.fixture(autouse=True, scope="module")
def _collect_gradio_loops() -> Iterator[None]:
    # Building a gr.Blocks in-process leaves asyncio event loops (and their sockets) unclosed:
    # Gradio's own, not ours. Collected later, in whatever test runs a gc (the fast loader does),
    # they would fail that test; so a module that built one collects them as it ends.
    yield
    if "gradio" in sys.modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@pytest.fixture(autouse=True)
def _sessions_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing a test does may write into the real sessions/ folder.
    monkeypatch.setenv("CODEGEN_UI_SESSIONS_DIR", str(tmp_path / "sessions"))


@pytest.fixture
def mtpb_path() -> Path:
    path = SHARED_DATA / "mtpb.jsonl"
    if not path.exists():
        pytest.skip("../shared/data/mtpb.jsonl is not present in this checkout")
    return path


# The browser tests' own fixtures: each browser test module defines its `app` (a server of its
# own); these give it one Chromium and a fresh tab per test, whose console must stay clean.
@pytest.fixture(scope="module")
def browser(app: Any) -> Iterator[Any]:
    from tests.browserkit import chromium

    yield from chromium()


@pytest.fixture
def tab(browser: Any, app: Any) -> Iterator[Any]:
    from tests.browserkit import Tab

    t = Tab(browser, app.url, alive=app.alive)
    yield t
    assert t.problems == [], "the browser console reported problems"
    t.close()
