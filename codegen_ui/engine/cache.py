"""Which model state can serve a new prompt: a store of KV caches keyed by token ids.

Each entry is the model state (a KV cache) after reading exactly `ids`, plus `prompt_len`, how
many of those ids were a prompt (the rest were generated, and may have been cut since). For a new
prompt the store finds the entry sharing the longest run of leading token ids. The caller then
either *takes* it (removes it, crops it in place and extends it: the new prompt carries on that
conversation) or *copies* the shared prefix (another session with the same preamble, or a history
whose oldest turns were trimmed away, so positions no longer line up past the prefix). Entries are
bounded by a byte budget shared by all sessions, least recently used evicted first.

Pure Python: the cache objects are opaque here; their size and cropping come from the backend.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def shared_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading ids a and b have in common."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


@dataclass(frozen=True)
class Entry:
    ids: tuple[int, ...]  # the tokens the state has read, in order
    prompt_len: int  # how many of them were the prompt (the rest were generated)
    state: Any  # the backend's cache object (a KV cache)
    nbytes: int  # memory it holds


@dataclass(frozen=True)
class Match:
    """The best entry for a prompt and how much of it is usable."""

    entry: Entry
    shared: int  # leading ids the entry and the prompt have in common
    owned: bool  # the entry was taken out of the store (crop and extend it in place)


class KVStore:
    """KV caches of recent sequences, within `budget_bytes` across all sessions (LRU)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[tuple[int, ...], Entry] = OrderedDict()
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self._entries.values())

    def match(self, ids: Sequence[int]) -> Match | None:
        """The entry sharing the most leading ids with `ids`, or None if none shares any.

        When the prompt contains the entry's whole prompt, it carries on that conversation
        (the next turn, or a regeneration): the entry is taken out, since its generated tail
        is dead from now on. Otherwise the entry stays for its own conversation and the
        caller must copy the shared prefix out of it.
        """
        best: Entry | None = None
        best_shared = 0
        for entry in self._entries.values():
            shared = shared_prefix(entry.ids, ids)
            if shared > best_shared:
                best, best_shared = entry, shared
        if best is None:
            return None
        owned = best_shared >= best.prompt_len
        if owned:
            del self._entries[best.ids]
        return Match(best, best_shared, owned)

    def put(self, entry: Entry) -> None:
        """Add an entry as the most recently used, then evict down to the budget."""
        self._entries.pop(entry.ids, None)
        if entry.nbytes > self.budget_bytes or not entry.ids:
            return
        self._entries[entry.ids] = entry
        while self.nbytes > self.budget_bytes:
            self._entries.popitem(last=False)
            self.evictions += 1

    def clear(self) -> None:
        self._entries.clear()
