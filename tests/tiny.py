"""Build a tiny CodeGen checkpoint on disk: random weights from a fixed seed and a byte-level
BPE tokenizer trained in a second, saved with `save_pretrained` like a real one. The app then
loads it through its own loader, so the real transformers path runs in tests without a download.
The tokenizer is the benchmark model's recipe (`codegen_ui.bench.randommodel`) with a small
vocabulary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codegen_ui.bench.randommodel import build_tokenizer


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


# Special tokens of the SentencePiece-style tokenizer, in id order (as Llama's: 0, 1, 2), and a
# second end-of-turn token that the generation config names beside </s>.
SP_SPECIALS = ["<unk>", "<s>", "</s>", "<|eot|>"]


def build_sentencepiece_tokenizer(path: Path, vocab_size: int = 300) -> int:
    """Write a Llama-style tokenizer: `▁` for spaces (one put in front of a text), byte fallback
    for characters outside its small alphabet, <s> in front of every encoded text, and a
    decoder that drops the first `▁` of a sequence. Returns its size."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    from codegen_ui.bench.randommodel import corpus

    pre = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SP_SPECIALS, limit_alphabet=60, show_progress=False
    )
    draft = Tokenizer(models.BPE(unk_token="<unk>"))
    draft.pre_tokenizer = pre
    draft.train_from_iterator(corpus(), trainer=trainer)
    # The trained vocabulary, then one token per byte, which byte fallback spells text with.
    spec = draft.to_str()
    import json

    model = json.loads(spec)["model"]
    vocab: dict[str, int] = dict(model["vocab"])
    for byte in range(256):
        vocab.setdefault(f"<0x{byte:02X}>", len(vocab))
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    tok = Tokenizer(models.BPE(vocab, merges, unk_token="<unk>", byte_fallback=True))
    tok.add_special_tokens(SP_SPECIALS)
    tok.pre_tokenizer = pre
    tok.decoder = decoders.Sequence(
        [
            decoders.Replace("▁", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(content=" ", left=1, right=0),
        ]
    )
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    fast.save_pretrained(path)
    return len(fast)


# A small chat template for every tiny family, so the chat prompt format runs on each: roles as
# `### role` lines, each message ended by the tokenizer's end-of-turn text. Llama-style
# tokenizers get the BOS written by the template itself (as Llama's do) and `<|eot|>` to end a
# turn; gpt_neox's template has no system role (it raises, as Gemma's and Mistral's do).
CHAT_TEMPLATE = (
    "{{ lead }}{% for m in messages %}"
    "{% if m.role == 'system' and not system_role %}{{ raise_exception('no system role') }}"
    "{% endif %}### {{ m.role }}\n{{ m.content }}{{ end }}\n{% endfor %}"
    "{% if add_generation_prompt %}### assistant\n{% endif %}"
)


def add_chat_template(
    path: Path, lead: str = "", end: str = "<|endoftext|>", system: bool = True
) -> None:
    """Give the tokenizer saved at `path` a chat template (`CHAT_TEMPLATE`)."""
    import json

    config_file = path / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    template = CHAT_TEMPLATE.replace("{{ lead }}", lead).replace("{{ end }}", end)
    config["chat_template"] = template.replace("system_role", "true" if system else "false")
    config_file.write_text(json.dumps(config, indent=2))


# The families on the engine's batched path, and one that is not (OPT: its own attention and
# cache, one request at a time). Each config is tiny: 2 layers, 4 heads of 16, 512 positions.
FAMILIES = ["codegen", "gptj", "llama", "mistral", "qwen2", "starcoder2", "gpt_neox", "gpt_bigcode"]
FALLBACK_FAMILY = "opt"


def _family_config(family: str, vocab: int, bos: int, eos: int) -> Any:
    import transformers as tf

    ids = {"bos_token_id": bos, "eos_token_id": eos, "vocab_size": vocab}
    small = {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "max_position_embeddings": 512,
    }
    if family == "gptj":
        return tf.GPTJConfig(n_positions=512, n_embd=64, n_layer=2, n_head=4, rotary_dim=8, **ids)
    if family == "llama":  # grouped-query attention: 2 key heads for 4 query heads
        return tf.LlamaConfig(num_key_value_heads=2, **small, **ids)
    if family == "mistral":  # a sliding window shorter than the tests' prompts
        return tf.MistralConfig(num_key_value_heads=2, sliding_window=24, **small, **ids)
    if family == "qwen2":  # biased q/k/v, grouped-query attention
        return tf.Qwen2Config(num_key_value_heads=2, **small, **ids)
    if family == "starcoder2":
        return tf.Starcoder2Config(num_key_value_heads=2, sliding_window=None, **small, **ids)
    if family == "gpt_neox":
        return tf.GPTNeoXConfig(rotary_pct=0.25, **small, **ids)
    if family == "gpt_bigcode":  # multi-query attention: one key head
        return tf.GPTBigCodeConfig(n_embd=64, n_layer=2, n_head=4, n_positions=512, **ids)
    if family == "opt":
        return tf.OPTConfig(
            hidden_size=64,
            ffn_dim=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=512,
            word_embed_proj_dim=64,
            pad_token_id=vocab - 1,
            **ids,
        )
    raise ValueError(f"no tiny config for {family!r}")


def build_tiny_family(path: Path, family: str, seed: int = 0) -> Path:
    """Write a tiny random model of `family` at `path`: the SentencePiece-style tokenizer for
    Llama and Mistral (with <s> and two end-of-turn ids), GPT-2-style byte BPE for the rest;
    each with a chat template (`add_chat_template`)."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    if family == "codegen":
        build_tiny_model(path, seed=seed)
        add_chat_template(path)
        return path
    path.mkdir(parents=True, exist_ok=True)
    if family in ("llama", "mistral"):
        size, bos, eos = build_sentencepiece_tokenizer(path), 1, 2
        eos_list: list[int] = [2, 3]
    else:
        size = build_tokenizer(path, vocab_size=400)
        bos = eos = 0
        eos_list = [0]
    config = _family_config(family, size, bos, eos)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config = GenerationConfig(
        bos_token_id=bos, eos_token_id=eos_list if len(eos_list) > 1 else eos_list[0]
    )
    model.save_pretrained(path)
    if family in ("llama", "mistral"):
        add_chat_template(path, lead="<s>", end="<|eot|>")
    else:
        add_chat_template(path, system=family != "gpt_neox")
    return path
