"""A JSON wire format for one printed value, so it can leave the kernel without pickle.

The benchmark's answer is a Python object that lives inside the sandboxed kernel. Unpickling
it here would run whatever the generated code put in it, so the kernel sends JSON instead:
`to_wire` runs *inside the kernel* (its source is sent there verbatim, which is why this module
imports nothing but the standard library and nothing from codegen_ui) and `from_wire` rebuilds
the value on this side.

`to_wire` also applies the scorer's first step, numpy and pandas values to plain Python, by duck
typing so neither library is imported. Tuples, sets, dicts and non-finite floats keep their type
through tags; anything else (a DataFrame, a function, a class instance) arrives as `Opaque`,
holding its type name and `str()`. It does not decide what is correct: see `mtpb.is_equivalent`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MIME = "application/vnd.codegen-ui.mtpb+json"  # the display type the kernel answers with
MAX_ITEMS = 100_000  # containers larger than this arrive as Opaque


@dataclass(frozen=True)
class Opaque:
    """A value with no plain-Python form: its type name and its str()."""

    type_name: str
    text: str

    def __str__(self) -> str:
        return self.text


def _module(value: Any) -> str:
    return type(value).__module__.split(".")[0]


def plain(value: Any) -> Any:
    """numpy scalars and arrays, pandas Series and Index as plain Python; others unchanged."""
    module = _module(value)
    if module == "numpy":
        if hasattr(value, "tolist"):  # ndarray and numpy scalars alike
            return value.tolist()
    elif module == "pandas" and type(value).__name__ in ("Series", "Index"):
        return value.tolist()
    return value


def to_wire(value: Any, depth: int = 0) -> Any:
    """A JSON-able form of value (inside the kernel)."""
    value = plain(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        # Bigger than a double can hold exactly: send digits so nothing is rounded on the way.
        return value if abs(value) < 2**53 else {"__int__": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    containers = (list, tuple, set, frozenset, dict)
    if depth < 50 and isinstance(value, containers) and len(value) <= MAX_ITEMS:
        if isinstance(value, dict):
            pairs = [[to_wire(k, depth + 1), to_wire(v, depth + 1)] for k, v in value.items()]
            return {"__dict__": pairs}
        items = [to_wire(v, depth + 1) for v in value]
        if isinstance(value, list):
            return items
        return {("__tuple__" if isinstance(value, tuple) else "__set__"): items}
    try:
        text = str(value)
    except Exception as exc:  # a broken __str__ in generated code
        text = f"<str() failed: {type(exc).__name__}>"
    return {"__opaque__": type(value).__name__, "text": text[:10_000]}


def from_wire(data: Any) -> Any:
    """The value `to_wire` encoded (on this side); raises ValueError on a malformed tag."""
    if isinstance(data, list):
        return [from_wire(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__int__" in data:
        return int(data["__int__"])
    if "__float__" in data:
        return float(data["__float__"])
    if "__tuple__" in data:
        return tuple(from_wire(v) for v in data["__tuple__"])
    if "__set__" in data:
        return _set(from_wire(v) for v in data["__set__"])
    if "__dict__" in data:
        pairs = [(_key(from_wire(k)), from_wire(v)) for k, v in data["__dict__"]]
        try:
            return dict(pairs)
        except TypeError:  # a key that was hashable there but is a list here
            return Opaque("dict", str(pairs))
    if "__opaque__" in data:
        return Opaque(str(data["__opaque__"]), str(data.get("text", "")))
    raise ValueError(f"unknown wire value: {sorted(data)}")


def _set(items: Any) -> Any:
    values = list(items)
    try:
        return set(values)
    except TypeError:  # members that were hashable there but are lists here
        return Opaque("set", str(values))


def _key(key: Any) -> Any:
    return tuple(_key(k) for k in key) if isinstance(key, (list, tuple)) else key
