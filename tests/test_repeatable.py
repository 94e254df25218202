"""The batch-invariant int8 precision ("fast" on CPU; "repeatable" is its other name): int8
weights with bfloat16 activations, whose output does not depend on the batch. The layer
computes each row on its own (checked bit for bit), a width the kernel cannot take keeps
float32, and on tiny random CodeGen and Llama models the engine's batched, cached output
equals one request at a time, uncached, token for token, as in exact precision
(tests/test_families.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from codegen_ui.core import SamplingParams, render_prompt
from codegen_ui.engine.weights import Int8WeightLinear, kernel_agrees, quantize_weight_only
from codegen_ui.settings import Settings, SettingsError
from tests.test_families import (
    TURNS,
    batched,
    batched_equals_alone,
    complete,
    history,
    one_at_a_time,
)
from tests.tiny import build_tiny_family

pytestmark = pytest.mark.skipif(
    not kernel_agrees(), reason="this torch has no working weight-only int8 kernel"
)


def test_a_row_is_the_same_whoever_else_is_in_the_batch() -> None:
    gen = torch.Generator().manual_seed(1)
    layer = nn.Linear(128, 96)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(96, 128, generator=gen))
    steady = Int8WeightLinear(layer.weight, layer.bias)
    rows = torch.randn(16, 128, generator=gen)
    in_batch = steady(rows)
    for i in range(16):
        assert torch.equal(steady(rows[i : i + 1]), in_batch[i : i + 1])
    assert torch.equal(steady(rows[3:9]), in_batch[3:9])
    # int8 rounding, not another function
    want = layer(rows)
    assert (in_batch - want).abs().max() < 0.05 * want.abs().max()


def test_a_width_the_kernel_cannot_take_keeps_float32() -> None:
    model = nn.Sequential(nn.Linear(64, 32), nn.Linear(32, 24), nn.Linear(24, 8))
    assert quantize_weight_only(model) == 2
    assert [type(m).__name__ for m in model] == ["Int8WeightLinear", "Int8WeightLinear", "Linear"]


def test_settings_take_the_precision_and_name_the_three() -> None:
    assert Settings.from_env({"CODEGEN_UI_PRECISION": "repeatable"}).precision == "repeatable"
    with pytest.raises(SettingsError, match="fast, exact or repeatable"):
        Settings.from_env({"CODEGEN_UI_PRECISION": "steady"})


@pytest.fixture(scope="module", params=["codegen", "llama"])
def family_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    family = str(request.param)
    return build_tiny_family(tmp_path_factory.mktemp("repeatable") / family, family)


@pytest.fixture(scope="module")
def reference(family_dir: Path) -> Iterator[Any]:
    model = one_at_a_time(family_dir, "repeatable")
    yield model
    model.close()


@pytest.fixture(scope="module")
def engine(family_dir: Path) -> Iterator[Any]:
    model = batched(family_dir, "repeatable")
    yield model
    model.close()


def test_the_engine_names_the_precision(engine: Any) -> None:
    assert "int8 weights, bfloat16 activations, batch-invariant" in engine.describe()
    assert any(isinstance(m, Int8WeightLinear) for m in engine.model.modules())


def test_batched_and_cached_equal_one_at_a_time(engine: Any, reference: Any) -> None:
    results = batched_equals_alone(engine, reference)
    # and a next turn reusing the cache writes what an uncached run writes
    turns = [*history(2, 3), (TURNS[0], results[0][0][:10] + "\n")]
    prompt = render_prompt(turns, TURNS[1])
    params = SamplingParams(max_new_tokens=16)
    assert complete(engine, prompt, params)[0] == complete(reference, prompt, params)[0]
