"""The printed answer of an MTPB program, cast to the gold's type inside the kernel, as JSON.

The reference scores the live object the program printed: it turns numpy and pandas values
into plain Python, then calls the gold's type on it (`list(map(...))`, `float(Decimal(...))`,
`str(Counter(...))`). That can only happen where the object lives, so `answer` runs *inside the
kernel* (its source is sent there verbatim, which is why this module imports nothing but the
standard library and nothing from codegen_ui). It is told the gold's type name, never the gold,
and sends back tagged JSON that `decode` rebuilds here with constructors only: nothing the
kernel sends is ever executed or unpickled. It does not decide what is correct: see `verdicts`.
"""

from __future__ import annotations

import math
from typing import Any

MIME = "application/vnd.codegen-ui.mtpb+json"  # the display type the kernel answers with
KERNEL_NAME = "__mtpb_wire__"  # this module's name in the kernel's sys.modules
MAX_ITEMS = 100_000  # containers larger than this arrive as opaque
MAX_DEPTH = 50
GOLD_TYPES = ("str", "int", "float", "bool", "list", "dict", "NoneType")
# The numpy types the reference turns into int, float and bool (others stay numpy).
_NP_INT = ("uint8", "int16", "int32", "int64")
_NP_FLOAT = ("float16", "float32", "float64")
_ARRAY_KINDS = "biufU"  # dtypes sent as data: bool, ints, floats, unicode


def _numpy_name(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if getattr(kind, "__module__", "") == "numpy" else ""


def _is_series(value: Any) -> bool:
    # The reference tests str(type(o)) == "<class 'pandas.core.series.Series'>" (pandas < 3).
    kind = type(value)
    return kind.__name__ == "Series" and str(getattr(kind, "__module__", "")).startswith("pandas")


def normalize(value: Any) -> tuple[str, Any]:
    """The reference's first steps: a Series as an array, tuples in a list as lists, numpy
    scalars and arrays as Python. Returns ("series", array) or ("value", value)."""
    if _is_series(value):
        return "series", value.to_numpy()
    if type(value) is list:
        if value and type(value[0]) is tuple:
            value = [list(t) for t in value]
        return "value", value
    name = _numpy_name(value)
    if name in _NP_INT:
        return "value", int(value)
    if name in _NP_FLOAT:
        return "value", float(value)
    if name == "bool_" or name == "bool":
        return "value", bool(value)
    if name == "ndarray":
        return "value", value.tolist()
    return "value", value


def cast(value: Any, gold_type: str) -> dict[str, Any]:
    """Steps (1)-(3) and the cast to the gold's type, as the reference does them."""
    kind, value = normalize(value)
    if kind == "series":
        return {"kind": "series", "value": encode(value)}
    types = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}
    target = types.get(gold_type, type(None))
    if type(value) is not target:
        if target is bool:
            return {"kind": "str", "value": str(value)}  # bool("False") is True: compare text
        if target is type(None):  # the reference fails here; the text serves a None gold
            return {"kind": "str", "value": str(value)}
        value = target(value)
    return {"kind": "value", "value": encode(value)}


def encode(value: Any, depth: int = 0) -> Any:
    """A JSON form of value that keeps the types == cares about."""
    if value is None or isinstance(value, (bool, str)):
        return str(value) if isinstance(value, str) and type(value) is not str else value
    name = _numpy_name(value)
    if name.startswith(("int", "uint")):
        value = int(value)
    elif name.startswith("float"):
        value = float(value)
    elif name in ("bool_", "bool"):
        return bool(value)
    elif name == "str_":
        return str(value)
    if isinstance(value, int):
        value = int(value)
        return value if abs(value) < 2**53 else {"$int": str(value)}
    if isinstance(value, float):
        value = float(value)
        return value if math.isfinite(value) else {"$float": repr(value)}
    if depth >= MAX_DEPTH:
        return _opaque(value)
    sized = isinstance(value, (list, tuple, set, frozenset, dict))
    if sized and len(value) > MAX_ITEMS:
        return _opaque(value)
    if isinstance(value, dict):
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if isinstance(value, frozenset):
        return {"$frozenset": [encode(v, depth + 1) for v in value]}
    if isinstance(value, set):
        return {"$set": [encode(v, depth + 1) for v in value]}
    if isinstance(value, complex):
        return {"$complex": [encode(value.real), encode(value.imag)]}
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    module = str(getattr(type(value), "__module__", ""))
    if module == "decimal" and type(value).__name__ == "Decimal":
        return {"$decimal": str(value)}
    if module == "fractions" and type(value).__name__ == "Fraction":
        return {"$fraction": str(value)}
    if name == "ndarray" and value.dtype.kind in _ARRAY_KINDS and value.size <= MAX_ITEMS:
        return {"$ndarray": {"dtype": value.dtype.str, "data": encode(value.tolist(), depth + 1)}}
    return _opaque(value)


def _opaque(value: Any) -> dict[str, str]:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ in generated code
        text = f"<repr() failed: {type(exc).__name__}>"
    return {"$opaque": type(value).__name__, "repr": text[:1000]}


def shown(value: Any, limit: int = 200) -> str:
    """repr of the printed value, shortened, for the results file."""
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr() failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
