"""The answer the kernel sent, judged against the gold by the reference's rules (this side).

`decode` rebuilds `wire`'s tagged JSON with constructors only (a malformed answer is a
`WireError`, never code run). The kernel has already applied the reference's first steps and
the cast to the gold's type, so what is left is `check_equivalence`'s last step: `==` for str,
int, list and bool (lists exactly, tuples inside them staying tuples), within 1e-6 for floats,
`np.allclose` for a pandas Series, and a string comparison for a bool gold.
`reference_equivalent` never passes a dict or None gold, as the reference's scorer;
`is_equivalent` compares a dict gold by `==` and a None gold by text (`None` or `"None"` pass).
Pure: no kernel, no files.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from codegen_ui.mtpb.problems import MtpbError

FLOAT_TOLERANCE = 1e-6


class Opaque:
    """A value with no faithful form here; like an object with the default __eq__, equal to
    nothing."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name, self.text = type_name, text

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return self.text


class WireError(MtpbError, ValueError):
    """The kernel's answer is not well-formed (judged a failure, never shown as an error)."""


def decode(data: Any, depth: int = 0) -> Any:
    if depth > 60:
        raise WireError("nested too deep")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise WireError(f"not a wire value: {type(data).__name__}")
    tag = next(iter(data))
    body = data[tag]
    if tag == "$int":
        return int(str(body))
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise WireError(f"bad float {body!r}")
        return float(body)
    if tag in ("$tuple", "$set", "$frozenset", "$dict") and not isinstance(body, list):
        raise WireError(f"{tag} needs a list")
    if tag == "$tuple":
        return tuple(decode(v, depth + 1) for v in body)
    if tag == "$set":
        return _hashed(set, body, depth)
    if tag == "$frozenset":
        return _hashed(frozenset, body, depth)
    if tag == "$dict":
        try:
            return {decode(k, depth + 1): decode(v, depth + 1) for k, v in body}
        except (TypeError, ValueError):
            return Opaque("dict", str(body))
    if tag == "$decimal":
        return Decimal(str(body))
    if tag == "$fraction":
        return Fraction(str(body))
    if tag == "$complex":
        return complex(decode(body[0]), decode(body[1]))
    if tag == "$bytes":
        return bytes.fromhex(str(body))
    if tag == "$ndarray":
        import numpy as np

        dtype = np.dtype(str(body["dtype"]))
        if dtype.kind not in "biufU":
            raise WireError(f"array dtype {dtype} is not sent as data")
        return np.array(decode(body["data"], depth + 1), dtype=dtype)
    if tag == "$opaque":
        return Opaque(str(body), str(data.get("repr", "")))
    raise WireError(f"unknown wire tag {tag!r}")


def _hashed(kind: type, body: list[Any], depth: int) -> Any:
    items = [decode(v, depth + 1) for v in body]
    try:
        return kind(items)
    except TypeError:
        return Opaque(kind.__name__, str(items))


def reference_equivalent(answer: dict[str, Any], gold: Any) -> bool:
    """check_equivalence after the cast: what the reference would answer."""
    return _compare(answer, gold, strict=True)


def is_equivalent(answer: dict[str, Any], gold: Any) -> bool:
    """As the reference, except that a dict or None gold can pass (by ==)."""
    return _compare(answer, gold, strict=False)


def _compare(answer: dict[str, Any], gold: Any, strict: bool) -> bool:
    kind = answer.get("kind")
    if strict and (gold is None or isinstance(gold, dict)):
        return False  # the reference raises "Unsupported type" (or fails the cast) for these
    try:
        if kind == "series":
            import numpy as np

            return bool(np.allclose(decode(answer["value"]), np.array(gold)))
        if kind == "str":
            return bool(decode(answer["value"]) == str(gold))
        if kind != "value":
            return False
        value = decode(answer["value"])
        if isinstance(gold, float) and type(value) is float:
            return abs(value - gold) < FLOAT_TOLERANCE
        if type(gold) in (str, int, list, bool):
            return bool(value == gold)
        if strict:
            return False  # the reference raises "Unsupported type" for dict and None
        return bool(value == gold)
    except Exception:  # a comparison that raises: not equivalent, as the reference
        return False
