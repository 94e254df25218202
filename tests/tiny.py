"""Build a tiny CodeGen checkpoint on disk: random weights from a fixed seed and a byte-level
BPE tokenizer trained in a second, saved with `save_pretrained` like a real one. The app then
loads it through its own loader, so the real transformers path runs in tests without a download.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from pathlib import Path

EOS = "<|endoftext|>"


def _corpus() -> list[str]:
    # Python source and MTPB-like comments: enough for merges on code-ish text.
    lines = inspect.getsource(textwrap).splitlines() + inspect.getsource(json).splitlines()
    lines += [
        "# Import libraries.",
        "import numpy as np",
        "# Write a function that adds two numbers.",
        "def add(a, b):",
        "    return a + b",
        "print(add(1, 2))",
    ]
    return [line + "\n" for line in lines]


def build_tokenizer(path: Path, vocab_size: int = 400) -> int:
    """Train and save the tokenizer; returns its size."""
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
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, bos_token=EOS)
    fast.save_pretrained(path)
    return len(fast)


def build_tiny_model(path: Path, seed: int = 0) -> Path:
    """Write a tiny CodeGen model folder at `path` and return it."""
    import torch
    from transformers import CodeGenConfig, CodeGenForCausalLM

    path.mkdir(parents=True, exist_ok=True)
    size = build_tokenizer(path)
    eos_id = 0  # the first special token trained gets id 0
    config = CodeGenConfig(
        # Like the real model, the embedding has more rows than the tokenizer has tokens.
        vocab_size=size + 32,
        n_positions=512,
        n_ctx=512,
        n_embd=64,
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
