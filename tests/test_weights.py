"""The layer-by-layer int8 loader (`engine.weights.load_int8`): the same model as loading the
float32 checkpoint whole and converting it, bit for bit, without holding the float32 copy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")


def whole_then_converted(folder: Path):  # type: ignore[no-untyped-def]
    """The old path: the float32 model whole, then `make_fast`."""
    from transformers import AutoModelForCausalLM

    from codegen_ui.engine.weights import make_fast

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    assert make_fast(model, "cpu").startswith("int8")
    return model


def layer_by_layer(folder: Path):  # type: ignore[no-untyped-def]
    from transformers import AutoConfig

    from codegen_ui.engine.weights import load_int8, make_fast

    loaded = load_int8(folder, AutoConfig.from_pretrained(folder))
    assert loaded is not None
    model = loaded[0]
    assert make_fast(model, "cpu").startswith("int8")
    return model


def logits(model, ids: list[int]):  # type: ignore[no-untyped-def]
    with torch.inference_mode():
        return model(input_ids=torch.tensor([ids])).logits


def test_layer_by_layer_gives_the_same_logits_bit_for_bit(tiny_model_dir: Path) -> None:
    ids = list(range(3, 40))
    old, new = whole_then_converted(tiny_model_dir), layer_by_layer(tiny_model_dir)
    assert torch.equal(logits(old, ids), logits(new, ids))
    assert not any(type(m) is torch.nn.Linear for m in new.modules())


def test_a_tied_embedding_is_loaded_and_the_head_quantised(tmp_path: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=300,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(tmp_path)
    keys = json.loads((tmp_path / "model.safetensors").read_bytes()[8:].split(b"}}")[0] + b"}}")
    assert "lm_head.weight" not in keys  # tied: stored once, as the embedding
    ids = list(range(5, 50))
    old, new = whole_then_converted(tmp_path), layer_by_layer(tmp_path)
    assert torch.equal(logits(old, ids), logits(new, ids))


def test_no_safetensors_file_means_the_usual_loader(tmp_path: Path, tiny_model_dir: Path) -> None:
    from transformers import AutoConfig

    from codegen_ui.engine.weights import load_int8

    assert load_int8(tmp_path, AutoConfig.from_pretrained(tiny_model_dir)) is None


def test_the_fast_cpu_load_never_holds_the_float32_model(tiny_model_dir: Path) -> None:
    """Peak resident memory of loading in a fresh child, against the old path's, on a model
    big enough (about 120 MB of float32 linear weights) for the difference to show."""
    from transformers import CodeGenConfig, CodeGenForCausalLM

    folder = tiny_model_dir.parent / "wide-for-peak"
    if not (folder / "model.safetensors").exists():
        config = CodeGenConfig(
            vocab_size=2048,
            n_positions=64,
            n_ctx=64,
            n_embd=768,
            n_layer=4,
            n_head=4,
            rotary_dim=8,
        )
        torch.manual_seed(0)
        CodeGenForCausalLM(config).save_pretrained(folder)
    script = """
import sys
from pathlib import Path
import psutil
from transformers import AutoConfig
import torch
from codegen_ui.engine import weights
folder = Path(sys.argv[1])
base = psutil.Process().memory_info().rss / 1024  # KiB, as VmHWM
if sys.argv[2] == "whole":
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, disable_mmap=True)
    weights.make_fast(m, "cpu")
else:
    m = weights.load_int8(folder, AutoConfig.from_pretrained(folder))[0]
    weights.make_fast(m, "cpu")
# VmHWM, not ru_maxrss: after fork and exec ru_maxrss starts at the parent's (pytest's) peak.
hwm = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:"))
print((hwm - base) / 1024)
"""
    peaks = {}
    for how in ("whole", "layers"):
        out = subprocess.run(
            [sys.executable, "-c", script, str(folder), how],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks[how] = float(out.stdout.strip().splitlines()[-1])
    linear_mib = (4 * 12 * 768 * 768 + 768 * 2048) * 4 / 2**20  # 4 layers and the head, float32
    # The old path holds every float32 weight at once; the new one at most one layer's.
    assert peaks["whole"] - peaks["layers"] > 0.5 * linear_mib, peaks
