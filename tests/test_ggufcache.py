"""A .gguf is dequantised once: the folder is kept under the app's cache, keyed by the file's
hash, and a changed file gets a folder of its own. The dequantiser here is a stand-in that
writes what `save_pretrained` writes; `test_real_model.py` does it with the real file."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen_ui.engine.ggufcache import CACHE_VAR, cache_root, dequantised_folder


class Saved:
    def __init__(self, name: str) -> None:
        self.name = name

    def save_pretrained(self, folder: Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / self.name).write_text("{}")


def test_dequantised_once_then_read_from_the_cache(tmp_path: Path) -> None:
    source = tmp_path / "m.gguf"
    source.write_bytes(b"one")
    loads: list[int] = []

    def load() -> tuple[Saved, Saved]:
        loads.append(1)
        return Saved("tokenizer.json"), Saved("config.json")

    first = dequantised_folder(source, load, tmp_path / "cache")
    again = dequantised_folder(source, load, tmp_path / "cache")
    assert first == again and len(loads) == 1
    assert (first / "config.json").exists() and (first / "tokenizer.json").exists()
    assert first.parent == tmp_path / "cache" / "gguf" and first.name.startswith("m-")
    assert not list(first.parent.glob("*.partial"))
    source.write_bytes(b"two")  # a replaced file: dequantised again, into its own folder
    assert dequantised_folder(source, load, tmp_path / "cache") != first and len(loads) == 2


def test_the_cache_is_outside_the_repository(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CACHE_VAR, str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv(CACHE_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "codegen-ui"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root() == Path.home() / ".cache" / "codegen-ui"
