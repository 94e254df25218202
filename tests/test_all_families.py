"""Every causal-LM family transformers ships (`MODEL_FOR_CAUSAL_LM_MAPPING_NAMES`), each a tiny
random model built here (`tests.tinyfamilies`), through the fast precision.

Cheap, for every family that can be built: the float32 model's logits on the guard's probe,
then `make_fast`, then the converted model's: nothing crashes, layers are converted, and the
guard's verdict passes (random tiny models have flat logits, so it judges them by logit error,
`probe.compare`). Expensive, for a stratified sample (`SAMPLE`: batched families, a scaled
embedding, soft-capped logits, a state-space model, mixtures of experts, ALiBi, Conv1D layers,
an encoder-decoder's decoder): the whole load path in both precisions (the guard included), a
greedy turn through the engine, the status naming the path, and for the batched ones the
engine's batched and cached output equal to one request at a time in fast precision
(`tests.test_families`). Families that cannot be built offline are `UNBUILDABLE`, with the
reason, and the test checks that each still cannot (so the list stays true).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import SamplingParams
from tests import tinyfamilies

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from transformers.models.auto.modeling_auto import (  # noqa: E402
    MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
)

FAMILIES = sorted(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)

# Why each family that cannot be built as a working tiny model offline cannot (the start of
# the reason `tinyfamilies` raises): a composite config (vision, audio, an encoder's and a
# decoder's text configs); "still N M parameters": sizes under names we do not shrink; a
# config the family's validators refuse at these sizes; or a float32 forward that fails on
# the tiny config (sizes the family ties together in ways we do not know).
UNBUILDABLE: dict[str, str] = {
    "axk1": "its float32 forward fails: RuntimeError: The size of tensor ",
    "axk2": "its float32 forward fails: RuntimeError: The size of tensor ",
    "blt": "still 4633.3M parameters when shrunk",
    "cohere_compass_text": "cannot build: KeyError: 'full_attention'",
    "dbrx": "cannot build: AttributeError: 'DbrxAttentionConfig' object h",
    "deepseek_v3": "its float32 forward fails: RuntimeError: The size of tensor ",
    "deepseek_v32": "its float32 forward fails: RuntimeError: The size of tensor ",
    "dots1": "cannot build: TypeError: unsupported operand type(s) for *: ",
    "dots3_note": "a composite (vision, audio or speech) config",
    "dots3_note_text": "tiny config refused: StrictDataclassClassValidationError: Cl",
    "emu3": "a composite (vision, audio or speech) config",
    "fuyu": "a composite (vision, audio or speech) config",
    "gemma3": "a composite (vision, audio or speech) config",
    "gemma3n": "a composite (vision, audio or speech) config",
    "gemma3n_text": "cannot build: ValueError: The set of layer types producing a",
    "gemma4": "a composite (vision, audio or speech) config",
    "gemma4_assistant": "no default config: StrictDataclassClassValidationError: Clas",
    "gemma4_text": "still 134.8M parameters when shrunk",
    "gemma4_unified": "a composite (vision, audio or speech) config",
    "gemma4_unified_assistant": "a composite (vision, audio or speech) config",
    "git": "still 86.0M parameters when shrunk",
    "glm_moe_dsa": "its float32 forward fails: RuntimeError: The size of tensor ",
    "got_ocr2": "a composite (vision, audio or speech) config",
    "gpt_neo": "tiny config refused: StrictDataclassClassValidationError: Cl",
    "inkling2_loop_text": "still 14.4M parameters when shrunk",
    "inkling2_text": "still 15.7M parameters when shrunk",
    "kimi_linear": "its float32 forward fails: ",
    "kolibri1_1": "tiny config refused: StrictDataclassClassValidationError: Cl",
    "lfm2_moe": "cannot build: TypeError: 'NoneType' object is not subscripta",
    "llama4": "a composite (vision, audio or speech) config",
    "longcat_flash": "its float32 forward fails: RuntimeError: The size of tensor ",
    "mamba2": "tiny config refused: StrictDataclassClassValidationError: Cl",
    "mllama": "a composite (vision, audio or speech) config",
    "moss_transcribe_diarize": "a composite (vision, audio or speech) config",
    "musicgen": "a composite (vision, audio or speech) config",
    "musicgen_melody": "a composite (vision, audio or speech) config",
    "phi4_multimodal": "still 870.2M parameters when shrunk",
    "qwen3_5": "a composite (vision, audio or speech) config",
    "qwen3_5_moe": "a composite (vision, audio or speech) config",
    "qwen4_exp": "a composite (vision, audio or speech) config",
    "reformer": "cannot build: AssertionError: If you want to use `ReformerMo",
    "roc_bert": "still 13.6M parameters when shrunk",
    "xlm": "still 102.6M parameters when shrunk",
    "xmod": "its float32 forward fails: ValueError: Input language unknow",
    "youtu": "its float32 forward fails: RuntimeError: The size of tensor ",
    "zamba": "tiny config refused: StrictDataclassClassValidationError: Cl",
    "zamba2": "tiny config refused: StrictDataclassClassValidationError: Cl",
    "zaya": "tiny config refused: StrictDataclassClassValidationError: Cl",
}

SAMPLE = [
    "llama",  # batched, grouped-query attention
    "qwen2",  # batched, biased q/k/v
    "gpt_bigcode",  # batched, multi-query attention
    "gemma3_text",  # a scaled embedding, sliding windows
    "gemma2",  # soft-capped logits, a tied head
    "falcon_mamba",  # a state-space model that reads a layer's weight outside its forward
    "mixtral",  # a mixture of experts
    "bloom",  # ALiBi
    "gpt2",  # Conv1D layers: only the head is an nn.Linear
    "bart",  # the decoder of an encoder-decoder
]
GREEDY = SamplingParams(max_new_tokens=4)
CHEAP_TOKENS = 12  # of the probe, for the check of every family: enough for a logit error


@pytest.fixture(scope="module")
def probe_input() -> tuple[list[int], int]:
    from transformers import AutoTokenizer

    from codegen_ui.engine import probe

    folder, size = tinyfamilies._trained_tokenizer()
    ids = probe.probe_ids(AutoTokenizer.from_pretrained(folder), [])
    return ids[:CHEAP_TOKENS], size


@pytest.mark.parametrize("family", [f for f in FAMILIES if f not in UNBUILDABLE])
def test_fast_computes_what_float32_computes(family: str, probe_input: Any) -> None:
    from codegen_ui.engine import probe
    from codegen_ui.engine.weights import Int8WeightLinear, make_fast

    ids, vocab = probe_input
    model = tinyfamilies.tiny_model(family, vocab, checked=False)
    want = probe.logits(model, ids, vocab)
    assert make_fast(model, "cpu") == "int8 weights, bfloat16 activations, batch-invariant"
    assert any(isinstance(m, Int8WeightLinear) for m in model.modules())
    verdict = probe.compare(want, probe.logits(model, ids, vocab))
    assert verdict.passed, verdict.figures()


@pytest.mark.parametrize("family", sorted(UNBUILDABLE))
def test_an_unbuildable_family_still_cannot_be_built(family: str) -> None:
    with pytest.raises(tinyfamilies.Unbuildable) as raised:
        tinyfamilies.tiny_model(family)
    assert str(raised.value).startswith(UNBUILDABLE[family])


def test_every_family_is_either_checked_or_listed_with_a_reason() -> None:
    assert set(UNBUILDABLE) <= set(FAMILIES)
    assert all(reason for reason in UNBUILDABLE.values())
    assert set(SAMPLE) <= set(FAMILIES) - set(UNBUILDABLE)


@pytest.fixture(scope="module", params=SAMPLE)
def sample_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    family = str(request.param)
    return tinyfamilies.build(tmp_path_factory.mktemp("all-families") / family, family)


@pytest.fixture(scope="module")
def fast_engine(sample_dir: Path) -> Iterator[Any]:
    from tests.test_families import batched

    model = batched(sample_dir, "fast")
    yield model
    model.close()


def test_both_precisions_load_and_write_and_the_status_names_the_path(
    sample_dir: Path, fast_engine: Any
) -> None:
    from codegen_ui.engine import load_model
    from codegen_ui.engine.rows import BATCHED

    family = sample_dir.name
    exact = load_model(str(sample_dir), device="cpu", precision="exact")
    try:
        for model, precision in ((exact, "float32"), (fast_engine, "int8 weights")):
            events = list(model.stream("def add(a, b):\n    return", GREEDY))
            assert events[-1].new_tokens >= 1
            status = model.describe()
            assert precision in status and "using exact" not in status, status
            path = "batched, up to" if family in BATCHED else f"one at a time: {family} is not"
            assert path in status, status
    finally:
        exact.close()


def test_batched_and_cached_equal_one_at_a_time_in_fast(sample_dir: Path, fast_engine: Any) -> None:
    """For a batched family; for the others, that nothing is batched or cached across turns."""
    from tests.test_families import (
        batched_equals_alone,
        one_at_a_time,
        test_cache_reuse_across_turns_equals_none,
    )

    if not fast_engine.batched:
        assert fast_engine.engine_thread.batch_size == 1 and fast_engine.kv.budget_bytes == 0
        return
    reference = one_at_a_time(sample_dir, "fast")
    try:
        batched_equals_alone(fast_engine, reference)
        test_cache_reuse_across_turns_equals_none(fast_engine, reference)
    finally:
        reference.close()
