"""How many torch threads the engine thread uses, chosen by measuring the steps themselves.

On a quiet machine every core helps a decode step (on 2 cores, the 350M model in int8 decodes
about 1.6x faster on 2 threads than on 1); on a busy one a pool of threads meets at a barrier
dozens of times per token, one descheduled member stalls the others, and one thread is several
times faster (docs: performance). Which one holds moves with the load, and the sessions'
kernels run on the same cores, so no fixed count is right. `ThreadTuner` keeps, for each kind
of step (a decode pass of n rows, a prefill chunk), a moving average of its seconds at each
candidate count, uses the fastest, and now and then tries another: more rarely the slower that
one was, so a bad choice costs little while the machine stays as it is and is found again when
it changes. It is bookkeeping only: the caller sets torch's count and times the step. It does
not know about models, requests or torch.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass, field


def usable_cores() -> int:
    """The cores this process may run on (its affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def thread_candidates(cores: int) -> tuple[int, ...]:
    """Half the cores and all of them (just one count on one core)."""
    return tuple(sorted({max(1, cores // 2), cores}))


@dataclass
class ThreadTuner:
    candidates: tuple[int, ...]
    period: int = 48  # steps between tries of another count when the two are equally fast
    max_period: int = 2048  # the rarest a much slower count is tried again
    alpha: float = 0.3  # weight of the newest step in a moving average
    _seconds: dict[tuple[Hashable, int], float] = field(default_factory=dict)
    _since_try: dict[Hashable, int] = field(default_factory=dict)
    _next_try: dict[Hashable, int] = field(default_factory=dict)

    def choose(self, kind: Hashable) -> int:
        """The thread count for the next step of `kind`."""
        untried = [n for n in self.candidates if (kind, n) not in self._seconds]
        if untried:
            return untried[0]
        best = self.best(kind)
        since = self._since_try.get(kind, 0) + 1
        self._since_try[kind] = since
        others = [n for n in self.candidates if n != best]
        if not others:
            return best
        other = others[since % len(others)]
        slower = self._seconds[kind, other] / max(self._seconds[kind, best], 1e-9)
        if since >= min(self.max_period, round(self.period * slower)):
            self._since_try[kind] = 0
            return other
        return best

    def record(self, kind: Hashable, threads: int, seconds: float) -> None:
        key = (kind, threads)
        old = self._seconds.get(key)
        self._seconds[key] = seconds if old is None else old + self.alpha * (seconds - old)

    def best(self, kind: Hashable) -> int:
        """The fastest count measured for `kind` so far (the first candidate before any)."""
        tried = [n for n in self.candidates if (kind, n) in self._seconds]
        if not tried:
            return self.candidates[0]
        return min(tried, key=lambda n: self._seconds[kind, n])
