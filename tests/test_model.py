"""The transformers backend on the tiny real model: loading, determinism, early stop."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from codegen_ui.core import Delta, Finished, SamplingParams, render_prompt, truncate
from codegen_ui.engine import ModelLoadError, load_model

PROMPT = render_prompt([], "Write a function that adds two numbers.")


def complete(model, prompt: str, params: SamplingParams) -> tuple[str, Finished]:  # type: ignore[no-untyped-def]
    events = list(model.stream(prompt, params))
    assert isinstance(events[-1], Finished)
    assert all(isinstance(e, Delta) for e in events[:-1])
    return "".join(e.text for e in events[:-1]), events[-1]


def test_loads_through_the_apps_loader(tiny_model, tiny_model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert tiny_model.name == str(tiny_model_dir)
    assert tiny_model.context_size == 512
    assert tiny_model.describe().endswith("on cpu (float32; batched, up to 16 together)")
    assert tiny_model.count_tokens(PROMPT) == len(tiny_model.encode(PROMPT)) > 0


def test_greedy_is_deterministic(tiny_model) -> None:  # type: ignore[no-untyped-def]
    params = SamplingParams(max_new_tokens=24)
    first, done = complete(tiny_model, PROMPT, params)
    second, _ = complete(tiny_model, PROMPT, params)
    assert first == second
    assert done.new_tokens <= 24 and done.prompt_tokens == tiny_model.count_tokens(PROMPT)


def test_same_seed_same_sample_other_seed_other_sample(tiny_model) -> None:  # type: ignore[no-untyped-def]
    def sample(seed: int) -> str:
        params = SamplingParams(max_new_tokens=24, temperature=1.0, top_p=0.95, seed=seed)
        return complete(tiny_model, PROMPT, params)[0]

    assert sample(1) == sample(1)
    assert len({sample(s) for s in range(4)}) > 1


def test_top_k_one_is_greedy_and_top_k_limits_what_is_drawn(tiny_model) -> None:  # type: ignore[no-untyped-def]
    greedy, _ = complete(tiny_model, PROMPT, SamplingParams(max_new_tokens=16))
    hot = dict(max_new_tokens=16, temperature=5.0, top_p=1.0)
    for seed in (1, 2, 3):
        one, _ = complete(tiny_model, PROMPT, SamplingParams(**hot, seed=seed, top_k=1))
        assert one == greedy  # only the likeliest token is left to draw
    # With the same seed, a wide top-k and none draw differently at this temperature.
    wide = [complete(tiny_model, PROMPT, SamplingParams(**hot, seed=4, top_k=k))[0] for k in (0, 2)]
    assert wide[0] != wide[1]


def test_greedy_equals_reference_argmax_loop(tiny_model) -> None:  # type: ignore[no-untyped-def]
    # Token for token against a plain no-cache forward pass over the whole sequence.
    import torch

    text, done = complete(tiny_model, PROMPT, SamplingParams(max_new_tokens=12))
    ids = tiny_model.encode(PROMPT)
    with torch.inference_mode():
        for _ in range(done.new_tokens):
            logits = tiny_model.model(input_ids=torch.tensor([ids])).logits[0, -1]
            ids.append(int(torch.argmax(logits[: tiny_model.valid_vocab])))
    reference = tiny_model.decode(ids[len(tiny_model.encode(PROMPT)) :])
    assert done.new_tokens > 0 and text == reference


@pytest.fixture
def biased(tiny_model):  # type: ignore[no-untyped-def]
    """The tiny model with its output bias pushed towards one token; restored afterwards."""
    saved = tiny_model.model.lm_head.bias.detach().clone()

    def push(token: str) -> None:
        import torch

        (token_id,) = tiny_model.tokenizer.convert_tokens_to_ids([token])
        with torch.no_grad():
            tiny_model.model.lm_head.bias[token_id] += 100.0

    yield push
    import torch

    with torch.no_grad():
        tiny_model.model.lm_head.bias.copy_(saved)


def test_stops_when_the_turn_is_complete(tiny_model, biased) -> None:  # type: ignore[no-untyped-def]
    biased("Ċ")  # the byte-level token for "\n"
    text, done = complete(tiny_model, PROMPT, SamplingParams(max_new_tokens=100))
    assert text == "\n\n\n" and truncate(text) == ""
    assert done.stop_reason == "complete" and done.new_tokens == 3


def test_stops_at_end_of_text(tiny_model, biased) -> None:  # type: ignore[no-untyped-def]
    biased("<|endoftext|>")
    text, done = complete(tiny_model, PROMPT, SamplingParams(max_new_tokens=100))
    assert text == "" and done.stop_reason == "eos" and done.new_tokens == 1


def test_cancel_stops_generation(tiny_model) -> None:  # type: ignore[no-untyped-def]
    # Cancelled before the engine admits it: it ends without encoding or writing anything.
    cancel = threading.Event()
    cancel.set()
    events = list(tiny_model.stream(PROMPT, SamplingParams(max_new_tokens=100), cancel))
    assert isinstance(events[-1], Finished) and events[-1].stop_reason == "cancelled"
    assert events[-1].new_tokens == 0


def test_second_turn_reuses_the_ids_of_the_first(tiny_model) -> None:  # type: ignore[no-untyped-def]
    text, _ = complete(tiny_model, PROMPT, SamplingParams(max_new_tokens=16))
    follow = PROMPT + truncate(text) + "\n\n# Now print it.\n"
    events = list(tiny_model.stream(follow, SamplingParams(max_new_tokens=4)))
    done = events[-1]
    assert isinstance(done, Finished)
    assert done.reused_tokens >= len(tiny_model.encode(PROMPT))


def test_missing_local_folder_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="not a transformers model folder"):
        load_model(str(tmp_path / "empty"))


def test_uncached_hub_model_offline_fails_fast_with_one_line(tmp_path: Path) -> None:
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "codegen_ui", "run", str(Path(__file__)), "--model", "nobody/none"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).parents[1],
    )
    assert proc.returncode == 2
    assert time.monotonic() - start < 30
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nobody/none" in lines[0] and "--model PATH" in lines[0]
    assert "Traceback" not in proc.stderr
