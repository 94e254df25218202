"""What the fast precisions keep of a model: each family's own modules run after conversion
(Gemma's embedding scales its rows by sqrt(width), Gemma 2 caps its logits, both tie the head
to the embedding), so fast computes what exact computes, to int8 rounding. And the guard at
load: a model whose conversion does break it is loaded in exact precision instead, and the
status and the log say so."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.engine import load_model, weights
from tests import tinyfamilies

torch = pytest.importorskip("torch")

IDS = list(range(5, 45))


@pytest.fixture(scope="module", params=["gemma", "gemma2", "gemma3_text"])
def scaled_family(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    family = str(request.param)
    return tinyfamilies.build(tmp_path_factory.mktemp("scaled") / family, family)


@pytest.fixture(scope="module")
def exact(scaled_family: Path) -> Iterator[Any]:
    model = load_model(str(scaled_family), device="cpu", precision="exact")
    yield model
    model.close()


def relative_error(got: Any, want: Any) -> float:
    return float((got - want).abs().mean() / want.std())


@pytest.mark.parametrize("precision", ["fast", "repeatable"])
def test_a_scaled_embedding_survives_conversion(
    scaled_family: Path, exact: Any, precision: str
) -> None:
    model = load_model(str(scaled_family), device="cpu", precision=precision)
    try:
        ids = torch.tensor([IDS])
        want_embedding = exact.model.get_input_embeddings()
        got_embedding = model.model.get_input_embeddings()
        assert type(got_embedding) is type(want_embedding)  # the family's own module
        with torch.inference_mode():
            want, got = want_embedding(ids), got_embedding(ids)
            assert got.dtype == torch.float32
            # float16 rows: 11 bits of mantissa; the scale (8 at width 64) kept
            assert torch.allclose(got, want, rtol=2e-3, atol=1e-6)
            # and the whole model, to int8 rounding (a dropped scale gave 0.14 to 0.42)
            error = relative_error(
                model.model(input_ids=ids).logits, exact.model(input_ids=ids).logits
            )
        assert error < 0.1, error
    finally:
        model.close()


# ---- the guard at load ------------------------------------------------------------------


def _broken(model: Any, device: str, precision: str = "fast") -> str:
    """A conversion that breaks the model: the input embedding's rows come out with their
    values in reverse order."""
    note = real_make_fast(model, device, precision)
    embeddings = model.get_input_embeddings()
    embeddings.register_forward_hook(lambda _m, _i, out: out.flip(-1))
    return note


real_make_fast = weights.make_fast


def test_a_conversion_that_breaks_the_model_falls_back_to_exact(
    scaled_family: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(weights, "make_fast", _broken)
    with caplog.at_level(logging.INFO, logger="codegen_ui.engine.hf"):
        model = load_model(str(scaled_family), device="cpu", precision="fast")
    try:
        status = model.describe()
        assert re.search(r"\(fast precision (deviated|disagreed) .* \d+ %.*; using exact;", status)
        assert not any(isinstance(m, weights.Int8WeightLinear) for m in model.model.modules())
        assert next(model.model.parameters()).dtype == torch.float32
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warned) == 1 and "using exact" in warned[0]
    finally:
        model.close()


def test_a_sound_conversion_passes_and_the_log_has_its_figures(
    scaled_family: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="codegen_ui.engine.hf"):
        model = load_model(str(scaled_family), device="cpu", precision="fast")
    try:
        assert "using exact" not in model.describe()
        lines = [r.getMessage() for r in caplog.records if "on the probe" in r.getMessage()]
        assert len(lines) == 1 and re.search(r"logit error \d+ %", lines[0]), lines
    finally:
        model.close()


def test_the_checkpoint_gives_the_float32_reference(scaled_family: Path, exact: Any) -> None:
    """`Float32Source` builds the family's float32 model again, each module's weights read as
    a pass reaches it and dropped after: it computes what the float32 model loaded whole does."""
    from transformers import AutoConfig

    loaded = weights.load_int8(scaled_family, AutoConfig.from_pretrained(scaled_family))
    assert loaded is not None
    _, source = loaded
    ids = torch.tensor([IDS])
    with torch.inference_mode(), source.model() as reference:
        assert reference is not None
        got = reference(input_ids=ids).logits
        want = exact.model(input_ids=ids).logits
        assert {p.device.type for p in reference.parameters()} == {"meta"}  # dropped again
    assert torch.equal(got, want)


def test_repeatable_is_fast_on_cpu(tiny_model_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="codegen_ui.engine.hf"):
        fast = load_model(str(tiny_model_dir), device="cpu", precision="fast")
        repeatable = load_model(str(tiny_model_dir), device="cpu", precision="repeatable")
    try:
        assert fast.describe() == repeatable.describe()
        assert "int8 weights, bfloat16 activations, batch-invariant" in fast.describe()
        assert "'repeatable' is the same as 'fast'" in caplog.text
        ids = torch.tensor([IDS])
        with torch.inference_mode():
            assert torch.equal(
                fast.model(input_ids=ids).logits, repeatable.model(input_ids=ids).logits
            )
    finally:
        fast.close()
        repeatable.close()
