"""Token ids as the source of truth for text the model has already seen.

The session hands the model text; re-tokenising that text would change tokens at the seams
(where a completion was cut, say) and would waste the work already done on them. `PrefixIds`
keeps the token ids of recent prompt + completion sequences, and for a new prompt returns the
ids of its longest remembered prefix plus a fresh encoding of the rest only (by `encode_rest`,
which for SentencePiece-style tokenizers leaves out the space they put in front of a text).
A cache of model state can key on these ids. Pure Python: the encoder and decoder are passed in.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable


def common_prefix_len(ids: list[int], decode: Callable[[list[int]], str], text: str) -> int:
    """The largest m such that decode(ids[:m]) is a prefix of text (binary search).

    Prefixes that decode to a prefix of `text` form a run from 0 up, since decoding a longer
    id list only appends characters; a half multi-byte character decodes to U+FFFD, which is
    never a prefix of real text, so the search stops before it.
    """
    lo, hi = 0, len(ids)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text.startswith(decode(ids[:mid])):
            lo = mid
        else:
            hi = mid - 1
    return lo


class PrefixIds:
    """Remembers up to `capacity` id sequences, most recently used last."""

    def __init__(
        self,
        encode: Callable[[str], list[int]],
        decode: Callable[[list[int]], str],
        capacity: int = 64,
        encode_rest: Callable[[str], list[int]] | None = None,
    ) -> None:
        self.encode = encode
        self.encode_rest = encode_rest or encode
        self.decode = decode
        self.capacity = capacity
        self._seqs: OrderedDict[tuple[int, ...], None] = OrderedDict()

    def ids_for(self, text: str) -> tuple[list[int], int]:
        """Token ids for text, and how many of them came from a remembered sequence."""
        best: list[int] = []
        best_key: tuple[int, ...] | None = None
        for key in self._seqs:
            m = common_prefix_len(list(key), self.decode, text)
            if m > len(best):
                best, best_key = list(key[:m]), key
        if best_key is not None:
            self._seqs.move_to_end(best_key)
        rest = text[len(self.decode(best)) :]
        if not best:
            return self.encode(text), 0
        return best + (self.encode_rest(rest) if rest else []), len(best)

    def remember(self, ids: list[int]) -> None:
        key = tuple(ids)
        self._seqs[key] = None
        self._seqs.move_to_end(key)
        while len(self._seqs) > self.capacity:
            self._seqs.popitem(last=False)
