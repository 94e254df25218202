"""A transformers KV cache that grows in place, can be cropped, copied and measured.

transformers' `DynamicLayer` appends each new token with `torch.cat`, copying the whole cache
of every layer per token: at a 1,500-token history that is ~240 MB of copying per token for
codegen-350M, more than the int8 weights themselves. `GrowingLayer` keeps a buffer with spare
room (grown 256 tokens at a time) and hands attention views of its filled part, so appending
one token writes one token. Imported only by the transformers backend (it imports torch and
transformers).
"""

from __future__ import annotations

from typing import Any, cast

import torch
from transformers.cache_utils import Cache, DynamicLayer

_STEP = 256  # buffers grow to a multiple of this many tokens


class GrowingLayer(DynamicLayer):
    """A DynamicLayer over a preallocated buffer: `keys`/`values` are views of its filled part."""

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        super().lazy_initialization(key_states, value_states)
        shape = (*key_states.shape[:-2], 0, key_states.shape[-1])
        self._kbuf = key_states.new_empty(shape)
        self._vbuf = value_states.new_empty(shape)
        self.keys, self.values = self._kbuf, self._vbuf
        self.length = 0

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        start, end = self.length, self.length + key_states.shape[-2]
        if end > self._kbuf.shape[-2]:
            # Up to the next multiple of 256 tokens: a copy per 256 tokens is cheap, and
            # doubling would leave up to half of a 300 MB cache (codegen-350M) unused.
            self._reserve(end)
        self._kbuf[..., start:end, :] = key_states
        self._vbuf[..., start:end, :] = value_states
        self._set_length(end)
        return self._kbuf[..., :end, :], self._vbuf[..., :end, :]

    def _reserve(self, tokens: int) -> None:
        tokens = -(-tokens // _STEP) * _STEP
        for name in ("_kbuf", "_vbuf"):
            old = getattr(self, name)
            new = old.new_empty((*old.shape[:-2], tokens, old.shape[-1]))
            new[..., : self.length, :] = old[..., : self.length, :]
            setattr(self, name, new)

    def _set_length(self, length: int) -> None:
        self.length = length
        self.keys = self._kbuf[..., :length, :]
        self.values = self._vbuf[..., :length, :]

    def get_seq_length(self) -> int:
        return self.length if self.is_initialized else 0

    def crop(self, tokens_to_remove: int) -> None:
        if self.is_initialized and tokens_to_remove < 0:
            self._set_length(max(0, self.length + tokens_to_remove))

    def reset(self) -> None:
        super().reset()
        self.length = 0

    def nbytes(self) -> int:
        if not self.is_initialized:
            return 0
        return int(self._kbuf.nbytes + self._vbuf.nbytes)


def new_cache(n_layers: int) -> Cache:
    return Cache(layers=[GrowingLayer() for _ in range(n_layers)])


def layers(cache: Cache) -> list[GrowingLayer]:
    """The layers of a cache made by `new_cache`."""
    return cast("list[GrowingLayer]", cache.layers)


def seq_length(cache: Cache) -> int:
    """Tokens the cache holds (transformers' own caches too: 0 while they have no layers)."""
    return int(cache.get_seq_length())


def crop_to(cache: Cache, length: int) -> None:
    """Keep the first `length` tokens of every layer (in place)."""
    for layer in layers(cache):
        layer.crop(length - layer.get_seq_length())


def copy_prefix(cache: Cache, length: int) -> Cache:
    """A new cache holding a copy of the first `length` tokens; the original is untouched."""
    copy = new_cache(len(cache.layers))
    for src, dst in zip(layers(cache), layers(copy), strict=True):
        if src.is_initialized and length > 0:
            dst.update(src._kbuf[..., :length, :], src._vbuf[..., :length, :])
    return copy


def cache_nbytes(cache: Cache) -> int:
    return sum(layer.nbytes() for layer in layers(cache))


def own_cache(config: Any) -> Cache:
    """transformers' own cache for a model of any family (the one-at-a-time path)."""
    from transformers import DynamicCache

    return DynamicCache(config=config)
