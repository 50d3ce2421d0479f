"""Weights in and out: safetensors and `.pt` state_dict bytes; uploads size-capped, parsed safely, checked."""

from __future__ import annotations

import io
import pickle

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from core.limits import MAX_UPLOAD_BYTES
from core.training.messages import Message


def state_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state_dict as contiguous CPU tensors (detached copies)."""
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}


def export(model: nn.Module, fmt: str) -> bytes:
    """The model's weights as `safetensors` bytes or a `.pt` (torch.save) state_dict."""
    state = state_of(model)
    if fmt == "safetensors":
        return st_save(state)
    if fmt == "pt":
        buf = io.BytesIO()
        torch.save(state, buf)
        return buf.getvalue()
    raise ValueError(f"unknown weights format {fmt!r}")


def _looks_like_safetensors(data: bytes) -> bool:
    """safetensors = 8-byte little-endian header length, then a JSON header starting with '{'."""
    if len(data) < 10:
        return False
    n = int.from_bytes(data[:8], "little")
    return 2 <= n <= len(data) - 8 and data[8:9] == b"{"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]


def _parse(data: bytes, filename: str) -> tuple[object, Message | None]:
    """Bytes -> the loaded object, never running code: safetensors, or torch.load(weights_only=True)."""
    if filename.lower().endswith(".safetensors") or _looks_like_safetensors(data):
        try:
            return st_load(data), None
        except (SafetensorError, ValueError, RuntimeError, OSError) as e:
            return None, Message("tr_w_unreadable", {"format": "safetensors", "detail": _first_line(e)})
    try:
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu"), None
    except pickle.UnpicklingError as e:
        if "weights only" in str(e).lower() or "unsupported global" in str(e).lower():
            return None, Message("tr_w_unsafe", {"detail": _first_line(e)})
        return None, Message("tr_w_unreadable", {"format": ".pt", "detail": _first_line(e)})
    except Exception as e:  # noqa: BLE001 - any failure of a hostile or broken file is a message, not a crash
        return None, Message("tr_w_unreadable", {"format": ".pt", "detail": _first_line(e)})


def check(obj: object, model: nn.Module) -> tuple[dict[str, torch.Tensor] | None, Message | None]:
    """A flat dict[str, Tensor] whose keys, shapes and (floating) dtypes match `model`, cast to its dtypes."""
    if not isinstance(obj, dict):
        return None, Message("tr_w_not_dict", {"type": type(obj).__name__})
    expected = model.state_dict()
    for key, value in obj.items():
        if not isinstance(key, str):
            return None, Message("tr_w_bad_key", {"param": repr(key)[:60]})
        if not isinstance(value, torch.Tensor):
            return None, Message("tr_w_not_tensor", {"param": key[:60], "type": type(value).__name__})
    missing = sorted(set(expected) - set(obj))
    unexpected = sorted(set(obj) - set(expected))
    if missing or unexpected:
        return None, Message("tr_w_keys", {"missing": ", ".join(missing) or "-",
                                           "unexpected": ", ".join(unexpected)[:200] or "-"})
    out = {}
    for key, want in expected.items():
        got = obj[key]
        if tuple(got.shape) != tuple(want.shape):
            return None, Message("tr_w_shape", {"param": key, "got": list(got.shape), "want": list(want.shape)})
        if not got.is_floating_point():
            return None, Message("tr_w_dtype", {"param": key, "dtype": str(got.dtype).removeprefix("torch.")})
        if not torch.isfinite(got).all():
            return None, Message("tr_w_nonfinite", {"param": key})
        out[key] = got.to(dtype=want.dtype)
    return out, None


def read(data: bytes, model: nn.Module, filename: str = "") -> tuple[dict[str, torch.Tensor] | None, Message | None]:
    """Uploaded bytes -> a state_dict for `model`, or a Message saying why the file is refused."""
    if len(data) > MAX_UPLOAD_BYTES:
        return None, Message("tr_w_too_big", {"size": len(data), "max": MAX_UPLOAD_BYTES})
    if not data:
        return None, Message("tr_w_empty")
    obj, problem = _parse(bytes(data), filename)
    if problem is not None:
        return None, problem
    return check(obj, model)
