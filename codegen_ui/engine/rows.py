"""Ragged batches in transformers' own models: one forward pass for rows of different lengths.

A decode step feeds B requests one token each, as (B, 1) input ids with per-row position ids
(rotary and learned position embeddings alike take their positions from them). Each request
keeps its own in-place KV cache (`kvcache.GrowingLayer`, shape (1, heads, L_i, dim));
`rows_cache` wraps them in one `Cache` whose layers write row i's new key and value into
request i's own layer and hand attention the per-row views, wrapped in `Rows`. The attention
function registered here runs sdpa row by row for `Rows`, so there is no padding, no mask
and no copy into or out of a batch; the linear layers, which are the cost at this size, run
batched.

For a plain tensor (one request's prompt chunk) it runs transformers' own sdpa, with the
causal mask aligned bottom-right when cached tokens precede the chunk. transformers builds no
mask for an attention function it has no mask function for, which is what we want for `Rows`.
Grouped-query and multi-query attention (fewer key heads than query heads) and a sliding
window (the `sliding_window` the model passes per layer) are applied here, in both cases.

This works for every family whose modelling code calls transformers' attention interface and
its cache's `update` per layer; `BATCHED` lists the families tested that way. Any other model
keeps its own attention and takes the engine's one-at-a-time path (`batched_family`).
Imported only by the transformers backend (it imports torch and transformers).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional
from transformers import AttentionInterface
from transformers.cache_utils import Cache, DynamicLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from codegen_ui.engine.kvcache import layers

ATTENTION = "codegen_ui_rows"

# model_type of the families tested on the batched path (tests/test_families.py); Mistral and
# Qwen2 with a sliding window included.
BATCHED = frozenset(
    {"codegen", "gptj", "llama", "mistral", "qwen2", "starcoder2", "gpt_neox", "gpt_bigcode"}
)


def batched_family(config: Any) -> bool:
    """Whether a model with this config takes the batched path."""
    return getattr(config.get_text_config(), "model_type", "") in BATCHED


class Rows:
    """The keys (or values) of one layer for each row of a decode step, each (1, H, L_i, D)."""

    def __init__(self, parts: list[torch.Tensor]) -> None:
        self.parts = parts


def rows_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor | Rows,
    value: torch.Tensor | Rows,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Attention output as (B, T, H, D), the layout transformers' attention functions return."""
    window = kwargs.pop("sliding_window", None) or 0
    if isinstance(key, Rows) and isinstance(value, Rows):
        # One query per row attends to all of that row's past (its last `window` tokens under
        # a sliding window): no mask needed.
        gqa = key.parts[0].shape[1] != query.shape[1]
        outs = [
            functional.scaled_dot_product_attention(
                query[i : i + 1],
                k[..., -window:, :] if window else k,
                v[..., -window:, :] if window else v,
                scale=scaling,
                enable_gqa=gqa,
            )
            for i, (k, v) in enumerate(zip(key.parts, value.parts, strict=True))
        ]
        return torch.cat(outs).transpose(1, 2).contiguous(), None
    assert isinstance(key, torch.Tensor) and isinstance(value, torch.Tensor)
    q_len, kv_len = query.shape[2], key.shape[2]
    if q_len > 1 and (kv_len > q_len or 0 < window < kv_len):
        # A chunk after cached tokens: query i sees keys up to its own absolute position (and,
        # under a sliding window, the `window` keys ending there, as transformers' mask does).
        i = torch.arange(q_len, device=query.device)[:, None] + (kv_len - q_len)
        j = torch.arange(kv_len, device=query.device)[None, :]
        attention_mask = (j <= i) & (j > i - window) if window else j <= i
    elif q_len == 1 and 0 < window < kv_len:
        key, value = key[..., -window:, :], value[..., -window:, :]
    out, _ = sdpa_attention_forward(
        module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
    )
    return out, None


AttentionInterface.register(ATTENTION, rows_attention)


class RowsLayer(DynamicLayer):
    """One model layer across the rows of a batch: routes each row to that row's own layer."""

    def __init__(self, row_layers: list[Any]) -> None:
        super().__init__()
        self.row_layers = row_layers
        self.is_initialized = True

    def update(  # type: ignore[override]
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[Rows, Rows]:
        keys, values = [], []
        for i, layer in enumerate(self.row_layers):
            k, v = layer.update(key_states[i : i + 1], value_states[i : i + 1])
            keys.append(k)
            values.append(v)
        return Rows(keys), Rows(values)

    def get_seq_length(self) -> int:
        return 0  # positions always come as explicit position ids

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return query_length, 0


def rows_cache(caches: list[Cache]) -> Cache:
    """One cache over the requests' own caches, for a decode step of those rows in order."""
    n_layers = len(caches[0].layers)
    per_row = [layers(c) for c in caches]
    return Cache(layers=[RowsLayer([row[j] for row in per_row]) for j in range(n_layers)])


def use_rows_attention(model: Any) -> None:
    """Switch a loaded model of a `BATCHED` family to the attention function above (in place)."""
    model.config._attn_implementation = ATTENTION
