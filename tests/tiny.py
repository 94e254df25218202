"""Build a tiny CodeGen checkpoint on disk: random weights from a fixed seed and a byte-level
BPE tokenizer trained in a second, saved with `save_pretrained` like a real one. The app then
loads it through its own loader, so the real transformers path runs in tests without a download.
The tokenizer is the benchmark model's recipe (`codegen_ui.bench.model`) with a small vocabulary.
"""

from __future__ import annotations

from pathlib import Path

from codegen_ui.bench.model import build_tokenizer


def build_tiny_model(path: Path, seed: int = 0, padding_rows: int = 32, n_embd: int = 64) -> Path:
    """Write a tiny CodeGen model folder at `path` and return it.

    `padding_rows`: embedding rows past the tokenizer. The in-process engine never samples them;
    a server cannot be told not to, so server tests use a model without them. `n_embd` over 4
    heads: vLLM's CPU attention wants heads of 32 values or more (n_embd 128 and up).
    """
    import torch
    from transformers import CodeGenConfig, CodeGenForCausalLM

    path.mkdir(parents=True, exist_ok=True)
    size = build_tokenizer(path, vocab_size=400)
    eos_id = 0  # the first special token trained gets id 0
    config = CodeGenConfig(
        # Like the real model, the embedding has more rows than the tokenizer has tokens.
        vocab_size=size + padding_rows,
        n_positions=512,
        n_ctx=512,
        n_embd=n_embd,
        n_layer=2,
        n_head=4,
        rotary_dim=8,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
    )
    torch.manual_seed(seed)
    model = CodeGenForCausalLM(config)
    model.save_pretrained(path)
    return path
