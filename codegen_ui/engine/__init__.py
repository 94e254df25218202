"""The model seam: the contract (`api`) and the backends behind it, chosen by `load_model`.

Callers import from here: the protocol and its frozen types, and `load_model`, which imports
the transformers backend only when a model is loaded, so `import codegen_ui.engine` pulls no
torch or transformers. `TransformersModel` itself is offered lazily for tools that measure the
backend (the benchmark). Nothing outside this package imports its modules directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from codegen_ui.engine.api import (
    Activity,
    CodeModel,
    Delta,
    Event,
    Finished,
    GenerationError,
    ModelLoadError,
    SamplingParams,
    StopReason,
)

if TYPE_CHECKING:
    from codegen_ui.engine.hf import TransformersModel

__all__ = [
    "Activity",
    "CodeModel",
    "Delta",
    "Event",
    "Finished",
    "GenerationError",
    "ModelLoadError",
    "SamplingParams",
    "StopReason",
    "TransformersModel",
    "load_model",
]


def load_model(
    name_or_path: str,
    device: str = "auto",
    progress: Callable[[str], None] | None = None,
    precision: str = "fast",
    cache_mib: int = 512,
    batch_size: int = 16,
) -> CodeModel:
    """Load a transformers causal LM by hub id or local folder; raises ModelLoadError.

    `precision` is "fast" (int8 on CPU, float16 on CUDA) or "exact" (float32); `cache_mib`
    bounds the KV caches kept across turns (0: none); `batch_size` is the most generations
    the engine thread decodes together (1: one at a time, in arrival order).
    """
    from codegen_ui.engine.hf import TransformersModel

    return TransformersModel.load(
        name_or_path,
        device=device,
        progress=progress,
        precision=precision,
        cache_mib=cache_mib,
        batch_size=batch_size,
    )


def __getattr__(name: str) -> Any:
    # Lazy, so that importing the seam does not import torch.
    if name == "TransformersModel":
        from codegen_ui.engine.hf import TransformersModel

        return TransformersModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
