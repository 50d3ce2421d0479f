"""Record every torch op a program runs, keeping each graph node's forward value (a CPU copy)."""

from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from core.backward import bookkeeping_copies
from core.limits import MAX_JSON_ELEMENTS
from core.tensorjson import summary

_SKIP = {torch.Tensor.__get__, torch.Tensor.__set__} if hasattr(torch.Tensor, "__get__") else set()


class Tracer(TorchFunctionMode):
    """Maps each autograd node (grad_fn) to the value its op produced, and counts ops."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[Any, torch.Tensor | dict] = {}
        self.cuts: list[tuple[torch.Tensor, str, torch.Tensor]] = []  # (constant, "no_grad"/"detach", its source)
        self.ops = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        out = func(*args, **(kwargs or {}))
        if getattr(func, "__name__", "") == "__get__" or func in _SKIP:
            return out  # property reads (x.grad, x.shape) are not ops
        self.ops += 1
        outputs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        for t in outputs:
            if t.grad_fn is not None and t.output_nr == 0:  # a node's value is its first output (split, unbind)
                self.record(t)
        self._note_cut(func, args, kwargs, outputs)
        return out

    def _note_cut(self, func: Any, args: Any, kwargs: Any, outputs: list[torch.Tensor]) -> None:
        """A float result computed from a tensor that requires grad, yet carrying no history: the graph was cut."""
        name = getattr(func, "__name__", "")
        reason = "detach" if name in ("detach", "detach_") else ("no_grad" if not torch.is_grad_enabled() else None)
        if reason is None:
            return
        source = next((a for a in tree_flatten((args, kwargs))[0] if isinstance(a, torch.Tensor) and a.requires_grad),
                      None)
        if source is None:
            return
        for t in outputs:
            if not t.requires_grad and t.is_floating_point() and t is not source:
                self.cuts.append((t, reason, source))

    def record(self, t: torch.Tensor) -> None:
        """Keep the value of `t` for its grad_fn node (small tensors as copies, big ones as a summary)."""
        if t.numel() <= MAX_JSON_ELEMENTS:
            self.values[t.grad_fn] = bookkeeping_copies([t])[0]
        else:
            with torch.no_grad():
                self.values[t.grad_fn] = summary(t)
