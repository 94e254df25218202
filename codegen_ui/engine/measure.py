"""What the speed bench measures of the in-process engine beneath its port.

The bench (`codegen_ui.bench`) compares the engine with bare loops on the same weights; those
loops need the engine's own torch model, cache and thread choice, which live here so that the
bench reads no backend's insides: `bare_decode_rate` (a greedy loop on the model, no engine
thread, queue or text), `stepwise_logits` and `logit_agreement` (teacher-forced logits of two
precisions compared), `weight_bytes_per_token` (the bytes one decode step reads),
`thread_counts` and `fix_threads` (the torch thread counts the engine may pick, or one fixed).
Each takes a loaded `TransformersModel`. The app never calls it; torch is imported on use.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codegen_ui.engine.hf import TransformersModel


def thread_counts(model: TransformersModel) -> tuple[int, ...]:
    """The torch thread counts the engine thread may run on: the one fixed, else those it
    measures among."""
    fixed = model.forward.threads
    return (fixed,) if fixed else tuple(model.forward.tuner.candidates)


def fix_threads(model: TransformersModel, threads: int) -> None:
    """Run the engine on `threads` torch threads (0: torch's default, all cores) instead of its
    own choice; read when its thread starts, so before the first generation."""
    model.forward.threads = threads


def bare_decode_rate(model: TransformersModel, prompt: str, new_tokens: int, threads: int) -> float:
    """Tokens per second of a bare greedy loop on the model's torch model from this thread: its
    forward and a growing cache, no engine thread, no queue, no text, on `threads` torch
    threads; `new_tokens` long, never stopping early."""
    import torch

    model.kv.clear()  # so that `open` gives a new cache of the backend's own (in-place) kind
    ids, cache, _ = model.open(prompt)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            out = model.model(
                input_ids=torch.tensor([ids]), cache=cache, use_cache=True, logits_to_keep=1
            )
            token = int(out.logits[0, -1, : model.valid_vocab].argmax())
            start = time.perf_counter()
            for position in range(len(ids), len(ids) + new_tokens - 1):
                out = model.model(
                    input_ids=torch.tensor([[token]]),
                    position_ids=torch.tensor([[position]]),
                    cache=cache,
                    use_cache=True,
                )
                token = int(out.logits[0, -1, : model.valid_vocab].argmax())
            return (new_tokens - 1) / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(before)


def stepwise_logits(model: TransformersModel, text: str, first: int, positions: int) -> Any:
    """Logits after each of `positions` ids of `text` past its first `first`, feeding one id
    per forward pass as decoding does (a tensor, positions x vocabulary)."""
    import torch

    ids = model.encode(text)[: first + positions]
    rows = []
    with torch.inference_mode():
        out = model.model(input_ids=torch.tensor([ids[:first]]), use_cache=True, logits_to_keep=1)
        for token in ids[first:]:
            rows.append(out.logits[0, -1, : model.valid_vocab])
            out = model.model(input_ids=torch.tensor([[token]]), cache=out.cache, use_cache=True)
    return torch.stack(rows)


def logit_agreement(reference: Any, got: Any) -> dict[str, Any]:
    """How often `got`'s greedy next token is `reference`'s, and the mean absolute deviation of
    its logits relative to the spread of the reference's."""
    return {
        "positions": int(reference.shape[0]),
        "agree": (reference.argmax(-1) == got.argmax(-1)).float().mean().item(),
        "relative_logit_deviation": ((got - reference).abs().mean() / reference.std()).item(),
    }


def weight_bytes_per_token(model: TransformersModel) -> int:
    """Bytes of the torch model's parameters and buffers one decode step reads: all of them
    but the input embedding table, of which one row (a head tied to the table reads all of it,
    and is counted as its own layer where it has an int8 copy)."""
    module = model.model
    tensors = {id(t): t for t in [*module.parameters(), *module.buffers()]}
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    table = getattr(module.get_input_embeddings(), "weight", None)
    if table is not None and id(table) in tensors:
        head = getattr(module.get_output_embeddings(), "weight", None)
        if head is not table:  # not tied: only the token's row of the table is read
            total -= table.numel() * table.element_size()
            total += table.shape[-1] * table.element_size()
    return int(total)
