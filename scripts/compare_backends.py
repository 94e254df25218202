"""Compare candidate CPU backends for codegen-350M in one run: decode tokens/s and prefill time.

    python -m scripts.compare_backends [--repeats 2] [--prompt 500]

Candidates: transformers float32, transformers with int8 dynamic quantisation (the app's "fast"
precision), and CTranslate2 int8 when the `ctranslate2` package is installed (it is not a
dependency of the app; the converted model is cached beside the benchmark model). Uses the
benchmark model of `codegen_ui.bench.randommodel` (codegen-350M-mono's architecture, random
weights).
Each candidate runs alternately in this one process; medians are printed. Not part of the tests.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def torch_candidate(folder: Path, fast: bool) -> Callable[[list[int], int], tuple[float, float]]:
    import torch

    from codegen_ui.engine import TransformersModel, new_cache

    model = TransformersModel.load(str(folder), "cpu", precision="fast" if fast else "exact").model

    def run(prompt: list[int], new: int) -> tuple[float, float]:
        cache = new_cache(model.config.n_layer)  # the app's in-place cache
        with torch.inference_mode():
            start = time.perf_counter()
            out = model(
                input_ids=torch.tensor([prompt]), cache=cache, use_cache=True, logits_to_keep=1
            )
            token = out.logits[0, -1].argmax().view(1, 1)
            prefill = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(new):
                out = model(input_ids=token, cache=out.cache, use_cache=True)
                token = out.logits[0, -1].argmax().view(1, 1)
            return prefill, new / (time.perf_counter() - start)

    return run


def ct2_candidate(folder: Path) -> Callable[[list[int], int], tuple[float, float]] | None:
    try:
        import ctranslate2
        from ctranslate2.converters import TransformersConverter
    except ImportError:
        return None
    out = folder.with_name(folder.name + "-ct2-int8")
    if not (out / "model.bin").exists():
        TransformersConverter(str(folder)).convert(str(out), quantization="int8", force=True)
    generator = ctranslate2.Generator(str(out), device="cpu", compute_type="int8")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)

    def run(prompt: list[int], new: int) -> tuple[float, float]:
        tokens = tokenizer.convert_ids_to_tokens(prompt)
        start = time.perf_counter()
        first = 0.0
        steps = 0
        for _ in generator.generate_tokens(
            tokens, max_length=new + 1, sampling_topk=1, end_token=[]
        ):
            steps += 1
            if steps == 1:
                first = time.perf_counter() - start
        return first, (steps - 1) / (time.perf_counter() - start - first)

    return run


def main() -> None:
    from codegen_ui.bench import build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--prompt", type=int, default=500, help="prompt tokens for prefill")
    parser.add_argument("--new", type=int, default=48, help="tokens decoded")
    args = parser.parse_args()
    folder = build()
    candidates: dict[str, Any] = {
        "transformers float32": torch_candidate(folder, fast=False),
        "transformers int8 dynamic": torch_candidate(folder, fast=True),
    }
    ct2 = ct2_candidate(folder)
    if ct2 is not None:
        candidates["ctranslate2 int8"] = ct2
    prompt = [(i * 7919) % 5000 + 10 for i in range(args.prompt)]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in candidates}
    for _ in range(args.repeats):
        for name, run in candidates.items():
            results[name].append(run(prompt, args.new))
    print(f"{'':28}{'prefill ' + str(args.prompt) + ' (s)':>18}{'decode tok/s':>14}")
    for name, runs in results.items():
        prefill = statistics.median(r[0] for r in runs)
        decode = statistics.median(r[1] for r in runs)
        print(f"{name:28}{prefill:>18.3f}{decode:>14.2f}")


if __name__ == "__main__":
    main()
