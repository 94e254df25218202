"""The "fast" precision: smaller weights for a loaded torch model, converted in place.

On CPU, decoding one token reads every weight once, so it is bound by memory bandwidth:
int8 linear layers (PyTorch dynamic quantisation: int8 weights, activations quantised on the
fly per call) read a quarter of the bytes of float32, and the token embedding is kept in
float16 since only one row of it is read per token. On CUDA the model is already loaded in
float16. What it costs: int8 rounding changes the logits slightly, so greedy decoding can pick
a different token where the top two are close (the benchmark reports how often). The "exact"
precision (float32) never comes here. Imported only by the transformers backend.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import warnings
from typing import Any

import torch
from torch import nn


class HalfEmbedding(nn.Module):
    """An embedding stored in float16 that returns float32 rows."""

    def __init__(self, embedding: nn.Embedding) -> None:
        super().__init__()
        self.weight = nn.Parameter(embedding.weight.detach().half(), requires_grad=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return nn.functional.embedding(ids, self.weight).float()


def quantize_int8(model: nn.Module) -> bool:
    """Replace the model's nn.Linear layers by int8 dynamic ones; False if unavailable."""
    try:
        from torch.ao.quantization import quantize_dynamic
    except ImportError:  # the API is deprecated and will go away
        return False
    with warnings.catch_warnings():
        # "torch.ao.quantization is deprecated" and "quantized tensors are deprecated": known,
        # and guarded by the fallback above.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", r"torch\.quantize_per_tensor", UserWarning)
        try:
            quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8, inplace=True)
            _warm_up(model)
        except (RuntimeError, AssertionError):  # no int8 engine for this CPU
            return False
    return True


def _warm_up(model: nn.Module) -> None:
    """Run one int8 layer once, so any first-use deprecation warning of quantised ops is
    raised here, under the filter above, rather than in the middle of a user's turn."""
    for module in model.modules():
        width = getattr(module, "in_features", None)
        if isinstance(width, int) and hasattr(module, "_packed_params"):
            with torch.inference_mode():
                module(torch.zeros(1, width))
            return


def make_fast(model: Any, device: str) -> str:
    """Convert `model` in place for speed on `device`; returns a note for `describe()`."""
    if device.startswith("cuda"):
        return "float16"
    if not quantize_int8(model):
        return "float32: int8 quantisation is not available in this torch"
    embeddings = model.get_input_embeddings()
    if isinstance(embeddings, nn.Embedding):
        model.set_input_embeddings(HalfEmbedding(embeddings))
    release_freed_memory()
    return "int8 weights, float16 embedding"


def release_freed_memory() -> None:
    """Hand the float32 weights just freed back to the OS (glibc keeps freed heap otherwise)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
