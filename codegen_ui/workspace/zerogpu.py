"""ZeroGPU: on a Hugging Face Space with ZeroGPU hardware, generation runs under `spaces.GPU`.

A ZeroGPU Space lends a GPU to a function decorated with `spaces.GPU` for as long as one call
runs. `gpu(fn)` is that decorator there (the Space sets `SPACES_ZERO_GPU`; the `spaces` package
is imported only then) and `fn` itself everywhere else, so nothing changes off a Space.
`SharedModel` (`workspace.gate`) wraps the writing of one turn with it, and nothing else:
kernels are processes of their own that never hold the GPU, and the page, the store and the
queue stay on the CPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
DURATION_S = 60  # the most seconds one turn's generation holds the lent GPU


def on_zerogpu(env: Mapping[str, str] | None = None) -> bool:
    """Whether this process runs on a ZeroGPU Space (the variable its runtime sets)."""
    value = (os.environ if env is None else env).get("SPACES_ZERO_GPU", "")
    return value.lower() in ("1", "t", "true")


def gpu(fn: F, env: Mapping[str, str] | None = None) -> F:
    """`fn` under `spaces.GPU` on a ZeroGPU Space; `fn` unchanged anywhere else."""
    if not on_zerogpu(env):
        return fn
    import spaces  # only on a Space, where the runtime provides it

    wrapped: F = spaces.GPU(duration=DURATION_S)(fn)
    return wrapped
