"""The benchmark's child processes: measure, print one JSON line.

Run as `python -m codegen_ui.bench.work '<json config>'` by `codegen_ui.bench.plan`. The prompts are
the app's own conversational format, with code from Python's standard library as the turns, so
token counts are realistic; completions are cut at a point that moves from turn to turn, as the
paper's rules cut real ones (random weights rarely trigger those rules themselves). What it
measures beneath the engine's port (bare loops, logits, weight bytes) the engine's `measure`
gives; nothing here reads a backend's insides.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from codegen_ui.bench import texts
from codegen_ui.bench.bandwidth import COPY_MIB, copy_bandwidth
from codegen_ui.bench.texts import INSTRUCTIONS, snippets
from codegen_ui.core import CodeModel, Finished, SamplingParams, render_prompt

MIB = 2**20


def history_of(model: CodeModel, tokens: int) -> list[tuple[str, str]]:
    """Whole turns whose prompt is just under `tokens` long (empty for 0)."""
    return texts.history_of(model.count_tokens, tokens)


def generate(model: CodeModel, prompt: str, max_new: int) -> tuple[str, Finished]:
    text, done = "", None
    for event in model.stream(prompt, SamplingParams(max_new_tokens=max_new)):
        if isinstance(event, Finished):
            done = event
        else:
            text += event.text
    assert done is not None
    return text, done


def cut(raw: str, turn: int) -> str:
    """The code a turn keeps: its first lines, fewer or more from turn to turn."""
    lines = raw.splitlines()
    return "\n".join(lines[: max(1, len(lines) * (turn % 3 + 1) // 4)]) or raw[:1]


def rss_mib() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss / MIB)


def decode_rate(model: CodeModel, config: dict[str, Any]) -> float:
    """Tokens per second after the first token, from a short prompt."""
    _, done = generate(model, render_prompt([], INSTRUCTIONS[1]), config["new_tokens"])
    return (done.new_tokens - 1) / max(done.total_s - done.first_token_s, 1e-9)


def first_token(model: CodeModel, size: int, warm: bool) -> float:
    """Seconds to the first token of a new turn after a history of about `size` tokens."""
    history = history_of(model, size)
    if warm:  # the previous turn has just been generated, as in a session: its cache is warm
        generate(model, render_prompt(history, INSTRUCTIONS[2]), 16)
    # The same prompt for every engine: the previous turn's code is fixed, not generated,
    # so the engine re-reads it too (its cache holds the generated code, which differs).
    history.append((INSTRUCTIONS[2], snippets()[0]))
    _, done = generate(model, render_prompt(history, INSTRUCTIONS[3]), 1)
    return done.first_token_s


def session(model: CodeModel, config: dict[str, Any]) -> float:
    """Seconds for a scripted session of `session_turns` turns."""
    start = time.perf_counter()
    history: list[tuple[str, str]] = []
    for turn in range(config["session_turns"]):
        instruction = INSTRUCTIONS[turn % len(INSTRUCTIONS)]
        raw, _ = generate(model, render_prompt(history, instruction), config["turn_tokens"])
        history.append((instruction, cut(raw, turn)))
    return time.perf_counter() - start


def raw_decode_rate(model: Any, config: dict[str, Any], threads: int) -> float:
    """Tokens per second of a bare greedy loop on `model`'s torch model (`bare_decode_rate`);
    `threads` torch threads, the engine's. The same prompt and length as `decode_rate`."""
    from codegen_ui.engine import bare_decode_rate

    return bare_decode_rate(
        model, render_prompt([], INSTRUCTIONS[1]), config["new_tokens"], threads
    )


def load(config: dict[str, Any], options: dict[str, Any]) -> Any:
    """`load_model` with `options`; "threads" there (0: torch's default, all cores) replaces
    the engine thread's own choice, as for the plain-transformers baseline."""
    from codegen_ui.engine import fix_threads, load_model

    options = dict(options)
    threads = options.pop("threads", None)
    model: Any = load_model(config["model"], device="cpu", **options)
    if threads is not None:
        fix_threads(model, threads)
    return model


def speed(config: dict[str, Any]) -> dict[str, Any]:
    """Both engines in this one process, each figure measured for one right after the other,
    so that the load of a shared machine falls on both alike; one dict per repetition. Two
    bare loops ride along for decoding: "raw", the engine's int8 model, and "raw_exact", the
    baseline's float32 model; each at every thread count the engine may pick, the fastest
    reported (the engine measures and picks, so the loop is given the same choice), with the
    memory bandwidth measured on that many threads right after it and the bytes of weights
    one token reads (`bandwidth`)."""
    from codegen_ui.engine import thread_counts, weight_bytes_per_token

    models = {name: load(config, options) for name, options in config["engines"].items()}
    counts = thread_counts(models["engine"])
    raw_of = {"raw": models["engine"], "raw_exact": models["baseline"]}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in [*models, *raw_of]}
    for model in models.values():
        generate(model, render_prompt([], INSTRUCTIONS[0]), 4)  # first-call overheads
    for rep in range(config["repeats"]):
        order = list(models.items())[:: 1 if rep % 2 == 0 else -1]
        figures: dict[str, dict[str, Any]] = {name: {"ttft_s": {}} for name in models}
        for name, model in order:
            figures[name]["describe"] = model.describe()
            figures[name]["decode_tok_s"] = decode_rate(model, config)
        for name, model in raw_of.items():
            rates = {n: raw_decode_rate(model, config, n) for n in counts}
            fastest = max(rates, key=lambda n: rates[n])
            by_count = ", ".join(f"{n}: {r:.1f}" for n, r in rates.items())
            runs[name].append(
                {
                    "describe": f"bare loop on {model.describe()}, {fastest} torch threads "
                    f"(tokens/s by thread count {by_count})",
                    "decode_tok_s": rates[fastest],
                    # The limit: a large copy on the same threads, right after the loop.
                    "bandwidth_gb_s": copy_bandwidth(fastest, config.get("copy_mib", COPY_MIB))
                    / 1e9,
                    "weight_mb_per_token": weight_bytes_per_token(model) / 1e6,
                }
            )
        for size in config["histories"]:
            for name, model in order:
                warm = bool(config["engines"][name]["cache_mib"])
                figures[name]["ttft_s"][str(size)] = first_token(model, size, warm)
        for name, model in order:
            figures[name]["session_s"] = session(model, config)
        for name in models:
            runs[name].append(figures[name])
    return runs


def memory(config: dict[str, Any]) -> dict[str, Any]:
    """Resident memory of one engine alone: after loading, and after a long history and a
    short session (its caches included)."""
    model = load(config, config["options"])
    loaded = rss_mib()
    loading_peak = peak_rss_mib()
    first_token(model, max(config["histories"]), bool(config["options"]["cache_mib"]))
    session(model, config | {"session_turns": 3})
    return {
        "rss_loaded_mib": loaded,
        "peak_rss_loading_mib": loading_peak,
        "rss_end_mib": rss_mib(),
        "peak_rss_mib": peak_rss_mib(),
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory since it started running its program.

    Linux's VmHWM, not `ru_maxrss`: a child made by fork and exec inherits its parent's
    high-water mark in `ru_maxrss`, so a large parent would hide the child's own peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def agreement(config: dict[str, Any], positions: int = 128) -> dict[str, Any]:
    """How often the fast weights' greedy next token equals float32's, decoding token by token
    (teacher-forced) through standard-library code, and the mean absolute deviation of the fast
    logits relative to the spread of float32's."""
    from codegen_ui.engine import TransformersModel, logit_agreement, stepwise_logits

    text = "\n\n".join(snippets())
    exact = TransformersModel.load(config["model"], device="cpu", precision="exact")
    ref = stepwise_logits(exact, text, 64, positions)
    del exact
    model = TransformersModel.load(config["model"], device="cpu", precision="fast")
    return {"describe": model.describe()} | logit_agreement(
        ref, stepwise_logits(model, text, 64, positions)
    )


def classroom(config: dict[str, Any]) -> dict[str, Any]:
    from codegen_ui.bench.classroom import run_classroom

    return run_classroom(config)


TASKS = {"speed": speed, "memory": memory, "agreement": agreement, "classroom": classroom}

if __name__ == "__main__":
    import os

    cfg = json.loads(sys.argv[1])
    print(json.dumps(TASKS[cfg["task"]](cfg)), flush=True)
    # Leave without tearing the interpreter down: the engines' threads may still be inside
    # torch, and torch's thread pools torn down under them abort the process ("terminate
    # called without an active exception", seen after the classroom's two engines), which
    # would throw away figures already printed.
    sys.stderr.flush()
    os._exit(0)
