"""The engine thread's torch thread count, chosen by measuring: the tuner tries every count,
settles on the fastest per kind of step, tries the other again more rarely the slower it was,
and follows a change of which is faster. Pure bookkeeping, so scripted timings drive it."""

from __future__ import annotations

from collections import Counter

from codegen_ui.engine.threads import ThreadTuner, thread_candidates


def run(tuner: ThreadTuner, kind: object, cost: dict[int, float], steps: int) -> Counter[int]:
    used: Counter[int] = Counter()
    for _ in range(steps):
        n = tuner.choose(kind)
        used[n] += 1
        tuner.record(kind, n, cost[n])
    return used


def test_candidates_are_half_the_cores_and_all() -> None:
    assert thread_candidates(1) == (1,)
    assert thread_candidates(2) == (1, 2)
    assert thread_candidates(16) == (8, 16)


def test_it_settles_on_the_faster_and_tries_the_slower_more_rarely_the_slower_it_is() -> None:
    mild, harsh = ThreadTuner((1, 2)), ThreadTuner((1, 2))
    mild_use = run(mild, "decode", {1: 0.050, 2: 0.030}, 2000)
    harsh_use = run(harsh, "decode", {1: 0.040, 2: 0.400}, 2000)
    assert mild.best("decode") == 2 and harsh.best("decode") == 1
    assert mild_use[1] < 0.05 * 2000 and harsh_use[2] < 0.01 * 2000
    assert harsh_use[2] >= 2  # never given up: a change of load must be seen again
    assert harsh_use[2] / 2000 < mild_use[1] / 2000


def test_kinds_are_measured_apart() -> None:
    tuner = ThreadTuner((1, 2))
    run(tuner, ("decode", 1), {1: 0.05, 2: 0.03}, 200)
    run(tuner, ("decode", 16), {1: 0.10, 2: 0.30}, 200)
    assert tuner.best(("decode", 1)) == 2 and tuner.best(("decode", 16)) == 1


def test_it_follows_a_change_of_load() -> None:
    tuner = ThreadTuner((1, 2))
    run(tuner, "decode", {1: 0.05, 2: 0.03}, 500)  # quiet: two threads
    assert tuner.best("decode") == 2
    run(tuner, "decode", {1: 0.05, 2: 0.50}, 100)  # busy: two threads now stall
    assert tuner.best("decode") == 1
    used = run(tuner, "decode", {1: 0.05, 2: 0.03}, 3000)  # quiet again
    assert tuner.best("decode") == 2 and used[2] > used[1]


def test_one_candidate_is_always_chosen() -> None:
    tuner = ThreadTuner((4,))
    assert set(run(tuner, "decode", {4: 0.01}, 50)) == {4}
