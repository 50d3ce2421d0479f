"""Pick the torch device for training: CUDA when asked for and present, else the CPU with a note saying why."""

from __future__ import annotations

import torch

from core.messages import Message


def resolve(requested: str | None) -> tuple[torch.device, Message | None]:
    """`cuda`, `cuda:N` or `cpu` -> a usable device; an unavailable GPU falls back to the CPU with a note."""
    name = (requested or "cpu").strip().lower()
    if name in ("", "cpu"):
        return torch.device("cpu"), None
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        return torch.device("cpu"), Message("tr_dev_unknown", {"device": requested})
    if dev.type != "cuda":
        return torch.device("cpu"), Message("tr_dev_unknown", {"device": requested})
    if not torch.cuda.is_available():
        return torch.device("cpu"), Message("tr_dev_no_cuda", {"device": requested})
    index = dev.index or 0
    if index >= torch.cuda.device_count():
        return torch.device("cpu"), Message("tr_dev_no_cuda", {"device": requested})
    return torch.device("cuda", index), None
