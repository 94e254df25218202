"""The results of a run: one JSON line per sample, readable by the reference's scorer too.

A line holds the reference sampler's fields (`id`, `input`, `gold_output`, `completions`: the
whole program, and `prompts_completions`: the prefix, then each wrapped prompt and each cut
completion plus a blank line), so the reference's `mtpb_exec.py` can score this runner's
samples, and `mtpb score` the reference's. Then this runner's verdict and timings, and the
`RunConfig` that made it (`evals.RunConfig`'s shape and sampling defaults, with MTPB's own
fields): a file holds one configuration only, and a re-run resumes it (the resumable file
itself is `evals.RunFile`, which HumanEval's samples file is too).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from codegen_ui import evals
from codegen_ui.evals import RunFile
from codegen_ui.mtpb.problems import MtpbError

SampleKey = tuple[str, int, int]  # (problem id, test case, sample)


@dataclass(frozen=True)
class RunConfig(evals.RunConfig):
    """What makes two MTPB runs' samples comparable: the shared fields, then MTPB's own."""

    limit_s: float = 20.0  # the reference's time limit per program
    clean_up: bool = True  # completions decoded with the reference's clean-up of spaces
    state: bool = False  # `--state`: the program's names before each turn, in its prompt


@dataclass(frozen=True)
class SampleResult:
    id: str  # the problem's id
    case: int  # which test case (index into the problem's inputs)
    sample: int
    category: str
    input: dict[str, Any]
    gold_output: Any
    completions: str  # the whole program, as the reference's scorer reads it
    prompts_completions: tuple[str, ...]  # the pieces `completions` is joined from
    outcome: str  # pass, wrong, no-print, error, timeout, died, syntax-error
    reason: str
    answer: str  # repr of the printed value
    reference: bool  # the verdict by the reference's rules (they never pass dict/None golds)
    seed: int | None = None
    max_new_tokens: int = 0
    prompt_tokens: int = 0  # the longest prompt of the sample (the reference cuts at 1024)
    trimmed_turns: int = 0  # turns left out of a prompt to fit the model's context
    generate_s: float = 0.0  # every generation of the sample's, fix tries included
    fix_tries: int = 0  # `--fix`: tries the model made at turns that raised
    fix_tokens: int = 0  # the tokens those tries wrote
    run_s: float = 0.0
    seconds: float = 0.0  # wall time of the whole sample
    config: RunConfig = field(default_factory=lambda: RunConfig(""))

    @property
    def key(self) -> SampleKey:
        return (self.id, self.case, self.sample)

    @property
    def problem(self) -> str:
        return self.id

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    def to_json(self) -> str:
        # ASCII only: model-written code may hold U+2028 or U+0085, which split lines for
        # `str.splitlines` and many JSON-lines readers; escaped, a record stays one line.
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, line: str) -> SampleResult:
        raw = json.loads(line)
        raw["prompts_completions"] = tuple(raw["prompts_completions"])
        raw["config"] = RunConfig(**raw["config"])
        return cls(**raw)


class ResultsFile(RunFile[SampleKey, SampleResult]):
    """The results file of one run (`evals.RunFile`): read on open, appended to as samples end."""

    error = MtpbError
    one_is = "an MTPB result"
    records_are = "results"

    @property
    def results(self) -> dict[SampleKey, SampleResult]:
        return self.records

    def read(self, line: str) -> tuple[SampleKey, RunConfig, SampleResult]:
        result = SampleResult.from_json(line)
        return result.key, result.config, result

    def write(self, record: SampleResult) -> tuple[SampleKey, str]:
        return record.key, record.to_json()
