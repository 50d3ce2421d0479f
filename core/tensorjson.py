"""Tensor -> JSON-safe dict: values as nested lists, or a summary for big tensors (DESIGN.md)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


_SHARED: dict[tuple[int, int, bool], tuple[Any, ...]] | None = None
_REPEATED: list[Any] | None = None  # the lists of numbers handed out more than once, within shared()
SHARED_FROM = 16  # numbers in a list worth a reference ({"$ref": k} is about ten bytes)


@contextmanager
def shared() -> Iterator[list[Any]]:
    """Within it, a tensor listed or summarised again (a gradient that is one step's output and the next step's
    input, a node's .grad and a variable's) gets the first answer: the same numbers, computed once. Answers
    are kept with their tensor (so its id stays its own) and its version counter (an in-place change misses).
    It yields the lists handed out more than once: the wire sends each of them once (wire.encode_answer)."""
    global _SHARED, _REPEATED
    outer = (_SHARED, _REPEATED)
    repeated: list[Any] = [] if _REPEATED is None else _REPEATED
    if _SHARED is None:
        _SHARED, _REPEATED = {}, repeated
    try:
        yield repeated
    finally:
        _SHARED, _REPEATED = outer


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
        if listing and _REPEATED is not None and len(hit) == 2 and type(hit[1]) is list and t.numel() >= SHARED_FROM:
            _REPEATED.append(hit[1])
            memo[key] = (t, hit[1], True)  # noted once
        return hit[1]
    out = compute(t)
    memo[key] = (t, out)
    return out


def values(t: torch.Tensor | None, max_elements: int = MAX_JSON_ELEMENTS) -> Any:
    """Nested list of a tensor's values (complex as [re, im] pairs), or None when absent or too big."""
    if t is None or t.numel() > max_elements:
        return None
    return _remembered(t, True, _values)


def _values(t: torch.Tensor) -> Any:
    t = t.detach()
    if t.is_complex():
        t = torch.view_as_real(t.resolve_conj())
    if t.dtype == torch.bfloat16 or t.dtype == torch.float16:
        t = t.float()
    t = t.cpu()
    if not t.is_floating_point() or bool(torch.isfinite(t).all()):
        return t.tolist()  # nothing to encode: no NaN or infinity among them
    return _clean(t.tolist())


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
    x = x.to(device="cpu", dtype=torch.float64).reshape(-1)  # mean and std in float64: exact to the last digit
    n = x.numel()
    mean = x.sum() / n
    # two passes (the deviations from the mean, then their sum of squares): a few times quicker than
    # torch.std_mean's one-pass update, and closer to the exact value (within 1e-15 where it is 1e-13 off).
    # core/export.py writes the same lines into an exported script, which prints the same numbers
    d = x - mean
    std = torch.sqrt((d * d).sum() / (n - 1)) if n > 1 else torch.tensor(0.0)
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
