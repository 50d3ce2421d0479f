"""Untrusted weight files (.safetensors, .pt), parsed inside a sandbox worker: declared sizes checked before
anything is read or inflated, then a flat dict of plain float tensors is all that comes back (as safetensors)."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import struct
import zipfile
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from core.limits import MAX_UPLOAD_BYTES, MAX_WEIGHTS_UNPACKED_BYTES, MAX_WEIGHTS_ZIP_ENTRIES
from core.messages import Message

ALLOWED_DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64}
_ITEMSIZE = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}
MAX_SAFETENSORS_HEADER = 1024**2  # the JSON header of a state_dict with a few dozen tensors is a few KB


def _looks_like_safetensors(data: bytes) -> bool:
    """safetensors = 8-byte little-endian header length, then a JSON header starting with '{'."""
    if len(data) < 10:
        return False
    n = int.from_bytes(data[:8], "little")
    return 2 <= n <= len(data) - 8 and data[8:9] == b"{"


# --- declared sizes, checked before anything is read or inflated -----------------------------------------------------


def safetensors_sizes(data: bytes, cap: int = MAX_WEIGHTS_UNPACKED_BYTES) -> Message | None:
    """None when the safetensors header is consistent with the byte length: every tensor's dtype is allowed,
    its shape x itemsize equals its byte range, the ranges tile the data exactly, and the total is within `cap`."""
    bad = lambda why: Message("tr_w_unreadable", {"format": "safetensors", "detail": why})  # noqa: E731
    if len(data) < 8:
        return bad("short")
    (n,) = struct.unpack("<Q", data[:8])
    if n < 2 or n > MAX_SAFETENSORS_HEADER or n > len(data) - 8:
        return bad("header size")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return bad("header")
    if not isinstance(header, dict):
        return bad("header")
    body = len(data) - 8 - n
    ranges = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            return bad("header")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
            return Message("tr_w_dtype", {"param": str(name)[:60], "dtype": str(dtype)[:20]})
        if (
            not isinstance(shape, list)
            or len(shape) > 8
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= cap for d in shape)
        ):
            return bad("shape")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        ):
            return bad("offsets")
        start, end = offsets
        if not 0 <= start <= end <= body or end - start != math.prod(shape) * _ITEMSIZE[dtype]:
            return bad("sizes")
        ranges.append((start, end))
    ranges.sort()
    position = 0
    for start, end in ranges:
        if start != position:
            return bad("sizes")
        position = end
    if position != body:
        return bad("sizes")
    if body > cap:
        return Message("tr_w_inflated", {"size": body, "max": cap})
    return None


def zip_sizes(data: bytes, cap: int = MAX_WEIGHTS_UNPACKED_BYTES) -> Message | None:
    """None when a `.pt` zip declares at most `cap` uncompressed bytes over at most MAX_WEIGHTS_ZIP_ENTRIES
    entries (torch.save stores entries uncompressed; a deflated entry that declares more is a bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return Message("tr_w_not_weights")
    if len(infos) > MAX_WEIGHTS_ZIP_ENTRIES:
        return Message("tr_w_inflated", {"size": len(infos), "max": MAX_WEIGHTS_ZIP_ENTRIES})
    total = sum(max(0, i.file_size) for i in infos)
    if total > cap:
        return Message("tr_w_inflated", {"size": total, "max": cap})
    return None


# --- validation: a flat dict of plain floating tensors with the model's keys and shapes ---------------------------


def _odd(value: torch.Tensor) -> str | None:
    """Why a tensor is not a plain dense CPU tensor (meta, sparse, quantized, nested, a subclass), or None."""
    if type(value) not in (torch.Tensor, nn.Parameter):
        return type(value).__name__
    if value.is_meta or value.device.type != "cpu":
        return f"device {value.device.type}"
    if value.layout != torch.strided:
        return str(value.layout).removeprefix("torch.")
    if value.is_quantized or value.is_nested:
        return "quantized" if value.is_quantized else "nested"
    if value.is_conj() or value.is_neg():
        return "lazy conj/neg"
    return None


def check_flat(obj: object, expected: dict[str, list[int]]) -> tuple[dict[str, torch.Tensor] | None, Message | None]:
    """A flat dict[str, Tensor] of plain dense floating CPU tensors whose keys and shapes equal `expected`."""
    if not isinstance(obj, dict):
        return None, Message("tr_w_not_dict", {"type": type(obj).__name__})
    for key, value in obj.items():
        if not isinstance(key, str):
            return None, Message("tr_w_bad_key", {"param": repr(key)[:60]})
        if not isinstance(value, torch.Tensor):
            return None, Message("tr_w_not_tensor", {"param": key[:60], "type": type(value).__name__})
        odd = _odd(value)
        if odd is not None:
            return None, Message("tr_w_odd_tensor", {"param": key[:60], "kind": odd})
    missing = sorted(set(expected) - set(obj))
    unexpected = sorted(set(obj) - set(expected))
    if missing or unexpected:
        return None, Message(
            "tr_w_keys", {"missing": ", ".join(missing)[:200] or "-", "unexpected": ", ".join(unexpected)[:200] or "-"}
        )
    out = {}
    for key, want in expected.items():
        got = obj[key]
        if list(got.shape) != list(want):
            return None, Message("tr_w_shape", {"param": key, "got": list(got.shape), "want": list(want)})
        if got.dtype not in ALLOWED_DTYPES.values():
            return None, Message("tr_w_dtype", {"param": key, "dtype": str(got.dtype).removeprefix("torch.")})
        if not torch.isfinite(got).all():
            return None, Message("tr_w_nonfinite", {"param": key})
        out[key] = got.detach().contiguous()
    return out, None


def _unsafe_global(text: str) -> str | None:
    match = re.search(r"GLOBAL\s+([\w.]+)", text)
    return match.group(1)[:80] if match else None


def _load_untrusted(data: bytes, filename: str) -> tuple[object, Message | None]:
    """In a sandbox worker only: declared sizes first, then safetensors or torch.load(weights_only=True)."""
    if filename.lower().endswith(".safetensors") or _looks_like_safetensors(data):
        problem = safetensors_sizes(data)
        if problem is not None:
            return None, problem
        try:
            return st_load(data), None
        except (SafetensorError, ValueError, RuntimeError, OSError):
            return None, Message("tr_w_unreadable", {"format": "safetensors", "detail": "data"})
    if data[:4] == b"PK\x03\x04":
        problem = zip_sizes(data)
        if problem is not None:
            return None, problem
    elif len(data) > MAX_WEIGHTS_UNPACKED_BYTES:
        return None, Message("tr_w_not_weights")
    try:
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu", mmap=False), None
    except MemoryError:
        return None, Message("tr_w_inflated", {"size": "?", "max": MAX_WEIGHTS_UNPACKED_BYTES})
    except Exception as e:  # noqa: BLE001 - any failure of a hostile or broken file is a message, not a crash
        name = _unsafe_global(str(e))
        if name is not None:
            return None, Message("tr_w_unsafe", {"detail": name})
        return None, Message("tr_w_not_weights")


def parse_untrusted(data: bytes, filename: str, expected: dict[str, list[int]]) -> dict[str, Any]:
    """The sandbox worker's answer to a "weights" request: {"ok": true, "safetensors": base64} or
    {"ok": false, "message": {"key", "args"}}. Runs only in a worker (its memory and CPU limits apply)."""
    if len(data) > MAX_UPLOAD_BYTES:
        problem: Message | None = Message("tr_w_too_big", {"size": len(data), "max": MAX_UPLOAD_BYTES})
    elif not data:
        problem = Message("tr_w_empty")
    else:
        obj, problem = _load_untrusted(data, filename)
        if problem is None:
            state, problem = check_flat(obj, expected)
    if problem is not None:
        return {
            "ok": False,
            "message": {"key": problem.key, "args": plain_args(problem.args)},
            "error": {"kind": "refused", "message": problem.text("en"), "line": None},
        }
    assert state is not None  # check_flat gives a state or a problem
    blob = st_save(state)
    return {"ok": True, "safetensors": base64.b64encode(blob).decode("ascii")}


def plain_args(args: dict[str, Any]) -> dict[str, Any]:
    return {
        str(k): (
            v
            if isinstance(v, (int, float)) or (isinstance(v, list) and all(isinstance(x, int) for x in v))
            else str(v)[:200]
        )
        for k, v in args.items()
    }
