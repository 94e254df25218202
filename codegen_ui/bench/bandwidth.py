"""The physical limit of decoding: the machine's memory bandwidth, and the bytes a token reads.

Decoding one token of one stream reads every weight once (less the embedding table, of which
one row is read), so tokens/s cannot exceed bandwidth / bytes per token. `copy_bandwidth`
measures the bandwidth as STREAM's Copy does: a buffer far larger than the caches copied into
another, counted as the bytes read plus the bytes written, the best of a few copies, on a given
number of torch threads (the bytes a token reads are the engine's to count:
`engine.weight_bytes_per_token`). Used by the benchmark child (`work`); it decides nothing.
"""

from __future__ import annotations

import time

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
