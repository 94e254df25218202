"""What the fast precisions keep of a model: each family's own modules run after conversion
(Gemma's embedding scales its rows by sqrt(width), Gemma 2 caps its logits, both tie the head
to the embedding), so fast computes what exact computes, to int8 rounding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.engine import load_model
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
