"""The run configuration both benchmarks record with every sample: one shape, one set of defaults.

`RunConfig` holds what makes two runs' samples comparable in both: the model, the paper's
sampling (temperature 0.2 and top-p 0.95, as both the CodeGen paper's MTPB and its HumanEval
use; top-k 50, transformers' default, which the CodeGen repository's `generate()` kept), the
base seed, the prompt format and `--fix`. Each benchmark subclasses it with what is its own
(MTPB's time limit, clean-up and `--state`; HumanEval's token budget), so the sampling defaults
are written here once. `check` refuses sampling values no engine takes, in one line. Field
names are the files' keys: a results file written before reads back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen_ui.errors import UserError

PAPER_TEMPERATURE = 0.2  # the paper's temperature for pass@1 (HumanEval also samples 0.6, 0.8)
PAPER_TOP_P = 0.95


class RunConfigError(UserError, ValueError):
    """A run configuration no engine can sample with."""


@dataclass(frozen=True)
class RunConfig:
    """What makes two runs' samples comparable (see the module docstring)."""

    model: str  # the model's setting (for a scored samples file: "samples:" and its name)
    temperature: float = PAPER_TEMPERATURE  # 0: greedy
    top_p: float = PAPER_TOP_P
    top_k: int = 50  # transformers' default, which the CodeGen repository's generate() used
    seed: int = 0  # each sample's seed is derived from this and the sample's key
    prompt_format: str = "paper"  # "paper" (the reference's) or "chat" (the model's template)
    fix: int = 0  # `--fix N`: tries at a program that raised (0: the paper's protocol)

    def check(self) -> None:
        """RunConfigError unless the sampling values are ones an engine takes."""
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.top_k < 0:
            raise RunConfigError(
                "--temperature and --top-k must be 0 or more and --top-p in (0, 1]"
            )
