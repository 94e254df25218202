"""The guard at load: does a converted model still compute what its float32 weights compute?

A few dozen tokens of fixed Python (`PROBE_TEXT`) go through the converted model and through
the same weights in float32, one pass each over the whole text; `compare` turns the two sets of
logits into a `Verdict`:
  - `error`: the mean absolute difference of the logits, relative to the spread (standard
    deviation) of float32's. int8 rounding gives a few percent; a module that computes
    something else (an embedding that lost its scale) gives tens of percent and more.
  - `agree`: greedy top-1 agreement over the positions where float32 is sure of its next token
    (its top two logits at least `SURE_GAP` apart, about 2.7 times the probability). Near ties
    may flip under any rounding and say nothing; a random tiny model's logits are flat, it has
    no such positions and is judged by `error` alone.
A precision passes when `error <= MAX_ERROR` and, where float32 is sure at `MIN_SURE`
positions or more, `agree >= MIN_AGREE` (the figures behind these are in
docs/development/precision.md). It does not load, convert or choose anything: `hf` does, with
the verdict. Imported only by the transformers backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A small function and its call: code of the kind the app writes, in every tokenizer's reach.
PROBE_TEXT = '''import math


def mean(values):
    """Return the arithmetic mean of a list of numbers."""
    total = 0
    for value in values:
        total += value
    return total / len(values)


numbers = [3, 1, 4, 1, 5, 9, 2, 6]
print(mean(numbers), math.sqrt(16))
'''
PROBE_TOKENS = 32  # at most this many ids of it (its cost at load grows with them)
SURE_GAP = 1.0  # float32's top two logits this far apart: it is sure of its next token
MIN_SURE = 8  # fewer sure positions than this: top-1 agreement is not judged
MIN_AGREE = 0.9  # of the sure positions, at least this share with float32's top-1
MAX_ERROR = 0.1  # mean |logit difference| / the spread (standard deviation) of float32 logits


@dataclass(frozen=True)
class Verdict:
    positions: int  # probe positions compared
    sure: int  # of them, where float32 is sure of its next token
    agree: float | None  # top-1 agreement on the sure positions (None: too few to judge)
    agree_all: float  # top-1 agreement on every position (a figure, not judged)
    error: float  # mean |difference| / spread of float32's logits

    @property
    def passed(self) -> bool:
        return self.error <= MAX_ERROR and (self.agree is None or self.agree >= MIN_AGREE)

    def figures(self) -> str:
        """The verdict in a few words, e.g. `top-1 98 % of 41 sure tokens, logit error 3 %`."""
        error = f"logit error {100 * self.error:.0f} %"
        if self.agree is None:
            return f"{error} (no token float32 is sure of: top-1 not judged)"
        return f"top-1 {100 * self.agree:.0f} % of {self.sure} sure tokens, {error}"

    def failure(self, precision: str, fallback: str) -> str:
        """One line for the status and the log when `precision` fails and `fallback` is used."""
        if self.agree is not None and self.agree < MIN_AGREE:
            what = f"disagreed with float32 on {100 * (1 - self.agree):.0f} % of probe tokens"
        else:
            what = f"deviated from float32 by {100 * self.error:.0f} % of the logits' spread"
        return f"{precision} precision {what}; using {fallback}"


def probe_ids(tokenizer: Any, lead: list[int]) -> list[int]:
    """The probe's ids: the model's BOS lead, then the first `PROBE_TOKENS` ids of the text."""
    ids = list(tokenizer.encode(PROBE_TEXT, add_special_tokens=False))
    return lead + ids[:PROBE_TOKENS]


def logits(model: Any, ids: list[int], valid_vocab: int) -> Any:
    """float32 logits at every position of one pass over `ids` on CPU, as (positions,
    valid_vocab)."""
    import torch

    with torch.inference_mode():
        out = model(input_ids=torch.tensor([ids]), use_cache=False)
        return out.logits[0, :, :valid_vocab].float()


def compare(want: Any, got: Any) -> Verdict:
    """The verdict on `got` (converted) against `want` (float32), both (positions, vocab)."""
    import torch

    spread = want.std().clamp(min=1e-12)
    error = float((got - want).abs().mean() / spread)
    top2 = torch.topk(want, 2, dim=-1).values
    sure = (top2[:, 0] - top2[:, 1]) >= SURE_GAP
    same = want.argmax(-1) == got.argmax(-1)
    n_sure = int(sure.sum())
    agree = float(same[sure].float().mean()) if n_sure >= MIN_SURE else None
    return Verdict(int(want.shape[0]), n_sure, agree, float(same.float().mean()), error)
