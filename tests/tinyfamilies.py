"""Tiny random models of any causal-LM family transformers ships, built offline.

`tiny_config(model_type, vocab)` takes the family's default config (`AutoConfig.for_model`) and
shrinks every size it names that we know (width 64, 2 layers, 4 heads of 16, 2 key heads,
4 experts of which 2 per token, 512 positions, the tokenizer's vocabulary); `build(path,
model_type)` writes such a model with the byte-level tokenizer of `tests.tiny` and
`save_pretrained`, as a real checkpoint. A family that cannot be built this way raises
`Unbuildable` with the reason (the test lists it). It knows nothing of the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codegen_ui.bench.randommodel import build_tokenizer

WIDTH, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN = 64, 2, 4, 2, 16, 128

# Config attributes, by what they size, set where the family's config has them.
SIZES: dict[str, int] = {
    **dict.fromkeys(["hidden_size", "n_embd", "d_model", "dim", "model_dim", "embed_dim"], WIDTH),
    **dict.fromkeys(["num_hidden_layers", "n_layer", "num_layers", "n_layers"], LAYERS),
    **dict.fromkeys(
        ["num_attention_heads", "n_head", "n_heads", "num_heads", "decoder_attention_heads"],
        HEADS,
    ),
    **dict.fromkeys(
        ["num_key_value_heads", "num_kv_heads", "n_kv_heads", "multi_query_group_num"], KV_HEADS
    ),
    **dict.fromkeys(["head_dim", "kv_channels", "attention_head_dim"], HEAD_DIM),
    **dict.fromkeys(
        ["intermediate_size", "ffn_dim", "n_inner", "ffn_hidden_size", "decoder_ffn_dim"], FFN
    ),
    **dict.fromkeys(
        ["moe_intermediate_size", "shared_expert_intermediate_size", "expert_ffn_hidden_size"],
        32,
    ),
    **dict.fromkeys(["num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts"], 4),
    **dict.fromkeys(["num_experts_per_tok", "moe_topk", "top_k_experts", "moe_k"], 2),
    **dict.fromkeys(["max_position_embeddings", "n_positions", "n_ctx", "seq_length"], 512),
    **dict.fromkeys(["decoder_layers"], LAYERS),
}


class Unbuildable(Exception):
    """This family's tiny model cannot be built offline; the message says why."""


def tiny_config(model_type: str, vocab: int, bos: int = 0, eos: int = 0, **extra: Any) -> Any:
    """The family's default config with every size we know of made tiny."""
    from transformers import AutoConfig

    try:
        default = AutoConfig.for_model(model_type)
    except Exception as exc:
        raise Unbuildable(f"no default config: {type(exc).__name__}: {exc}") from None
    if default.get_text_config() is not default:
        raise Unbuildable("a composite (vision, audio or speech) config")
    known = default.to_dict()
    sizes = {k: v for k, v in SIZES.items() if k in known}
    ids = {"vocab_size": vocab, "bos_token_id": bos, "eos_token_id": eos, "pad_token_id": eos}
    kwargs = {**sizes, **{k: v for k, v in ids.items() if k in known}, **extra}
    if "layer_types" in known:
        kwargs["layer_types"] = None  # derived again from the layer count
    try:
        return AutoConfig.for_model(model_type, **kwargs)
    except Exception as exc:
        raise Unbuildable(f"tiny config refused: {type(exc).__name__}: {exc}") from None


def build(path: Path, model_type: str, seed: int = 0, **extra: Any) -> Path:
    """Write a tiny random `model_type` model and a tokenizer at `path`."""
    import torch
    from transformers import AutoModelForCausalLM

    path.mkdir(parents=True, exist_ok=True)
    size = build_tokenizer(path, vocab_size=400)
    config = tiny_config(model_type, size, **extra)
    torch.manual_seed(seed)
    try:
        model = AutoModelForCausalLM.from_config(config)
        model.save_pretrained(path)
    except Exception as exc:
        raise Unbuildable(f"cannot build or save: {type(exc).__name__}: {exc}") from None
    return path
