"""A stand-in for Salesforce/codegen-350M-mono that needs no download: the benchmark's model.

The cost of a forward pass does not depend on the weight values, so the benchmark uses the exact
architecture of codegen-350M-mono (20 layers, width 1024, 16 heads, rotary 32, context 2048,
vocabulary 51200) with random weights from a fixed seed, plus a byte-level BPE tokenizer trained
in seconds on Python's own standard library, so prompts of code have plausible token counts. The
folder is written with `save_pretrained` and loaded through the app's own loader, like a real
checkpoint. It is cached on disk; nothing here is used when a real model is served.
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path
from typing import Any

EOS = "<|endoftext|>"
# The architecture of Salesforce/codegen-350M-mono (its config.json), without the weights.
CODEGEN_350M: dict[str, Any] = {
    "vocab_size": 51200,
    "n_positions": 2048,
    "n_ctx": 2048,
    "n_embd": 1024,
    "n_layer": 20,
    "n_head": 16,
    "rotary_dim": 32,
    "activation_function": "gelu_new",
    "tie_word_embeddings": False,
}


def default_dir() -> Path:
    """Where the synthetic checkpoint is cached: $CODEGEN_UI_CACHE or ~/.cache/codegen-ui."""
    root = os.environ.get("CODEGEN_UI_CACHE") or Path.home() / ".cache" / "codegen-ui"
    return Path(root) / "bench-codegen-350M-random"


def corpus() -> list[str]:
    """Python source from the standard library: code-like text to train merges on."""
    import argparse
    import dataclasses
    import json
    import textwrap
    import typing

    modules = (argparse, dataclasses, json, textwrap, typing)
    return [line + "\n" for m in modules for line in inspect.getsource(m).splitlines()]


def build_tokenizer(path: Path, vocab_size: int = 8000) -> int:
    """Train and save a byte-level BPE tokenizer (end-of-text is id 0); returns its size."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, bos_token=EOS, unk_token=EOS
    )
    fast.save_pretrained(path)
    return len(fast)


def build(path: Path | None = None, seed: int = 0) -> Path:
    """The synthetic checkpoint folder, built once (about a minute) and reused after."""
    import torch
    from transformers import CodeGenConfig, CodeGenForCausalLM

    path = path or default_dir()
    if (path / "config.json").exists():
        return path
    # Built beside and renamed into place, so an interrupted build is never taken for a model.
    partial = path.with_name(path.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    build_tokenizer(partial)
    config = CodeGenConfig(**CODEGEN_350M, bos_token_id=0, eos_token_id=0)
    torch.manual_seed(seed)
    CodeGenForCausalLM(config).save_pretrained(partial)
    shutil.rmtree(path, ignore_errors=True)  # an unfinished folder from an older build
    partial.rename(path)
    return path
