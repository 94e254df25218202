"""The forward passes the engine thread runs, and picking a token from logits.

`Forward` wraps a loaded torch model: `prefill` feeds one chunk of one request's prompt into
its KV cache, `decode` feeds one token for each of several requests in one pass (a ragged
batch, see `codegen_ui.engine.rows`), and `pick` chooses the next token from one row of logits,
greedy or by temperature and top-p with the request's own seeded generator. Every call runs
under `torch.inference_mode()` and must come from the engine thread, which first calls
`enter_thread` to size its own torch thread pool: fixed by `OMP_NUM_THREADS`, else chosen
per kind of step by measuring (`threads.ThreadTuner`, the only state it keeps). It knows
nothing of queues, text or stopping. `OwnForward` is the path for a family the
ragged batch does not cover: the model's own attention and cache, one request at a time.
Imported only by the transformers backend.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable
from typing import Any

import torch

from codegen_ui.core import SamplingParams
from codegen_ui.engine.kvcache import seq_length
from codegen_ui.engine.rows import rows_cache, use_rows_attention
from codegen_ui.engine.threads import ThreadTuner, thread_candidates, usable_cores


def fixed_threads() -> int | None:
    """The torch threads the user fixed with `OMP_NUM_THREADS`; None: the engine measures
    (`threads.ThreadTuner`)."""
    if os.environ.get("OMP_NUM_THREADS"):
        return max(1, torch.get_num_threads())
    return None


class Forward:
    def __init__(self, model: Any, device: str, valid_vocab: int) -> None:
        self.model = model
        self.device = device
        self._threads_from_env()
        # Ids past the tokenizer's vocabulary are padding rows of the embedding: never sampled.
        self.valid_vocab = valid_vocab
        use_rows_attention(model)

    def _threads_from_env(self) -> None:
        # A fixed count (OMP_NUM_THREADS, or a benchmark's choice; 0: torch's default, all
        # cores), else None: measured per kind of step by the tuner.
        self.threads: int | None = fixed_threads()
        self.tuner = ThreadTuner(thread_candidates(usable_cores()))
        self._pool = 0  # the count torch's pool of the engine thread now has (0: unknown)

    def enter_thread(self) -> None:
        """Size the calling thread's torch pool (the pool is per thread: callers keep theirs)."""
        if self.threads:
            torch.set_num_threads(self.threads)

    def _timed(self, kind: Hashable, step: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Run `step` on the tuner's thread count for `kind` and tell it how long it took."""
        if self.threads is not None or self.device != "cpu":
            return step()
        n = self.tuner.choose(kind)
        if n != self._pool:
            torch.set_num_threads(n)
            self._pool = n
        start = time.perf_counter()
        out = step()
        self.tuner.record(kind, n, time.perf_counter() - start)
        return out

    def prefill(self, cache: Any, ids: list[int]) -> torch.Tensor:
        """Feed `ids` after what `cache` holds; the logits after the last of them."""
        # Chunks by powers of two: a prompt's last chunk is shorter than the others.
        kind = ("prefill", 1 << (len(ids) - 1).bit_length())
        return self._timed(kind, lambda: self._prefill(cache, ids))

    def decode(self, caches: list[Any], tokens: list[int]) -> torch.Tensor:
        """Feed token i after what caches[i] holds, all in one pass; logits as (B, vocab)."""
        return self._timed(("decode", len(caches)), lambda: self._decode(caches, tokens))

    def _prefill(self, cache: Any, ids: list[int]) -> torch.Tensor:
        start = seq_length(cache)
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.tensor([ids], device=self.device),
                position_ids=torch.arange(start, start + len(ids), device=self.device)[None],
                cache=cache,
                use_cache=True,
                logits_to_keep=1,
            )
            return out.logits[0, -1]

    def _decode(self, caches: list[Any], tokens: list[int]) -> torch.Tensor:
        with torch.inference_mode():
            positions = [[seq_length(c)] for c in caches]
            out = self.model(
                input_ids=torch.tensor(tokens, device=self.device)[:, None],
                position_ids=torch.tensor(positions, device=self.device),
                # One row needs no routing: its own cache, and plain sdpa in `rows_attention`.
                cache=caches[0] if len(caches) == 1 else rows_cache(caches),
                use_cache=True,
            )
            return out.logits[:, -1]

    def generator(self, seed: int | None) -> torch.Generator:
        generator = torch.Generator(device=self.device)
        generator.manual_seed(seed if seed is not None else 0)
        return generator

    def pick(self, logits: torch.Tensor, params: SamplingParams, generator: Any) -> int:
        with torch.inference_mode():
            logits = logits[: self.valid_vocab].float()
            if params.greedy:
                return int(torch.argmax(logits))
            probs = torch.softmax(logits / params.temperature, dim=-1)
            if 0 < params.top_k < probs.numel():
                # transformers' order: temperature, then top-k (ties with the k-th kept), then
                # top-p over what is left.
                probs[probs < torch.topk(probs, params.top_k).values[-1]] = 0.0
                probs = probs / probs.sum()
            sorted_probs, order = torch.sort(probs, descending=True)
            # Keep the smallest set of tokens whose mass reaches top_p (always at least one).
            outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > params.top_p
            sorted_probs[outside] = 0.0
            choice = torch.multinomial(sorted_probs / sorted_probs.sum(), 1, generator=generator)
            return int(order[choice])


class OwnForward(Forward):
    """One request at a time, through the model's own attention, masks and positions.

    For a family `rows` does not cover: nothing about its attention or cache is assumed
    beyond what `generate` itself relies on (a `cache` argument, logits out), so it is correct
    for any causal LM, and slower: one row per forward pass.
    """

    def __init__(self, model: Any, device: str, valid_vocab: int) -> None:
        # Not Forward's: the model keeps its own attention function.
        self.model = model
        self.device = device
        self._threads_from_env()
        self.valid_vocab = valid_vocab

    def _prefill(self, cache: Any, ids: list[int]) -> torch.Tensor:
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.tensor([ids], device=self.device), cache=cache, use_cache=True
            )
            return out.logits[0, -1]

    def _decode(self, caches: list[Any], tokens: list[int]) -> torch.Tensor:
        if len(caches) != 1:
            raise ValueError("this model's path decodes one request at a time")
        return self._prefill(caches[0], tokens)[None]
