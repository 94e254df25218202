"""The physical limit of decoding: the machine's memory bandwidth, and the bytes a token reads.

Decoding one token of one stream reads every weight once (less the embedding table, of which
one row is read), so tokens/s cannot exceed bandwidth / bytes per token. `copy_bandwidth`
measures the bandwidth as STREAM's Copy does: a buffer far larger than the caches copied into
another, counted as the bytes read plus the bytes written, the best of a few copies, on a given
number of torch threads. `weight_bytes_per_token` counts a loaded model's bytes. Used by the
benchmark child (`work`); it decides nothing.
"""

from __future__ import annotations

import time
from typing import Any

COPY_MIB = 256  # each of the two buffers: 16 times this machine's L3 cache


def copy_bandwidth(threads: int, mib: int = COPY_MIB, repeats: int = 5) -> float:
    """Bytes per second of a large copy on `threads` torch threads, the best of `repeats`."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        src = torch.ones(mib * 2**20 // 4, dtype=torch.float32)
        dst = torch.empty_like(src)
        dst.copy_(src)  # pages touched before timing
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            dst.copy_(src)
            best = min(best, time.perf_counter() - start)
        return 2 * src.numel() * src.element_size() / best
    finally:
        torch.set_num_threads(before)


def weight_bytes_per_token(model: Any) -> int:
    """Bytes of the torch model's parameters and buffers one decode step reads: all of them
    but the input embedding table, of which one row (a head tied to the table reads all of it,
    and is counted as its own layer where it has an int8 copy)."""
    tensors = {id(t): t for t in [*model.parameters(), *model.buffers()]}
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    table = getattr(model.get_input_embeddings(), "weight", None)
    if table is not None and id(table) in tensors:
        head = getattr(model.get_output_embeddings(), "weight", None)
        if head is not table:  # not tied: only the token's row of the table is read
            total -= table.numel() * table.element_size()
            total += table.shape[-1] * table.element_size()
    return int(total)
