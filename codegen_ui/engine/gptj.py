"""Rewrite a CodeGen checkpoint as a GPT-J one, so serving engines that know GPT-J (vLLM) run it.

CodeGen is GPT-J with one difference that matters: its attention projects queries, values and
keys with one fused `qkv_proj`, whose output rows are laid out for a 4-way model-parallel TPU
mesh: 4 shards, each holding [query | value | key] for a quarter of the heads. GPT-J has
separate `q_proj`, `k_proj`, `v_proj` with the heads in order. Taking, for each of query, value
and key, its rows from the 4 shards in order gives exactly GPT-J's matrices (the same
permutation the public CodeGen-to-GPT-J converters use). Every other weight has the same name
and shape in both models. The tokenizer and generation settings are copied as they are.
It converts files; it does not load a model for generation or check the result (the tests do).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from codegen_ui.engine.options import ModelLoadError, require_local
from codegen_ui.errors import first_line

MP_NUM = 4  # the shards of CodeGen's fused qkv_proj (fixed in its modelling code)


class ConvertError(ModelLoadError):
    """The source is not a CodeGen checkpoint, or the target cannot be written."""


def split_qkv(qkv: Any, n_embd: int) -> tuple[Any, Any, Any]:
    """CodeGen's fused (3*n_embd, n_embd) qkv_proj weight as GPT-J's q, k, v weights."""
    local = n_embd // MP_NUM
    # Rows: shard s, then part (0 query, 1 value, 2 key), then `local` rows of that part.
    shards = qkv.reshape(MP_NUM, 3, local, qkv.shape[-1])
    query, value, key = (shards[:, part].reshape(n_embd, -1) for part in range(3))
    return query.contiguous(), key.contiguous(), value.contiguous()


def gptj_state_dict(state: dict[str, Any], n_embd: int) -> dict[str, Any]:
    """The GPT-J weights of a CodeGen state dict (split qkv_proj; every other name kept)."""
    out: dict[str, Any] = {}
    for name, tensor in state.items():
        if name.endswith("attn.qkv_proj.weight"):
            stem = name.removesuffix("qkv_proj.weight")
            q, k, v = split_qkv(tensor, n_embd)
            out[stem + "q_proj.weight"], out[stem + "k_proj.weight"] = q, k
            out[stem + "v_proj.weight"] = v
        elif not name.endswith(("attn.causal_mask", "attn.masked_bias", "embed_positions")):
            out[name] = tensor.contiguous()
    return out


def gptj_config(cg: Any) -> Any:
    from transformers import GPTJConfig

    config = GPTJConfig(
        vocab_size=cg.vocab_size,
        n_positions=cg.n_positions,
        n_embd=cg.n_embd,
        n_layer=cg.n_layer,
        n_head=cg.n_head,
        rotary_dim=cg.rotary_dim,
        n_inner=cg.n_inner,
        activation_function=cg.activation_function,
        resid_pdrop=cg.resid_pdrop,
        embd_pdrop=cg.embd_pdrop,
        attn_pdrop=cg.attn_pdrop,
        layer_norm_epsilon=cg.layer_norm_epsilon,
        initializer_range=cg.initializer_range,
        bos_token_id=cg.bos_token_id,
        eos_token_id=cg.eos_token_id,
        tie_word_embeddings=False,
    )
    config.architectures = ["GPTJForCausalLM"]
    config.dtype = getattr(cg, "dtype", None) or getattr(cg, "torch_dtype", None)
    return config


def convert_to_gptj(src: str, dst: Path) -> Path:
    """Write the GPT-J form of the CodeGen model `src` (folder or hub id) into folder `dst`."""
    require_local(f"converting {src!r}", "torch", "transformers")
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoTokenizer, CodeGenForCausalLM, GenerationConfig

    try:
        cg = AutoConfig.from_pretrained(src)
    except (OSError, ValueError) as exc:
        raise ConvertError(f"cannot read a model config from {src!r} ({first_line(exc)})") from None
    if cg.model_type != "codegen":
        raise ConvertError(
            f"{src!r} is a {cg.model_type!r} model, not CodeGen: only CodeGen needs converting "
            f"(vLLM serves {cg.model_type!r} models as they are, if it knows the family)"
        )
    if cg.n_head % MP_NUM:
        raise ConvertError(f"{src!r} has {cg.n_head} heads, not a multiple of {MP_NUM}")
    if dst.exists() and any(dst.iterdir()):
        raise ConvertError(f"{dst} exists and is not empty; choose a new folder")
    model = CodeGenForCausalLM.from_pretrained(src, dtype="auto")
    tokenizer = AutoTokenizer.from_pretrained(src)
    dst.mkdir(parents=True, exist_ok=True)
    state = gptj_state_dict(model.state_dict(), cg.n_embd)
    save_file(state, str(dst / "model.safetensors"), metadata={"format": "pt"})
    gptj_config(model.config).save_pretrained(dst)
    with contextlib.suppress(OSError):  # a checkpoint may have no generation_config.json
        GenerationConfig.from_pretrained(src).save_pretrained(dst)
    tokenizer.save_pretrained(dst)
    return dst
