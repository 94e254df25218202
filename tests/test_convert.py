"""`convert gptj`: a CodeGen checkpoint rewritten as GPT-J computes the same logits."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen_ui.engine import ModelLoadError, convert_to_gptj


def test_gptj_form_of_the_tiny_model_gives_codegens_logits(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    import torch
    from transformers import AutoTokenizer, CodeGenForCausalLM, GPTJForCausalLM

    out = convert_to_gptj(str(tiny_model_dir), tmp_path / "gptj")
    codegen = CodeGenForCausalLM.from_pretrained(tiny_model_dir).eval()
    gptj = GPTJForCausalLM.from_pretrained(out).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    text = "# Import libraries.\n\nimport numpy as np\n\n# Print the sum.\nprint(1 + 2)\n"
    assert tokenizer.encode(text) == AutoTokenizer.from_pretrained(tiny_model_dir).encode(text)
    with torch.no_grad():
        # Larger weights make larger logits, so a wrong head order could not hide in rounding.
        for model in (codegen, gptj):
            for param in model.parameters():
                param.mul_(8)
        ids = torch.tensor([tokenizer.encode(text)] * 2)
        want, got = codegen(ids).logits, gptj(ids).logits
    assert want.abs().max() > 10
    assert (want - got).abs().max() < 1e-4


def test_convert_refuses_what_is_not_codegen(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = convert_to_gptj(str(tiny_model_dir), tmp_path / "gptj")
    with pytest.raises(ModelLoadError, match="is a 'gptj' model, not CodeGen"):
        convert_to_gptj(str(out), tmp_path / "again")
    with pytest.raises(ModelLoadError, match="exists and is not empty"):
        convert_to_gptj(str(tiny_model_dir), out)


def test_the_convert_command_writes_a_gptj_folder(tiny_model_dir: Path, tmp_path: Path) -> None:
    import json

    from tests.test_cli import cli

    proc = cli("convert", "gptj", str(tiny_model_dir), str(tmp_path / "gptj"))
    assert proc.returncode == 0, proc.stderr
    config = json.loads((tmp_path / "gptj" / "config.json").read_text())
    assert (config["model_type"], config["architectures"]) == ("gptj", ["GPTJForCausalLM"])
    assert (tmp_path / "gptj" / "tokenizer.json").exists()
    again = cli("convert", "gptj", str(tiny_model_dir), str(tmp_path / "gptj"))
    assert again.returncode == 2
    assert again.stderr.splitlines()[-1] == (
        f"codegen-ui: error: {tmp_path / 'gptj'} exists and is not empty; choose a new folder"
    )


def test_the_convert_command_refuses_a_llama_in_one_line(tmp_path: Path) -> None:
    from tests.test_cli import cli
    from tests.tiny import build_tiny_family

    llama = build_tiny_family(tmp_path / "llama", "llama")
    proc = cli("convert", "gptj", str(llama), str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        f"codegen-ui: error: {str(llama)!r} is a 'llama' model, not CodeGen: only CodeGen needs "
        f"converting (vLLM serves 'llama' models as they are, if it knows the family)"
    )
    assert not (tmp_path / "out").exists()
