"""KV cache reuse across turns: the store's rules; token-identical output with and without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen_ui.core import Delta, Finished, SamplingParams, render_prompt, truncate
from codegen_ui.engine.cache import Entry, KVStore, shared_prefix

MIB = 2**20


def entry(ids: list[int], prompt_len: int, nbytes: int = 10) -> Entry:
    return Entry(tuple(ids), prompt_len, state=object(), nbytes=nbytes)


def test_shared_prefix() -> None:
    assert shared_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert shared_prefix([], [1]) == 0
    assert shared_prefix([1, 2], [1, 2]) == 2


def test_continuing_a_conversation_takes_its_entry() -> None:
    store = KVStore(1000)
    store.put(entry([1, 2, 3, 4, 5, 6], prompt_len=3))
    # The next prompt holds the whole old prompt and part of the generated tail (the cut).
    match = store.match([1, 2, 3, 4, 9, 9])
    assert match is not None and match.shared == 4 and match.owned
    assert len(store) == 0  # taken: its generated tail past the cut is dead


def test_sharing_only_a_preamble_copies_and_keeps_the_entry() -> None:
    store = KVStore(1000)
    mine = entry([1, 2, 3, 4, 5, 6], prompt_len=4)
    store.put(mine)
    match = store.match([1, 2, 7])  # another session, or the oldest turns trimmed away
    assert match is not None and match.shared == 2 and not match.owned
    assert len(store) == 1 and store.match([1, 2, 3, 4, 5]) == type(match)(mine, 5, True)


def test_longest_shared_prefix_wins_and_no_match_is_none() -> None:
    store = KVStore(1000)
    store.put(entry([1, 2, 3], 3))
    store.put(entry([1, 2, 5, 6], 2))
    match = store.match([1, 2, 5, 6, 7])
    assert match is not None and match.entry.ids == (1, 2, 5, 6)
    assert store.match([9]) is None


def test_budget_evicts_least_recently_used_first() -> None:
    store = KVStore(25)
    store.put(entry([1], 1))
    store.put(entry([2], 1))
    assert store.match([1, 5]) is not None  # takes [1]...
    store.put(entry([1, 5], 2))  # ...and puts it back as the most recent
    store.put(entry([3], 1))  # over budget: [2] is the least recently used
    assert {e.entry.ids for e in (store.match([1, 5, 0]), store.match([3, 0])) if e} == {
        (1, 5),
        (3,),
    }
    assert store.match([2, 0]) is None and store.evictions == 1


def test_entry_over_the_whole_budget_is_not_kept() -> None:
    store = KVStore(5)
    store.put(entry([1, 2], 2, nbytes=6))
    assert len(store) == 0 and store.nbytes == 0


# --- the real backend on the tiny model -------------------------------------------------------


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from codegen_ui.engine import TransformersModel

    return TransformersModel.load(str(tiny_model_dir), device="cpu", precision="exact")


def complete(model, prompt: str, params: SamplingParams) -> tuple[str, Finished]:  # type: ignore[no-untyped-def]
    events = list(model.stream(prompt, params))
    done = events[-1]
    assert isinstance(done, Finished)
    return "".join(e.text for e in events if isinstance(e, Delta)), done


def cut(raw: str, turn: int) -> str:
    """The code a turn keeps: the paper's cut, or (random weights rarely trigger it) a cut at
    a point that moves from turn to turn, often inside a token."""
    code = truncate(raw)
    return code if code != raw else raw[: max(1, len(raw) * (turn % 3 + 1) // 4)]


def converse(model, params: SamplingParams) -> Iterator[tuple[str, Finished]]:  # type: ignore[no-untyped-def]
    """Two interleaved sessions, a regeneration and a trimmed history, in one script."""
    instructions = ["Assign 3 to a.", "Print a.", "Define add.", "Call add(a, 4).", "Print it."]
    histories: list[list[tuple[str, str]]] = [[], []]
    for turn, instruction in enumerate(instructions):
        for history in histories:
            raw, done = complete(model, render_prompt(history, instruction), params)
            yield raw, done
            history.append((instruction, cut(raw, turn)))
    yield complete(model, render_prompt(histories[0][:-1], instructions[-1]), params)  # regenerate
    yield complete(model, render_prompt(histories[0][2:], "Print a."), params)  # oldest trimmed


@pytest.fixture(scope="module")
def plain_greedy(model) -> list[tuple[str, Finished]]:  # type: ignore[no-untyped-def]
    # The script without any cache, once for both budgets: greedy, so the same either time.
    model.kv = KVStore(0)
    return list(converse(model, SamplingParams(max_new_tokens=16)))


# Tiny-model caches take 1 KiB a token in 256-token steps: 300 kB keeps at most one.
@pytest.mark.parametrize("budget", [64 * MIB, 300_000])
def test_greedy_multi_turn_is_token_identical_with_and_without_cache(  # type: ignore[no-untyped-def]
    model, plain_greedy: list[tuple[str, Finished]], budget: int
) -> None:
    params = SamplingParams(max_new_tokens=16)
    plain = plain_greedy
    model.kv = KVStore(budget)
    cached = list(converse(model, params))
    assert [raw for raw, _ in cached] == [raw for raw, _ in plain]
    assert [d.prompt_tokens for _, d in cached] == [d.prompt_tokens for _, d in plain]
    assert all(d.reused_tokens == 0 for _, d in plain)
    reused = [d.reused_tokens for _, d in cached]
    if budget == 300_000:  # caches came and went, the text did not change
        assert model.kv.evictions > 0
    else:  # later turns of each session encode only their new tokens
        assert all(r > 0 for r in reused[2:])
        assert sum(reused) > sum(d.prompt_tokens for _, d in cached) // 2


def test_seeded_sampling_is_identical_with_and_without_cache(model) -> None:  # type: ignore[no-untyped-def]
    params = SamplingParams(max_new_tokens=12, temperature=0.8, seed=7)
    model.kv = KVStore(0)
    plain = [raw for raw, _ in converse(model, params)]
    model.kv = KVStore(64 * MIB)
    assert [raw for raw, _ in converse(model, params)] == plain


def test_trimmed_history_reuses_only_the_shared_start(model) -> None:  # type: ignore[no-untyped-def]
    model.kv = KVStore(64 * MIB)
    params = SamplingParams(max_new_tokens=8)
    history = [("Assign 3 to a.", "a = 3"), ("Print a.", "print(a)")]
    complete(model, render_prompt(history, "Add one to a."), params)
    trimmed = render_prompt(history[1:], "Add one to a.")
    _, done = complete(model, trimmed, params)
    # Only the shared start (the preamble) lines up: positions past it held the dropped turn.
    full = render_prompt(history, "Add one to a.")
    same = [a == b for a, b in zip(full, trimmed, strict=False)]
    shared_text = full[: same.index(False)]
    assert 0 < done.reused_tokens <= model.count_tokens(shared_text)
    assert len(model.kv) == 2  # the longer conversation's cache was copied from, not taken


def test_fast_precision_loads_int8_reuses_cache_and_is_deterministic(tiny_model_dir: Path) -> None:
    # int8 weights: the same conversation twice writes the same code, cache reused.
    from codegen_ui.engine import TransformersModel

    fast = TransformersModel.load(str(tiny_model_dir), device="cpu", precision="fast")
    assert "int8" in fast.describe()
    params = SamplingParams(max_new_tokens=6)
    runs = []
    for _ in range(2):
        fast.kv = KVStore(64 * MIB)
        runs.append(list(converse(fast, params)))
    assert [raw for raw, _ in runs[0]] == [raw for raw, _ in runs[1]]
    assert all(done.reused_tokens > 0 for _, done in runs[0][2:])
