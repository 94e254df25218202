"""Tiny random models of any causal-LM family transformers ships, built offline.

`tiny_config(model_type, vocab)` takes the family's default config (`AutoConfig.for_model`) and
shrinks every size it names that we know (width 64, 2 layers, 4 heads of 16, 2 key heads,
4 experts of which 2 per token, 512 positions, the tokenizer's vocabulary); `build(path,
model_type)` writes such a model with the byte-level tokenizer of `tests.tiny` and
`save_pretrained`, as a real checkpoint. A family that cannot be built this way raises
`Unbuildable` with the reason (the test lists it). It knows nothing of the engine.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

from codegen_ui.bench.randommodel import build_tokenizer

WIDTH, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN = 64, 2, 4, 2, 16, 128
MAX_PARAMS = 8_000_000  # a family past this when shrunk has sizes under names we do not know

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
    **dict.fromkeys(["rotary_dim"], 8),
    # multi-head latent attention (DeepSeek's and its heirs') and grouped expert routing
    **dict.fromkeys(["kv_lora_rank", "q_lora_rank"], 32),
    **dict.fromkeys(["qk_rope_head_dim", "qk_nope_head_dim"], 8),
    **dict.fromkeys(["v_head_dim"], HEAD_DIM),
    **dict.fromkeys(["n_group", "topk_group"], 1),
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
    try:
        composite = default.get_text_config() is not default
    except ValueError:  # several text configs (an encoder's and a decoder's)
        composite = True
    if composite:
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
    path.mkdir(parents=True, exist_ok=True)
    size = _tokenizer_into(path)
    model = tiny_model(model_type, size, seed, **extra)
    try:
        model.save_pretrained(path)
    except Exception as exc:
        raise Unbuildable(f"cannot save: {type(exc).__name__}: {exc}") from None
    return path


def tiny_model(
    model_type: str, vocab: int = 400, seed: int = 0, checked: bool = True, **extra: Any
) -> Any:
    """The tiny random float32 model itself (weights from `seed`), in evaluation mode.
    `checked`: sized on the meta device first and run once (skip for a family known to build)."""
    import torch
    from transformers import AutoModelForCausalLM

    config = tiny_config(model_type, vocab, **extra)
    try:
        if checked:
            with torch.device("meta"):  # sized first: some sizes have names we do not shrink
                meta = AutoModelForCausalLM.from_config(config)
            params = sum(p.numel() for p in meta.parameters())
            if params > MAX_PARAMS:
                raise Unbuildable(f"still {params / 1e6:.1f}M parameters when shrunk")
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config).eval()
    except Unbuildable:
        raise
    except Exception as exc:
        raise Unbuildable(f"cannot build: {type(exc).__name__}: {exc}") from None
    if not checked:
        return model
    try:
        with torch.inference_mode():
            model(input_ids=torch.tensor([[1, 2, 3, 4]]), use_cache=False)
    except Exception as exc:
        raise Unbuildable(f"its float32 forward fails: {type(exc).__name__}: {exc}") from None
    return model


@functools.cache
def _trained_tokenizer() -> tuple[Path, int]:
    """The byte-level tokenizer, trained once per process (a second or so) and copied after."""
    folder = Path(tempfile.mkdtemp(prefix="tiny-tokenizer-"))
    return folder, build_tokenizer(folder, vocab_size=400)


def _tokenizer_into(path: Path) -> int:
    folder, size = _trained_tokenizer()
    for file in folder.iterdir():
        shutil.copy(file, path / file.name)
    return size
