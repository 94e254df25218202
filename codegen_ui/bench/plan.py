"""The benchmark: the app's engine against plain float32 transformers, on the same model.

Speed is measured in one child process holding both models, each figure for the baseline and
then at once for the engine (order alternating by repetition), so the load of a shared machine
falls on both alike; medians over repetitions. Memory is measured with each engine alone in a
child of its own. Measured through the model seam (`stream`), greedy, as the session drives it:
  - decode tokens/s after the first token;
  - time to first token for a new turn after a history of about H tokens, where the previous
    turn (the history) has just been generated, as in a conversation;
  - the total time of a scripted session of several turns;
  - resident memory after loading, and peak.
The baseline re-encodes the whole prompt each turn (no cache) in float32; the engine is what
`load_model` gives by default. A separate child reports how often the fast weights' greedy next
token agrees with float32. It prints a table and can write the figures as JSON; it does not
decide anything about the app.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from codegen_ui.bench.bandwidth import COPY_MIB
from codegen_ui.bench.classroom import ratios as classroom_ratios
from codegen_ui.bench.classroom import table_lines as classroom_table
from codegen_ui.errors import UserError

# The baseline: float32, the whole prompt re-encoded each turn, torch's own thread count (all
# cores), as plain transformers runs. The engine: Settings' defaults.
BASELINE: dict[str, Any] = {"precision": "exact", "cache_mib": 0, "threads": 0}
# The bare decode loops `work.speed` measures beside the engines (see there).
RAW_LOOPS = ("raw", "raw_exact")


@dataclass(frozen=True)
class Plan:
    model: str  # folder or hub id
    repeats: int = 3
    histories: tuple[int, ...] = (0, 500, 1000, 1500)  # history sizes for time to first token
    session_turns: int = 10
    new_tokens: int = 64  # decode measurement length
    turn_tokens: int = 32  # the most tokens of each scripted session turn
    classroom: int = 16  # sessions submitting a turn at the same moment (0: skip)
    classroom_history: int = 300  # tokens of history each of them has
    classroom_tokens: int = 64  # tokens each of them asks for
    classroom_repeats: int = 1  # repetitions of the classroom (medians quoted)
    classroom_cache_mib: int = 2048  # KV cache budget of both engines: every session fits
    only_classroom: bool = False  # skip the single-user speed, memory and agreement figures
    llama_server: str | None = None  # a llama-server binary: also run llama.cpp on a .gguf model


def engine_options() -> dict[str, dict[str, Any]]:
    from codegen_ui.settings import Settings

    defaults = Settings.from_env()
    engine = {
        "precision": defaults.precision,
        "cache_mib": defaults.cache_mib,
        "batch_size": defaults.batch_size,
    }
    return {"baseline": BASELINE, "engine": engine}


def child_config(plan: Plan, task: str, **extra: Any) -> dict[str, Any]:
    return {
        "task": task,
        "model": plan.model,
        "repeats": plan.repeats,
        "histories": list(plan.histories),
        "session_turns": plan.session_turns,
        "new_tokens": plan.new_tokens,
        "turn_tokens": plan.turn_tokens,
        **extra,
    }


class BenchError(UserError):
    """A measurement could not be made; the message holds the child's last words."""


def run_child(config: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "codegen_ui.bench.work", json.dumps(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise BenchError(f"benchmark child failed:\n{proc.stderr[-2000:]}")
    return dict(json.loads(lines[-1]))


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per metric, the median over repetitions (nested dicts of numbers)."""
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, dict):
            out[key] = median_of([r[key] for r in runs])
        elif isinstance(value, (int, float)):
            out[key] = statistics.median(r[key] for r in runs)
        else:
            out[key] = value
    return out


def ratios(
    base: dict[str, Any], eng: dict[str, Any], largest: int, raw: dict[str, Any] | None = None
) -> dict[str, float]:
    ttft = eng["ttft_s"][str(largest)] / base["ttft_s"][str(largest)]
    result = {
        "decode_speedup": eng["decode_tok_s"] / base["decode_tok_s"],
        **(raw_ratios(eng, raw) if raw else {}),
        f"ttft_{largest}_ratio": ttft,
        "session_speedup": base["session_s"] / eng["session_s"],
    }
    return result


def raw_ratios(eng: dict[str, Any], raw: dict[str, Any]) -> dict[str, float]:
    """The engine's one stream over the bare int8 loop, and the bare loops over each other
    (float32 on the engine's threads: what the thread count alone gives the baseline)."""
    result = {
        "engine_vs_raw": eng["decode_tok_s"] / raw["raw"]["decode_tok_s"],
        "raw_vs_raw_exact": raw["raw"]["decode_tok_s"] / raw["raw_exact"]["decode_tok_s"],
    }
    for name, loop in (("engine", eng), ("raw", raw["raw"]), ("raw_exact", raw["raw_exact"])):
        limit = bandwidth_limit(raw["raw_exact"] if name == "raw_exact" else raw["raw"])
        if limit:
            result[f"{name}_vs_bandwidth_limit"] = loop["decode_tok_s"] / limit
    return result


def bandwidth_limit(loop: dict[str, Any]) -> float | None:
    """Tokens/s a bare loop would reach if reading its weights were all it did: the measured
    copy bandwidth over the bytes of weights one token reads; None if not measured."""
    if not loop.get("bandwidth_gb_s") or not loop.get("weight_mb_per_token"):
        return None
    return float(loop["bandwidth_gb_s"] * 1e3 / loop["weight_mb_per_token"])


def run(plan: Plan, progress: Any = print) -> dict[str, Any]:
    result: dict[str, Any] = {
        "machine": machine(),
        "model": plan.model,
        "plan": plan.__dict__ | {"histories": list(plan.histories)},
        "ratios": {},
    }
    if not plan.only_classroom:
        result |= single_user(plan, progress)
    if plan.classroom:
        progress(f"classroom: {plan.classroom} sessions at once, one at a time and batched ...")
        room = run_child(
            child_config(plan, "classroom", options=engine_options()["engine"])
            | {k: v for k, v in plan.__dict__.items() if k.startswith("classroom")}
        )
        result["classroom"] = room
        result["ratios"] |= classroom_ratios(room)
    if plan.llama_server:
        result |= beside_llama_cpp(plan, result, progress)
    result["machine"]["load_average_end"] = load_average()
    return result


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: figures from a busy machine say so."""
    import os

    return [round(x, 2) for x in os.getloadavg()]


def beside_llama_cpp(plan: Plan, result: dict[str, Any], progress: Any) -> dict[str, Any]:
    """llama.cpp on the same .gguf file, right after the engine's figures of this run, and the
    engine over it (`llama_cpp_*` ratios: above 1 the engine is faster, for times below 1)."""
    from pathlib import Path

    from codegen_ui.bench.llamacpp import measure

    if not plan.model.endswith(".gguf"):
        raise BenchError("the llama.cpp comparison needs a .gguf model file (--model FILE.gguf)")
    progress("llama.cpp on the same file, one stream and a class ...")
    theirs = measure(
        Path(plan.llama_server or ""),
        Path(plan.model),
        child_config(plan, "llama")
        | {k: v for k, v in plan.__dict__.items() if k.startswith("classroom")},
    )
    return {"llama_cpp": theirs, "ratios": result["ratios"] | llama_ratios(result, theirs)}


def llama_ratios(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    if "engine" in ours:
        out["llama_cpp_decode"] = ours["engine"]["decode_tok_s"] / theirs["decode_tok_s"]
        for size, seconds in theirs["ttft_s"].items():
            out[f"llama_cpp_ttft_{size}"] = ours["engine"]["ttft_s"][size] / seconds
        limit = bandwidth_limit(
            {
                "bandwidth_gb_s": ours.get("raw", {}).get("bandwidth_gb_s"),
                "weight_mb_per_token": theirs.get("weight_mb_per_token"),
            }
        )
        if limit:
            out["llama_cpp_vs_bandwidth_limit"] = theirs["decode_tok_s"] / limit
    if "classroom" in ours and "classroom" in theirs:
        for case, suffix in (("warm", ""), ("cold", "_cold")):
            mine, other = ours["classroom"][case]["batched"], theirs["classroom"][case]
            out[f"llama_cpp_classroom{suffix}_throughput"] = mine["tok_s"] / other["tok_s"]
            out[f"llama_cpp_classroom{suffix}_p95"] = mine["p95_s"] / other["p95_s"]
    return out


def single_user(plan: Plan, progress: Any) -> dict[str, Any]:
    engines = engine_options()
    progress(f"speed, {plan.repeats} repetitions, both engines in one process ...")
    runs = run_child(child_config(plan, "speed", engines=engines))
    base, eng = median_of(runs["baseline"]), median_of(runs["engine"])
    raw = {name: median_of(runs[name]) for name in RAW_LOOPS}
    for name, figures in (("baseline", base), ("engine", eng)):
        progress(f"memory of the {name} alone ...")
        figures |= run_child(child_config(plan, "memory", options=engines[name]))
    progress("agreement of the engine's greedy next token with float32 ...")
    agree = run_child({"task": "agreement", "model": plan.model})
    return {
        "baseline": base,
        "engine": eng,
        **raw,
        "runs": runs,
        "ratios": ratios(base, eng, max(plan.histories), raw),
        # Each repetition's figures were measured back to back, under the same load.
        "ratios_by_repetition": [
            ratios(b, e, max(plan.histories), dict(zip(RAW_LOOPS, loops, strict=True)))
            for b, e, *loops in zip(
                runs["baseline"], runs["engine"], *(runs[n] for n in RAW_LOOPS), strict=True
            )
        ],
        "agreement": agree,
    }


def machine() -> dict[str, Any]:
    import os

    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_start": load_average(),
    }


def table(result: dict[str, Any]) -> str:
    """The figures as text: baseline, engine, and engine over baseline; then the classroom."""
    lines = single_user_table(result) if "engine" in result else []
    if "llama_cpp" in result:
        lines += llama_table(result)
    if "classroom" in result:
        lines += classroom_table(result["classroom"])
        lines.append(
            "classroom ratios: "
            + ", ".join(f"{k}={v:.3f}" for k, v in result["ratios"].items() if "classroom" in k)
        )
    return "\n".join(lines)


def llama_table(result: dict[str, Any]) -> list[str]:
    theirs = result["llama_cpp"]
    lines = [
        f"llama.cpp on the same file ({theirs['threads']} threads, {theirs['binary']}):",
        f"  decode tokens/s, one stream: {theirs['decode_tok_s']:.1f} "
        f"(the server's own count: {theirs.get('server_decode_tok_s') or float('nan'):.1f})",
        *(
            f"  first token after a {h}-token history: {s:.3f} s"
            for h, s in theirs["ttft_s"].items()
        ),
    ]
    for case in ("warm", "cold"):
        if case in theirs.get("classroom", {}):
            room = theirs["classroom"][case]
            lines.append(
                f"  class of {room['turns']} at once, {case}: {room['tok_s']:.1f} tokens/s, "
                f"p95 {room['p95_s']:.2f} s"
            )
    lines.append(
        "engine over llama.cpp: "
        + ", ".join(f"{k}={v:.3f}" for k, v in result["ratios"].items() if "llama_cpp" in k)
    )
    return lines


def single_user_table(result: dict[str, Any]) -> list[str]:
    base, eng = result["baseline"], result["engine"]
    rows = [("decode tokens/s", base["decode_tok_s"], eng["decode_tok_s"])]
    if "raw" in result:  # the bare loops on the engine's threads, over the same baseline
        rows += [
            (
                "  bare int8 loop, decode tokens/s",
                base["decode_tok_s"],
                result["raw"]["decode_tok_s"],
            ),
            (
                "  bare float32 loop, decode tokens/s",
                base["decode_tok_s"],
                result["raw_exact"]["decode_tok_s"],
            ),
        ]
        limits = [bandwidth_limit(result["raw_exact"]), bandwidth_limit(result["raw"])]
        if limits[0] and limits[1]:
            rows.append(("  bandwidth limit, decode tokens/s", limits[0], limits[1]))
    rows += [
        (f"first token after a {h}-token history (s)", base["ttft_s"][h], eng["ttft_s"][h])
        for h in base["ttft_s"]
    ]
    rows += [
        (
            f"{result['plan']['session_turns']}-turn scripted session (s)",
            base["session_s"],
            eng["session_s"],
        ),
        ("resident after load (MiB)", base["rss_loaded_mib"], eng["rss_loaded_mib"]),
        ("resident at end (MiB)", base["rss_end_mib"], eng["rss_end_mib"]),
        (
            "peak resident while loading (MiB)",
            base.get("peak_rss_loading_mib", float("nan")),
            eng.get("peak_rss_loading_mib", float("nan")),
        ),
        ("peak resident, loading included (MiB)", base["peak_rss_mib"], eng["peak_rss_mib"]),
    ]
    lines = [f"{'':42}{'baseline':>10}{'engine':>10}{'engine/baseline':>17}"]
    lines += [
        f"{n:42}{b:>10.3f}{e:>10.3f}{e / b if b else float('nan'):>17.3f}" for n, b, e in rows
    ]
    agree = result["agreement"]
    lines += [
        f"baseline: {base['describe']}, whole prompt re-encoded every turn",
        f"engine: {eng['describe']}, KV cache kept across turns",
        *([f"bare loops: {result['raw']['describe']}"] if "raw" in result else []),
        *(
            [
                f"memory bandwidth (a {COPY_MIB} MiB copy, as STREAM's): "
                f"{result['raw']['bandwidth_gb_s']:.1f} GB/s; one token reads "
                f"{result['raw']['weight_mb_per_token']:.0f} MB of weights in the engine, "
                f"{result['raw_exact']['weight_mb_per_token']:.0f} MB in float32"
            ]
            if "bandwidth_gb_s" in result.get("raw", {})
            else []
        ),
        f"greedy next token of {agree['describe']} agrees with float32 at "
        f"{agree['agree']:.1%} of {agree['positions']} positions",
        "ratios: " + ", ".join(f"{k}={v:.3f}" for k, v in result["ratios"].items()),
        *(
            f"  repetition {i}: " + ", ".join(f"{k}={v:.3f}" for k, v in rep.items())
            for i, rep in enumerate(result.get("ratios_by_repetition", []), 1)
        ),
        f"medians of {result['plan']['repeats']} repetitions on {result['machine']['cpu']}, "
        f"{result['machine']['cores']} cores, load average at the start "
        f"{result['machine'].get('load_average_start', ['?'])[0]}",
    ]
    return lines
