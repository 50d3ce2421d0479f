"""Record every torch op a program runs, keeping each graph node's forward value (a CPU copy)."""

from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from core.limits import MAX_JSON_ELEMENTS
from core.tensorjson import summary

_SKIP = {torch.Tensor.__get__, torch.Tensor.__set__} if hasattr(torch.Tensor, "__get__") else set()


class Tracer(TorchFunctionMode):
    """Maps each autograd node (grad_fn) to the value its op produced, and counts ops."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[Any, torch.Tensor | dict] = {}
        self.ops = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        out = func(*args, **(kwargs or {}))
        if getattr(func, "__name__", "") == "__get__" or func in _SKIP:
            return out  # property reads (x.grad, x.shape) are not ops
        self.ops += 1
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.grad_fn is not None:
                self.record(t)
        return out

    def record(self, t: torch.Tensor) -> None:
        """Keep the value of `t` for its grad_fn node (small tensors as copies, big ones as a summary)."""
        with torch.no_grad():
            if t.numel() <= MAX_JSON_ELEMENTS:
                self.values[t.grad_fn] = t.detach().to("cpu", copy=True)
            else:
                self.values[t.grad_fn] = summary(t)
