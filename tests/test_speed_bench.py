"""The benchmark's plumbing on the tiny model: the children's measurements in-process, the
medians, ratios and table, the CLI's argument errors. No speed is asserted: timings are the
benchmark's."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen_ui.bench.plan import median_of, ratios, table
from codegen_ui.bench.work import cut, history_of, memory, speed
from codegen_ui.cli import main


def test_history_of_stays_under_its_token_size(tiny_model) -> None:  # type: ignore[no-untyped-def]
    from codegen_ui.core import render_prompt

    assert history_of(tiny_model, 0) == []
    history = history_of(tiny_model, 300)
    assert history and tiny_model.count_tokens(render_prompt(history, "x")) <= 300


def test_cut_keeps_a_leading_part_of_the_completion() -> None:
    raw = "a = 1\nb = 2\nc = 3\nd = 4"
    assert [cut(raw, t) for t in range(3)] == ["a = 1", "a = 1\nb = 2", "a = 1\nb = 2\nc = 3"]
    assert cut("x", 0) == "x"


@pytest.fixture(scope="module")
def figures(tiny_model_dir: Path) -> dict[str, object]:
    config = {
        "model": str(tiny_model_dir),
        "repeats": 2,
        "histories": [0, 120],
        "session_turns": 2,
        "new_tokens": 6,
        "turn_tokens": 6,
        "copy_mib": 8,
    }
    engines = {
        "baseline": {"precision": "exact", "cache_mib": 0, "threads": 0},
        "engine": {"precision": "fast", "cache_mib": 64},
    }
    runs = speed(config | {"engines": engines})
    assert {name: len(r) for name, r in runs.items()} == {
        "baseline": 2,
        "engine": 2,
        "raw": 2,
        "raw_exact": 2,
    }
    base, eng = runs["baseline"][0], runs["engine"][0]
    base |= memory(config | {"options": engines["baseline"]})
    eng |= memory(config | {"options": engines["engine"]})
    return {
        "baseline": base,
        "engine": eng,
        "raw": runs["raw"][0],
        "raw_exact": runs["raw_exact"][0],
    }


def test_one_measurement_has_every_figure(figures) -> None:  # type: ignore[no-untyped-def]
    base, eng = figures["baseline"], figures["engine"]
    assert set(base["ttft_s"]) == {"0", "120"}
    for result in (base, eng):
        assert result["decode_tok_s"] > 0 and result["session_s"] > 0
        assert result["peak_rss_mib"] >= result["peak_rss_loading_mib"]
        assert result["peak_rss_loading_mib"] > 0 and result["rss_loaded_mib"] > 0
    assert "float32" in base["describe"] and "int8" in eng["describe"]
    for name, precision in (
        ("raw", "int8 weights, bfloat16 activations, batch-invariant"),
        ("raw_exact", "float32"),
    ):
        assert figures[name]["decode_tok_s"] > 0
        assert "bare loop" in figures[name]["describe"] and precision in figures[name]["describe"]


def test_medians_ratios_and_table(figures) -> None:  # type: ignore[no-untyped-def]
    base, eng = figures["baseline"], figures["engine"]
    slower = base | {"decode_tok_s": base["decode_tok_s"] / 2, "session_s": 9.0}
    med = median_of([base, slower, base])
    assert med["decode_tok_s"] == base["decode_tok_s"] and med["ttft_s"] == base["ttft_s"]
    raw = {name: figures[name] for name in ("raw", "raw_exact")}
    got = ratios(base, eng, 120, raw)
    assert got["decode_speedup"] == eng["decode_tok_s"] / base["decode_tok_s"]
    assert got["engine_vs_raw"] == eng["decode_tok_s"] / raw["raw"]["decode_tok_s"]
    assert got["raw_vs_raw_exact"] == (
        raw["raw"]["decode_tok_s"] / raw["raw_exact"]["decode_tok_s"]
    )
    assert got["ttft_120_ratio"] == eng["ttft_s"]["120"] / base["ttft_s"]["120"]
    result = {
        "baseline": base,
        "engine": eng,
        **raw,
        "ratios": got,
        "plan": {"session_turns": 2, "repeats": 1},
        "machine": {"cpu": "test cpu", "cores": 2},
        "agreement": {
            "describe": "fast",
            "agree": 0.5,
            "positions": 4,
        },
    }
    text = table(result)
    assert "first token after a 120-token history" in text and "decode_speedup=" in text
    assert "bare int8 loop, decode tokens/s" in text and "engine_vs_raw=" in text
    assert "peak resident while loading" in text
    assert "memory bandwidth (a 256 MiB copy, as STREAM's)" in text
    assert "engine_vs_bandwidth_limit=" in text and "bandwidth limit, decode tokens/s" in text
    assert "agrees with float32 at 50.0% of 4 positions" in text


def test_bench_rejects_bad_histories(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--model", "x", "--histories", "0,lots"]) == 2
    assert "--histories must be whole numbers" in capsys.readouterr().err


def test_the_classroom_measures_both_engines_in_both_cases(tiny_model_dir: Path) -> None:
    from codegen_ui.bench.classroom import percentile, ratios, run_classroom

    config = {
        "model": str(tiny_model_dir),
        "options": {"precision": "exact", "cache_mib": 64, "batch_size": 4},
        "classroom": 3,
        "classroom_history": 120,
        "classroom_tokens": 6,
        "classroom_repeats": 1,
        "classroom_cache_mib": 64,
    }
    room = run_classroom(config)
    for case in ("warm", "cold"):
        for engine in ("one_at_a_time", "batched"):
            figures = room[case][engine]
            assert figures["turns"] == 3 and figures["new_tokens"] > 0
            assert figures["median_s"] <= figures["p95_s"] <= figures["max_s"]
    got = ratios(room)
    assert set(got) == {
        "classroom_throughput",
        "classroom_p95",
        "classroom_cold_throughput",
        "classroom_cold_p95",
    }
    text = table({"classroom": room, "ratios": got})
    assert "warm (histories cached)" in text and "classroom_p95=" in text
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
