"""Weights in and out: safetensors and `.pt` state_dict bytes; uploads size-capped, parsed in a sandbox worker.

An upload is untrusted: a 2 MiB `.pt` can hold a deflated 2 GiB zip entry that `torch.load(weights_only=True)`
inflates, so this (server) process never parses or inflates uploaded bytes. `read()` checks the byte length
and hands the bytes to a sandbox worker (`core.sandbox.parse_weights`), where the worker's memory limits apply.
The worker (`parse_untrusted`, below) first checks every declared size (zip entries' uncompressed sizes, the
safetensors header), then parses, validates a flat dict[str, Tensor] of plain CPU floating tensors with the
model's keys and shapes, and answers with safetensors bytes. Those are checked here once more (header sizes
equal to the byte length, keys and shapes of the model) before `safetensors.torch.load` reads them: nothing
the server reads can declare more bytes than it holds, and their total is the model's size.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from core.limits import MAX_UPLOAD_BYTES
from core.messages import Message
from core.sandbox.uploads import check_flat, plain_args, safetensors_sizes


# dtypes a weights file may hold: floating point only (safetensors names -> torch dtypes)
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


# --- the server side ------------------------------------------------------------------------------------------

_WORKER_KEYS = {
    "tr_w_too_big",
    "tr_w_empty",
    "tr_w_unreadable",
    "tr_w_unsafe",
    "tr_w_not_dict",
    "tr_w_bad_key",
    "tr_w_not_tensor",
    "tr_w_keys",
    "tr_w_shape",
    "tr_w_dtype",
    "tr_w_nonfinite",
    "tr_w_odd_tensor",
    "tr_w_inflated",
    "tr_w_not_weights",
}


def _from_worker(answer: dict[str, Any]) -> tuple[bytes | None, Message | None]:
    """The worker's answer -> safetensors bytes, or the Message it refused with (only known keys and plain args)."""
    if answer.get("ok") and isinstance(answer.get("safetensors"), str):
        try:
            return base64.b64decode(answer["safetensors"], validate=True), None
        except ValueError:
            return None, Message("tr_w_checker", {"reason": "answer"})
    message = answer.get("message")
    if isinstance(message, dict) and message.get("key") in _WORKER_KEYS and isinstance(message.get("args"), dict):
        try:
            text = Message(message["key"], plain_args(message["args"]))
            text.text("en")  # every placeholder is there
            return None, text
        except (KeyError, IndexError, ValueError, TypeError):
            pass
    kind = (answer.get("error") or {}).get("kind", "runtime")
    return None, Message("tr_w_checker", {"reason": kind if kind in ("limit", "timeout", "runtime") else "runtime"})


def read(
    data: bytes, model: nn.Module, filename: str = "", session: str | None = None, on_wait: Any = None
) -> tuple[dict[str, torch.Tensor] | None, Message | None]:
    """Uploaded bytes -> a state_dict for `model`, or a Message saying why the file is refused.

    The bytes are parsed in a sandbox worker; this process only reads the worker's safetensors answer, whose
    declared sizes equal its byte length and whose keys and shapes are the model's.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        return None, Message("tr_w_too_big", {"size": len(data), "max": MAX_UPLOAD_BYTES})
    if not data:
        return None, Message("tr_w_empty")
    from core import sandbox

    want = model.state_dict()
    expected = {k: list(v.shape) for k, v in want.items()}
    answer = sandbox.parse_weights(bytes(data), filename, expected, session=session, on_wait=on_wait)
    blob, problem = _from_worker(answer)
    if problem is not None or blob is None:
        return None, problem or Message("tr_w_checker", {"reason": "answer"})
    cap = sum(v.numel() for v in want.values()) * 8  # float64 is the widest allowed dtype
    problem = safetensors_sizes(blob, cap=cap)
    if problem is not None:
        return None, problem
    try:
        obj = st_load(blob)
    except (SafetensorError, ValueError, RuntimeError, OSError):
        return None, Message("tr_w_checker", {"reason": "answer"})
    state, problem = check_flat(obj, expected)
    if problem is not None or state is None:
        return None, problem
    return {k: v.to(dtype=want[k].dtype) for k, v in state.items()}, None


def check(obj: object, model: nn.Module) -> tuple[dict[str, torch.Tensor] | None, Message | None]:
    """`check_flat` against `model`'s keys and shapes, cast to its dtypes (for objects this process made)."""
    want = model.state_dict()
    state, problem = check_flat(obj, {k: list(v.shape) for k, v in want.items()})
    if problem is not None or state is None:
        return None, problem
    return {k: v.to(dtype=want[k].dtype) for k, v in state.items()}, None
