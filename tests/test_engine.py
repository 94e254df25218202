"""The engine thread on the tiny real model (float32): batched equals one at a time, token for
token; cancel, trimmed histories, eviction, seeds and failures stay per request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import Delta, Finished, GenerationError, SamplingParams, render_prompt
from codegen_ui.engine import load_model

GREEDY = SamplingParams(max_new_tokens=24)
INSTRUCTIONS = ["Load the data.", "Sort it.", "Print the mean.", "Plot it.", "Save it."]


@pytest.fixture(scope="module")
def reference(tiny_model_dir: Path) -> Iterator[Any]:
    """One turn at a time, nothing cached: every prompt encoded afresh."""
    model = load_model(str(tiny_model_dir), device="cpu", precision="exact", cache_mib=0)
    model.engine_thread.batch_size = 1
    yield model
    model.close()


def batched(path: Path, **options: Any) -> Any:
    return load_model(str(path), device="cpu", precision="exact", batch_size=8, **options)


def complete(model: Any, prompt: str, params: SamplingParams = GREEDY) -> tuple[str, Finished]:
    events = list(model.stream(prompt, params))
    assert isinstance(events[-1], Finished)
    return "".join(e.text for e in events if isinstance(e, Delta)), events[-1]


def history(n: int, salt: int) -> list[tuple[str, str]]:
    """n turns of fixed code, different for each session, so prompts differ in length."""
    return [(INSTRUCTIONS[i % 5], f"x{salt} = {i}\n" * (1 + (i + salt) % 4)) for i in range(n)]


def together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run jobs on threads of their own, all started at once; each one's result, or the
    exception it raised, in order (a job still running after 120 s fails the test)."""
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # handed back to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a generation hung"
    return results


def test_sessions_written_together_equal_one_at_a_time(tiny_model_dir: Path, reference) -> None:  # type: ignore[no-untyped-def]
    model = batched(tiny_model_dir)
    try:
        # A long turn starts alone; six sessions with histories of 0 to 10 turns join it.
        long_prompt = render_prompt(history(2, 9), "Write a long function.")
        started = threading.Event()

        def long_turn() -> str:
            text = ""
            for event in model.stream(long_prompt, SamplingParams(max_new_tokens=60)):
                started.set()
                text += event.text if isinstance(event, Delta) else ""
            return text

        def session(salt: int) -> list[str]:
            started.wait(30)
            turns = history(2 * salt, salt)
            texts = []
            for instruction in INSTRUCTIONS[:3]:  # three turns: the cache serves each next one
                text, _ = complete(model, render_prompt(turns, instruction))
                texts.append(text)
                turns.append((instruction, text[:20]))
            return texts

        results = together([long_turn] + [lambda s=s: session(s) for s in range(6)])
        assert (
            model.engine_thread.rows > 2 * model.engine_thread.steps
        )  # batches of more than two, on average
        ref_long, _ = complete(reference, long_prompt, SamplingParams(max_new_tokens=60))
        assert results[0] == ref_long
        for salt, texts in enumerate(results[1:]):
            turns = history(2 * salt, salt)
            for instruction, text in zip(INSTRUCTIONS[:3], texts, strict=True):
                assert text == complete(reference, render_prompt(turns, instruction))[0]
                turns.append((instruction, text[:20]))
    finally:
        model.close()


def test_stop_cancels_one_request_and_leaves_the_rest(tiny_model_dir: Path, reference) -> None:  # type: ignore[no-untyped-def]
    model = batched(tiny_model_dir)
    prompts = [render_prompt(history(i, i), "Count the words.") for i in range(4)]
    params = SamplingParams(max_new_tokens=40)
    cancel = threading.Event()

    def stopped() -> tuple[str, Finished]:
        text, done = "", None
        for event in model.stream(prompts[0], params, cancel):
            if isinstance(event, Delta):
                text += event.text
                cancel.set()  # Stop, after the first piece of text
            else:
                done = event
        assert done is not None
        return text, done

    try:
        results = together(
            [stopped] + [lambda p=p: complete(model, p, params) for p in prompts[1:]]
        )
    finally:
        model.close()
    text, done = results[0]
    assert done.stop_reason == "cancelled" and done.new_tokens < 40
    assert complete(reference, prompts[0], params)[0].startswith(text)
    for prompt, (other, _) in zip(prompts[1:], results[1:], strict=True):
        assert other == complete(reference, prompt, params)[0]


def test_trimmed_history_and_eviction_under_a_small_budget(tiny_model_dir: Path, reference) -> None:  # type: ignore[no-untyped-def]
    # 1 MiB holds about four of these caches: six sessions evict one another.
    model = batched(tiny_model_dir, cache_mib=1)
    full = [history(6, s) for s in range(6)]
    try:
        first = together([lambda h=h: complete(model, render_prompt(h, "Sort it.")) for h in full])
        # The same sessions with their two oldest turns trimmed from the prompt.
        trimmed = together(
            [lambda h=h: complete(model, render_prompt(h[2:], "Sort it.")) for h in full]
        )
        assert model.kv.evictions > 0
    finally:
        model.close()
    for h, (text, _), (text2, _) in zip(full, first, trimmed, strict=True):
        assert text == complete(reference, render_prompt(h, "Sort it."))[0]
        assert text2 == complete(reference, render_prompt(h[2:], "Sort it."))[0]


def test_a_seed_gives_the_same_sample_alone_or_in_a_batch(tiny_model_dir: Path, reference) -> None:  # type: ignore[no-untyped-def]
    model = batched(tiny_model_dir)
    prompt = render_prompt(history(3, 1), "Plot it.")
    seeded = [SamplingParams(max_new_tokens=24, temperature=0.8, seed=s) for s in (1, 2, 3)]
    others = [render_prompt(history(i, i), "Save it.") for i in range(5)]
    try:
        results = together(
            [lambda p=p: complete(model, prompt, p) for p in seeded]
            + [lambda o=o: complete(model, o) for o in others]
        )
    finally:
        model.close()
    alone = [complete(reference, prompt, p)[0] for p in seeded]
    assert [text for text, _ in results[:3]] == alone
    assert len(set(alone)) > 1  # and the seed matters


def test_a_failing_request_does_not_take_the_others_down(tiny_model_dir: Path, reference) -> None:  # type: ignore[no-untyped-def]
    model = batched(tiny_model_dir)
    # Fails when its first token is picked (NaN probabilities).
    broken = SamplingParams(max_new_tokens=24, temperature=float("nan"))
    too_long = render_prompt([("Define it.", "y = 1\n" * 200)], "Use it.")  # > 512 tokens
    poison = render_prompt(history(1, 7), "POISON")  # its decode steps fail, batched or alone
    prompts = [render_prompt(history(i, i), "Print the mean.") for i in range(4)]
    decode = model.forward.decode

    def failing_decode(caches: list[Any], tokens: list[int]) -> Any:
        poisoned = [r.cache for r in model.engine_thread._decoding if "POISON" in r.prompt]
        if any(c is p for c in caches for p in poisoned):
            raise RuntimeError("poisoned row")
        return decode(caches, tokens)

    model.forward.decode = failing_decode
    try:
        results = together(
            [
                lambda: complete(model, prompts[0], broken),
                lambda: complete(model, too_long),
                lambda: complete(model, poison),
            ]
            + [lambda p=p: complete(model, p) for p in prompts]
        )
        assert complete(model, prompts[0])[0] == results[3][0]  # the engine still serves
    finally:
        model.close()
    assert all(isinstance(r, GenerationError) for r in results[:3]), results[:3]
    assert "512" in str(results[1]) and "poisoned row" in str(results[2])
    for prompt, (text, _) in zip(prompts, results[3:], strict=True):
        assert text == complete(reference, prompt)[0]


def test_every_forward_pass_runs_on_the_engine_thread(tiny_model_dir: Path) -> None:
    model = batched(tiny_model_dir)
    threads: set[str] = set()
    hook = model.model.register_forward_pre_hook(
        lambda *_: threads.add(threading.current_thread().name)
    )
    try:
        # A generator resumed on another thread each step, as Gradio's worker pool does.
        stream = model.stream(render_prompt([], "Sort it."), GREEDY)
        events = together([lambda: next(stream)])
        while not isinstance(events[-1], Finished):
            events += together([lambda: next(stream)])
    finally:
        hook.remove()
        model.close()
    assert threads == {"engine-thread"}


def test_one_at_a_time_serves_in_arrival_order(tiny_model_dir: Path) -> None:
    model = load_model(str(tiny_model_dir), device="cpu", precision="exact", batch_size=1)
    order: list[int] = []
    first = model.stream(render_prompt([], "Sort it."), SamplingParams(max_new_tokens=40))
    threads = []

    def later(n: int) -> None:
        stream = model.stream(render_prompt(history(n, n), "Plot it."), GREEDY)
        next(stream)  # a stream submits its request on the first next()
        order.append(n)
        list(stream)

    try:
        next(first)  # the first is writing; three more arrive, one after the other
        for n in (1, 2, 3):
            threads.append(threading.Thread(target=later, args=(n,)))
            threads[-1].start()
            while model.activity().waiting < n:
                threading.Event().wait(0.01)
        assert model.activity().writing == 1 and model.activity().full
        list(first)
        for t in threads:
            t.join(60)
    finally:
        model.close()
    assert order == [1, 2, 3]
