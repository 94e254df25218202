"""GGUF files dequantised once: an ordinary float32 model folder per file, kept in a cache.

transformers dequantises a `.gguf` into float weights on every load (seconds to minutes). The
first load here writes the result as a model folder (`save_pretrained`, with the tokenizer and
its chat template) under the cache folder, keyed by the SHA-256 of the file, so a changed or
replaced file gets a new folder and later starts read the folder like any model. The cache is
`$CODEGEN_UI_CACHE_DIR`, else `$XDG_CACHE_HOME/codegen-ui`, else `~/.cache/codegen-ui`: never
inside the repository. A folder is written beside its place and renamed into it, so a start
that is stopped half-way never leaves half a model. It knows nothing of precision or devices:
`hf` loads the folder as it loads any.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_VAR = "CODEGEN_UI_CACHE_DIR"


def cache_root() -> Path:
    """Where the app keeps what it derives from models (outside the repository)."""
    named = os.environ.get(CACHE_VAR)
    if named:
        return Path(named)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "codegen-ui"


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dequantised_folder(
    path: Path, load: Callable[[], tuple[Any, Any]], root: Path | None = None
) -> Path:
    """The model folder of a GGUF file: from the cache, or made now with `load` (which returns
    the dequantised tokenizer and model) and kept there."""
    folder = (root or cache_root()) / "gguf" / f"{path.stem}-{file_hash(path)[:16]}"
    if (folder / "config.json").exists():
        log.info("%s: its model folder is read from the cache, %s", path.name, folder)
        return folder
    start = time.perf_counter()
    tok, model = load()
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(partial)
    tok.save_pretrained(partial)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    log.info(
        "kept %s as a model folder at %s (%.1f s)", path.name, folder, time.perf_counter() - start
    )
    return folder
