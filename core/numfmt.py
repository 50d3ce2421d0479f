"""The one number formatter: every number the app shows (tables, graph labels, quiz feedback, CLI text, rules).

A value is written in the fewest significant digits that read back as the same number *in its own dtype*: a
float32 3.14159 that reached us as the float64 3.141590118408203 prints `3.14159`, a float64 prints Python's
shortest round-trip repr, float16 and bfloat16 their few digits. Floats always show they are floats (`2.0`, never
`2`); very small and very large magnitudes use scientific notation (`1e-45`, `3.4028235e+38`), never `000000`.
Integers print as integers, bools as True/False, NaN/inf as nan/inf/-inf (the worker's JSON sends them as strings).
Complex numbers arrive as [re, im] pairs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FLOAT_DTYPES = ("float64", "float32", "float16", "bfloat16")
COMPLEX_PARTS = {"complex128": "float64", "complex64": "float32", "complex32": "float16", "chalf": "float16"}
SPECIAL = {"nan": "nan", "inf": "inf", "-inf": "-inf"}
EXACT_INTEGERS = 1e7  # a whole float below this prints all its digits
SCI_LOW, SCI_HIGH = 1e-4, 1e16  # outside [1e-4, 1e16) a float is written in scientific notation (as Python does)


def _bfloat16(x: float) -> float:
    """`x` rounded to bfloat16 (the top 16 bits of a float32, round to nearest even), as a float."""
    u = int(np.array(x, dtype=np.float32).view(np.uint32))
    if (u & 0x7F800000) == 0x7F800000:  # inf / nan: nothing to round
        return float(np.array(u, dtype=np.uint32).view(np.float32))
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return float(np.array(u, dtype=np.uint32).view(np.float32))


def round_to(x: float, dtype: str) -> float:
    """`x` as the nearest value of a float dtype (float64 is the identity)."""
    with np.errstate(over="ignore"):
        if dtype == "float32":
            return float(np.float32(x))
        if dtype == "float16":
            return float(np.float16(x))
    if dtype == "bfloat16":
        return _bfloat16(x)
    return float(x)


def _shortest(x: float, dtype: str, digits: int | None) -> float:
    """The float64 holding the shortest decimal that rounds to the same `dtype` value as `x` (at most `digits`
    significant digits when given: then the nearest such decimal, a compact view)."""
    target = round_to(x, dtype)
    if dtype == "float64" and digits is None:
        return target  # repr() is already the shortest round-trip text
    if digits is None and target.is_integer() and abs(target) < EXACT_INTEGERS:
        return target  # 65504.0, not the shorter 65500.0 that float16 reads back as the same value
    limit = 17 if digits is None else max(1, min(digits, 17))
    for p in range(1, limit + 1):
        candidate = float(f"{target:.{p - 1}e}")
        if round_to(candidate, dtype) == target:
            return candidate
    return float(f"{target:.{limit - 1}e}")


def _float_text(v: float) -> str:
    """Python's repr: positional within [SCI_LOW, SCI_HIGH) (`0.0001`, `2.0`), scientific outside (`1e-05`)."""
    return repr(v)


def is_float_dtype(dtype: str | None) -> bool:
    return dtype in FLOAT_DTYPES


def fmt_number(x: Any, dtype: str | None = None, digits: int | None = None) -> str:
    """One number as text, in the look of its dtype (see the module docstring). `digits` caps the significant
    digits (a compact view); the default is as many as it takes to read the number back exactly."""
    if isinstance(x, str):
        return SPECIAL.get(x, x)
    if isinstance(x, list | tuple) and len(x) == 2 and all(isinstance(v, int | float | str) for v in x):
        part = COMPLEX_PARTS.get(dtype or "", "float64")
        re_, im = (fmt_number(v, part, digits) for v in x)
        sign = "" if im.startswith("-") else "+"
        return f"{re_}{sign}{im}j"
    if isinstance(x, bool | np.bool_) or dtype == "bool":
        return "True" if bool(x) else "False"
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, int) and not is_float_dtype(dtype):
        return str(x)
    if not isinstance(x, int | float):
        return str(x)
    v = float(x)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    kind = dtype if dtype is not None and is_float_dtype(dtype) else "float64"
    return _float_text(_shortest(v, kind, digits))


def fmt_cells(values: Any, dtype: str | None = None, digits: int | None = None) -> Any:
    """Nested lists of numbers -> the same nesting of texts (for tables); a complex pair stays one cell."""
    complex_ = (dtype or "").startswith("complex") or dtype == "chalf"
    if isinstance(values, list) and not (complex_ and _is_pair(values)):
        return [fmt_cells(v, dtype, digits) for v in values]
    return fmt_number(values, dtype, digits)


def _is_pair(v: list[Any]) -> bool:
    return len(v) == 2 and all(not isinstance(x, list) for x in v)


def fmt_tensor(values: Any, dtype: str | None = None, shape: list[int] | None = None, digits: int | None = None) -> str:
    """A tensor's values (nested lists, as the worker sends them) as one text: `[[1.0, 2.5], [3.0, 4.0]]`;
    a 0-d tensor is its number. Rows of a 2-D or deeper tensor go on their own lines when `shape` says so."""
    if shape is not None and len(shape) == 0 or not isinstance(values, list):
        return fmt_number(values, dtype, digits)
    cells = fmt_cells(values, dtype, digits)
    depth = len(shape) if shape is not None else None
    return _join(cells, depth)


def _join(cells: Any, depth: int | None) -> str:
    if not isinstance(cells, list):
        return cells
    if depth is not None and depth >= 2:
        sep = ",\n" + "\n" * (depth - 2)
        inner = sep.join(_join(c, depth - 1) for c in cells)
        return "[" + inner.replace("\n", "\n ") + "]"
    return "[" + ", ".join(_join(c, None) for c in cells) + "]"
