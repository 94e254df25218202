"""Every family on the engine's batched path, and one on its one-at-a-time path, each a tiny
random model built here, in exact precision: batched equals one at a time token for token
(greedy and seeded top-k samples, chunked prefill), reusing the cache across turns equals
encoding each prompt afresh, and the streamed text equals the final decode of the ids (less a
character the end left half written)."""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import Delta, Finished, SamplingParams, render_prompt
from codegen_ui.engine import load_model
from tests.test_engine import together
from tests.tiny import FALLBACK_FAMILY, FAMILIES, build_tiny_family

GREEDY = SamplingParams(max_new_tokens=16)
SAMPLED = SamplingParams(max_new_tokens=16, temperature=0.9, top_k=20, seed=7)
# Non-ASCII text: the SentencePiece-style tokenizer spells it with byte-fallback tokens.
TURNS = ["Load the data.", "Sort it, café-style → fast.", "Print the mean."]


@pytest.fixture(scope="module", params=[*FAMILIES, FALLBACK_FAMILY])
def family_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    family = str(request.param)
    return build_tiny_family(tmp_path_factory.mktemp("families") / family, family)


def one_at_a_time(folder: Path, precision: str = "exact") -> Any:
    """One request at a time, nothing cached."""
    model = load_model(str(folder), device="cpu", precision=precision, cache_mib=0)
    model.engine_thread.batch_size = 1
    return model


def batched(folder: Path, precision: str = "exact") -> Any:
    """Batched (where the family allows), caching, prompts fed 8 tokens a chunk."""
    model = load_model(str(folder), device="cpu", precision=precision, batch_size=8)
    model.engine_thread.prefill_chunk = 8
    return model


@pytest.fixture(scope="module")
def reference(family_dir: Path) -> Iterator[Any]:
    model = one_at_a_time(family_dir)
    yield model
    model.close()


@pytest.fixture(scope="module")
def engine(family_dir: Path) -> Iterator[Any]:
    model = batched(family_dir)
    yield model
    model.close()


def complete(model: Any, prompt: str, params: SamplingParams = GREEDY) -> tuple[str, Finished]:
    events = list(model.stream(prompt, params))
    assert isinstance(events[-1], Finished)
    return "".join(e.text for e in events if isinstance(e, Delta)), events[-1]


def history(n: int, salt: int) -> list[tuple[str, str]]:
    return [(TURNS[i % 3], f"x{salt} = {i}\n" * (1 + (i + salt) % 3)) for i in range(n)]


def test_the_path_is_named(engine: Any, family_dir: Path) -> None:
    family = family_dir.name
    batched = family != FALLBACK_FAMILY
    assert engine.batched is batched
    expected = "batched, up to 8 together" if batched else f"one at a time: {family} is not"
    assert expected in engine.describe()


def test_batched_equals_one_at_a_time(engine: Any, reference: Any) -> None:
    batched_equals_alone(engine, reference)


@contextlib.contextmanager
def arriving_together(thread: Any, n: int) -> Iterator[None]:
    """The engine thread admits nothing until `n` requests were submitted, then all of them.
    Started at once, the jobs' threads may still reach the engine far apart on a loaded
    machine, each turn ending before the next arrives, and no step decodes two rows (seen
    once: 38 rows in 38 steps)."""
    came = threading.Event()
    submitted = itertools.count(1)
    submit, admit = thread.submit, thread._admit

    def counted(*args: Any, **kwargs: Any) -> Any:
        request = submit(*args, **kwargs)
        if next(submitted) >= n:
            came.set()
        return request

    def held() -> None:
        came.wait(60)
        thread._take_inbox(block=False)
        admit()

    setattr(thread, "submit", counted)  # noqa: B010 - shadows the method on this instance only
    setattr(thread, "_admit", held)  # noqa: B010
    try:
        yield
    finally:
        delattr(thread, "submit")
        delattr(thread, "_admit")


def batched_equals_alone(engine: Any, reference: Any) -> list[Any]:
    """Four greedy and two seeded prompts at once on `engine` write what `reference` writes
    for each alone; what `engine` wrote."""
    prompts = [render_prompt(history(n, n), TURNS[n % 3]) for n in range(4)]
    jobs = [lambda p=p: complete(engine, p) for p in prompts]
    jobs += [lambda p=p: complete(engine, p, SAMPLED) for p in prompts[:2]]
    before = engine.engine_thread.steps, engine.engine_thread.rows
    with arriving_together(engine.engine_thread, len(jobs)):
        results = together(jobs)
    assert not [r for r in results if isinstance(r, Exception)]
    alone = [complete(reference, p) for p in prompts]
    alone += [complete(reference, p, SAMPLED) for p in prompts[:2]]
    assert [r[0] for r in results] == [a[0] for a in alone]
    assert [r[1].new_tokens for r in results] == [a[1].new_tokens for a in alone]
    steps, rows = engine.engine_thread.steps - before[0], engine.engine_thread.rows - before[1]
    if engine.batched:
        assert rows > steps  # some steps decoded several rows in one pass
    else:
        assert rows == steps
    return results


def test_cache_reuse_across_turns_equals_none(engine: Any, reference: Any) -> None:
    turns: list[tuple[str, str]] = history(1, 5)
    reused = []
    for instruction in TURNS:
        prompt = render_prompt(turns, instruction)
        text, done = complete(engine, prompt)
        fresh, _ = complete(reference, prompt)
        assert text == fresh
        reused.append(done.reused_tokens)
        turns.append((instruction, text[:12] + "\ny = 1\n"))  # cut, as a turn is
    if engine.batched:  # the first turn shares the preamble only; the next ones, a whole turn
        assert all(n > reused[0] for n in reused[1:])


def test_streamed_text_equals_the_final_decode(engine: Any) -> None:
    for n, params in [(0, GREEDY), (2, SAMPLED), (3, SamplingParams(max_new_tokens=30))]:
        prompt = render_prompt(history(n, 9), TURNS[1])
        text, done = complete(engine, prompt, params)
        # The ids the model saw and wrote are remembered, most recent last.
        seq = list(list(engine.prefixes._seqs)[-1])
        ids = engine.lead + seq
        prompt_len = done.prompt_tokens
        assert engine.decode(ids[:prompt_len]).endswith(prompt)
        full = engine.decode(ids)
        assert full.startswith(engine.decode(ids[:prompt_len]))
        # Less a character the end left half written, which is never shown.
        assert text == full[len(engine.decode(ids[:prompt_len])) :].rstrip("\ufffd")
        assert done.new_tokens == len(ids) - prompt_len + (done.stop_reason == "eos")


def chat_prompt(model: Any, turns: list[tuple[str, str]], instruction: str) -> str:
    from codegen_ui.core import Ask, fit

    fitted = fit(
        "chat", turns, Ask(instruction), model.count_tokens, 512, 16, "", model.render_chat
    )
    return fitted.text


def test_chat_turns_grow_by_appending_reuse_the_cache_and_equal_one_at_a_time(
    engine: Any, reference: Any
) -> None:
    """The chat format on every family: its template renders (the system message folded in
    where the template has no system role), a turn's prompt starts with the previous prompt
    and its answer, so the cache pays, and batched equals one at a time."""
    from codegen_ui.core import SYSTEM, chat_code

    assert engine.has_chat_template and engine.turn_end_ids <= engine.eos_ids | {0}
    turns: list[tuple[str, str]] = []
    reused, previous = [], ""
    for instruction in TURNS[:2]:  # a third would not fit the tiny context untrimmed
        prompt = chat_prompt(engine, turns, instruction)
        assert SYSTEM in prompt and prompt.endswith("### assistant\n```python\n")
        assert prompt.count("<s>") <= 1  # a template's own BOS is not doubled by the engine
        if previous:
            assert prompt.startswith(previous)  # grown by appending: the cached prefix is valid
        events = list(engine.stream(prompt, GREEDY, prompt_format="chat"))
        text = "".join(e.text for e in events if isinstance(e, Delta))
        fresh = "".join(
            e.text
            for e in reference.stream(prompt, GREEDY, prompt_format="chat")
            if isinstance(e, Delta)
        )
        assert text == fresh
        assert isinstance(events[-1], Finished)
        reused.append(events[-1].reused_tokens)
        code = f"y = {len(turns)}"  # a random model's text is no code: a cut one stands in
        assert "```" not in chat_code(text)
        turns.append((instruction, code))
        previous = prompt + code + "\n```"
    if engine.batched:
        assert all(n > reused[0] for n in reused[1:])
