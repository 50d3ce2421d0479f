"""Tensor -> JSON-safe dict: values as nested lists, or a summary for big tensors (DESIGN.md).

For the wire (within `shared()`), a tensor of PACK_FROM numbers or more is a `Packed`: its bytes, which the wire
sends beside the JSON instead of its numbers' text. `unpack` reads them back as the very list `values` gives.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from core.limits import MAX_JSON_ELEMENTS


def finite_or_str(x: Any) -> Any:
    """JSON has no NaN/Inf: encode them as the strings 'nan', 'inf', '-inf'."""
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def _clean(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return finite_or_str(obj)


_SHARED: dict[tuple[int, int, bool], tuple[torch.Tensor, Any]] | None = None


@contextmanager
def shared() -> Iterator[None]:
    """The answers for the wire are made within it: a tensor listed or summarised again (a gradient that is one
    step's output and the next step's input, a node's .grad and a variable's) gets the first answer, the same
    object, computed once; the wire sends a Packed met again as the same bytes (wire.encode_answer). Answers
    are kept with their tensor (so its id stays its own) and its version counter (an in-place change misses).
    Within it, `values` packs the numbers of PACK_FROM or more (`Packed`)."""
    global _SHARED
    outer = _SHARED
    if _SHARED is None:
        _SHARED = {}
    try:
        yield
    finally:
        _SHARED = outer


def _key(t: torch.Tensor, listing: bool) -> tuple[int, int, bool] | None:
    try:
        return id(t), t._version, listing
    except RuntimeError:  # an inference tensor keeps no version counter
        return None


def _remembered(t: torch.Tensor, listing: bool, compute: Any) -> Any:
    memo = _SHARED
    key = _key(t, listing) if memo is not None else None
    if memo is None or key is None:
        return compute(t)
    hit = memo.get(key)
    if hit is not None and hit[0] is t:
        return hit[1]
    out = compute(t)
    memo[key] = (t, out)
    return out


def values(t: torch.Tensor | None, max_elements: int = MAX_JSON_ELEMENTS) -> Any:
    """Nested list of a tensor's values (complex as [re, im] pairs), or None when absent or too big."""
    if t is None or t.numel() > max_elements:
        return None
    return _remembered(t, True, _values if _SHARED is None else _packed)


def _listable(t: torch.Tensor) -> torch.Tensor:
    """The tensor whose .tolist() is the JSON list: complex as [re, im] pairs, half precisions as float32."""
    t = t.detach()
    if t.is_complex():
        t = torch.view_as_real(t.resolve_conj())
    if t.dtype == torch.bfloat16 or t.dtype == torch.float16:
        t = t.float()
    return t.cpu()


def _values(t: torch.Tensor) -> Any:
    t = _listable(t)
    if not t.is_floating_point() or bool(torch.isfinite(t).all()):
        return t.tolist()  # nothing to encode: no NaN or infinity among them
    return _clean(t.tolist())


PACK_FROM = 16  # numbers in a tensor sent as bytes on the wire: a float32 is 4 bytes where its text is ~19
# the dtypes sent as bytes, by numpy's little-endian code
_PACKED = {torch.float32: "<f4", torch.float64: "<f8", torch.int64: "<i8", torch.int32: "<i4", torch.int16: "<i2",
           torch.int8: "|i1", torch.uint8: "|u1", torch.bool: "|b1"}  # fmt: skip
_UNPACKED = frozenset(_PACKED.values())
PACKED_KEY = "$n"


class Packed:
    """A tensor's numbers as its bytes (C order, little-endian), as `values` gives them within shared(): the
    wire writes them beside the answer's JSON (wire.encode_answer) and reads them back as the very list
    `values` gives outside it (`unpack`). Making and writing the numbers' text costs about 10x more."""

    __slots__ = ("code", "shape", "data")

    def __init__(self, code: str, shape: list[int], data: bytes) -> None:
        self.code, self.shape, self.data = code, shape, data

    def tolist(self) -> list[Any]:
        return unpack([self.code, self.shape, 0], self.data, [len(self.data)])


def _packed(t: torch.Tensor) -> Any:
    """values(t) within shared(): a Packed when it has PACK_FROM numbers or more of a packed dtype."""
    x = _listable(t)
    code = _PACKED.get(x.dtype)
    if code is None or x.numel() < PACK_FROM:
        return _values(t)
    # .resolve_neg(): the imaginary part of a conjugate is a view with its sign as a bit, which numpy() refuses
    data = x.resolve_neg().numpy().astype(code, copy=False).tobytes()  # a copy: the numbers as they are now
    return Packed(code, list(x.shape), data)


def is_listed(v: Any) -> bool:
    """`v` is what `values` gives for a tensor: a list of numbers, or a Packed."""
    return type(v) is list or type(v) is Packed


def unpack(spec: Any, blob: bytes | memoryview, left: list[int]) -> list[Any]:
    """The nested list of a packed value written as {"$n": [dtype, shape, offset]} over the bytes `blob`.

    ValueError when it is not one the wire writes: an unknown dtype, a shape not of positive sizes or of fewer
    than PACK_FROM numbers, bytes beyond the blob, or more bytes in all than `left[0]` (the blob's size, counted
    down: no byte is read twice, so the lists made are at most ~8 times the bytes sent). The numbers are the
    tensor's own: a float32 read back is the Python float .tolist() gives; NaN and infinities become the
    strings values() writes."""
    if type(spec) is not list or len(spec) != 3:
        raise ValueError("a packed value is [dtype, shape, offset]")
    code, shape, offset = spec
    if type(code) is not str or code not in _UNPACKED or type(shape) is not list or len(shape) > 64:
        raise ValueError("a packed value of an unknown dtype")
    if not all(type(n) is int and n > 0 for n in shape) or type(offset) is not int or offset < 0:
        raise ValueError("a packed value's shape is of positive sizes, its offset a count of bytes")
    count = math.prod(shape)
    size = count * np.dtype(code).itemsize
    if count < PACK_FROM or offset + size > len(blob) or size > left[0]:
        raise ValueError("a packed value's bytes are not in its answer")
    left[0] -= size
    a = np.frombuffer(blob, dtype="|u1" if code == "|b1" else code, count=count, offset=offset).reshape(shape)
    if code == "|b1":
        a = a != 0
    out = a.tolist()
    if a.dtype.kind == "f" and not bool(np.isfinite(a).all()):
        out = _clean(out)
    return out


def summary(t: torch.Tensor) -> dict[str, Any]:
    """min / max / mean / std of a tensor (as float64), for tensors too big to list."""
    return dict(_remembered(t, False, _summary))  # a dict of its own: a caller may add to it


def _summary(t: torch.Tensor) -> dict[str, Any]:
    x = t.detach()
    if x.is_complex():
        x = x.abs()
    if x.numel() == 0:
        return {"min": None, "max": None, "mean": None, "std": None}
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    lo, hi = torch.aminmax(x.reshape(-1))  # exact in the tensor's own dtype
    # mean and std in float64, exact to the last digit, in a copy of our own (never the program's tensor)
    x = x.to(device="cpu", dtype=torch.float64, copy=True).reshape(-1)
    n = x.numel()
    mean = x.sum() / n
    # two passes (the deviations from the mean, then their sum of squares): a few times quicker than
    # torch.std_mean's one-pass update, and closer to the exact value (within 1e-15 where it is 1e-13 off).
    # In place in the copy: a new buffer of a big tensor costs more in page faults than the arithmetic.
    # core/export.py writes the same operations into an exported script, which prints the same numbers
    d = x.sub_(mean)
    std = torch.sqrt(d.mul_(d).sum() / (n - 1)) if n > 1 else torch.tensor(0.0)
    return {
        "min": finite_or_str(float(lo.item())),
        "max": finite_or_str(float(hi.item())),
        "mean": finite_or_str(mean.item()),
        "std": finite_or_str(std.item()) if x.numel() > 1 else 0.0,
    }


def dtype_name(dtype: torch.dtype) -> str:
    """'float32' for torch.float32."""
    return str(dtype).removeprefix("torch.")


def describe(t: torch.Tensor, with_grad: bool = True, max_elements: int | None = None) -> dict[str, Any]:
    """The JSON record of one tensor variable (DESIGN.md `variables` entry); tensors over `max_elements`
    (default MAX_JSON_ELEMENTS) carry a summary instead of their values."""
    limit = MAX_JSON_ELEMENTS if max_elements is None else max_elements
    out: dict[str, Any] = {
        "shape": list(t.shape),
        "dtype": dtype_name(t.dtype),
        "device": str(t.device),
        "requires_grad": bool(t.requires_grad),
        "is_leaf": bool(t.is_leaf),
        "grad_fn": type(t.grad_fn).__name__ if t.grad_fn is not None else None,
        "value": values(t, limit),
    }
    if out["value"] is None:
        out["summary"] = summary(t)
    if with_grad:
        g = t.grad if t.is_leaf or t.retains_grad else None
        out["grad"] = values(g, limit)
        if g is not None and out["grad"] is None:
            out["grad_summary"] = summary(g)
    return out
