"""The classroom measurement: N sessions submit a turn at the same moment.

Each session has a history of about `history` tokens of its own (standard-library code as the
turns, as elsewhere in the benchmark) and asks for `new_tokens` tokens. Two cases: "warm", the
teacher's next instruction in a running class (each session's history is in the KV cache, as
after its previous turn, so only the new instruction is encoded), and "cold", the first turn
after opening saved notebooks (every history encoded). The same sessions run on two engines
loaded in the same child process, one after the other (order alternating by repetition): one
that writes one turn at a time in arrival order (`batch_size=1`, what the app did before) and
the batched one (`batch_size` from the settings). Both get a cache budget that holds every
session. Figures per engine: the time from the common start to each finished turn (median,
95th percentile, max) and the overall tokens/s (every token written, over the wall time). Runs
inside the benchmark's child process (`codegen_ui.bench.work`); it decides nothing about the app.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from codegen_ui.bench.texts import INSTRUCTIONS, class_histories
from codegen_ui.core import CodeModel, Finished, SamplingParams, program_text, render_prompt


def histories(model: CodeModel, sessions: int, tokens: int) -> list[list[tuple[str, str]]]:
    """One history per session, each just under `tokens` long, each from other code."""
    return class_histories(model.count_tokens, sessions, tokens)


def one_class(model: CodeModel, prompts: list[str], new_tokens: int) -> dict[str, Any]:
    """Every prompt submitted at once from its own thread; when each finished, and tokens."""
    params = SamplingParams(max_new_tokens=new_tokens)

    def turn(i: int) -> int:
        done = None
        for event in model.stream(prompts[i], params):
            if isinstance(event, Finished):
                done = event
        return done.new_tokens if done else 0

    return at_once(turn, len(prompts))


def at_once(turn: Callable[[int], int], sessions: int) -> dict[str, Any]:
    """`turn(i)` for every session at the same moment, each on its own thread (it returns the
    tokens it wrote): the time from the common start to each finished turn, and tokens/s."""
    done: list[tuple[float, int] | None] = [None] * sessions
    barrier = threading.Barrier(sessions + 1)

    def session(i: int) -> None:
        barrier.wait()
        tokens = turn(i)
        done[i] = (time.perf_counter(), tokens)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    finished = [d for d in done if d is not None]
    waits = sorted(at - start for at, _ in finished)
    wall = max(waits)
    tokens = sum(n for _, n in finished)
    return {
        "turns": len(finished),
        "median_s": statistics.median(waits),
        "p95_s": percentile(waits, 95),
        "max_s": wall,
        "wall_s": wall,
        "new_tokens": tokens,
        "tok_s": tokens / wall,
    }


def percentile(sorted_values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def run_classroom(config: dict[str, Any]) -> dict[str, Any]:
    from codegen_ui.engine import load_model

    options = config["options"] | {"cache_mib": config["classroom_cache_mib"]}
    engines = {
        "one_at_a_time": load_model(config["model"], device="cpu", **options | {"batch_size": 1}),
        "batched": load_model(config["model"], device="cpu", **options),
    }
    sessions = config["classroom"]
    first = next(iter(engines.values()))
    talks = histories(first, sessions, config["classroom_history"])
    prompts = [render_prompt(h, INSTRUCTIONS[s % len(INSTRUCTIONS)]) for s, h in enumerate(talks)]
    for model in engines.values():  # first-call overheads, outside the measurement
        one_class(model, prompts[:2], 4)
    result: dict[str, Any] = {
        "sessions": sessions,
        "batch_size": options["batch_size"],
        "cache_mib": options["cache_mib"],
        "prompt_tokens_mean": statistics.mean(first.count_tokens(p) for p in prompts),
        "new_tokens": config["classroom_tokens"],
        "describe": first.describe(),
    }
    for case in ("warm", "cold"):
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
        for rep in range(config["classroom_repeats"]):
            for name, model in list(engines.items())[:: 1 if rep % 2 == 0 else -1]:
                getattr(model, "kv").clear()  # noqa: B009 - the backend's cache store
                if case == "warm":  # each session's previous turn has just been written
                    for talk in talks:
                        list(model.stream(program_text(talk), SamplingParams(max_new_tokens=1)))
                runs[name].append(one_class(model, prompts, config["classroom_tokens"]))
        result[case] = {
            name: {k: statistics.median(r[k] for r in reps) for k in reps[0]}
            for name, reps in runs.items()
        }
        result[case]["runs"] = runs
    return result


def ratios(classroom: dict[str, Any]) -> dict[str, float]:
    """Batched over one at a time: throughput (higher is better) and p95 wait (lower); the
    warm case under the plain names, the cold one with `_cold`."""
    out = {}
    for case, suffix in (("warm", ""), ("cold", "_cold")):
        one, batched = classroom[case]["one_at_a_time"], classroom[case]["batched"]
        out[f"classroom{suffix}_throughput"] = batched["tok_s"] / one["tok_s"]
        out[f"classroom{suffix}_p95"] = batched["p95_s"] / one["p95_s"]
    return out


def table_lines(classroom: dict[str, Any]) -> list[str]:
    rows = [
        ("median time to a finished turn (s)", "median_s"),
        ("95th percentile (s)", "p95_s"),
        ("max (s)", "max_s"),
        ("overall tokens/s", "tok_s"),
    ]
    lines = [
        f"classroom: {classroom['sessions']} sessions at once, ~"
        f"{classroom['prompt_tokens_mean']:.0f}-token prompts, {classroom['new_tokens']} new "
        f"tokens each, {classroom['describe']}; batched: up to {classroom['batch_size']} "
        "turns written together",
    ]
    for case, title in (("warm", "warm (histories cached)"), ("cold", "cold (all encoded)")):
        one, batched = classroom[case]["one_at_a_time"], classroom[case]["batched"]
        lines.append(f"{title:42}{'1 at once':>10}{'batched':>10}{'batched/1':>17}")
        lines += [
            f"  {label:40}{one[k]:>10.2f}{batched[k]:>10.2f}{batched[k] / one[k]:>17.3f}"
            for label, k in rows
        ]
    return lines
