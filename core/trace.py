"""Record the forward value of every graph node a program creates, as cheaply as a dict insert per op.

The guards hand each tensor op's output to `ValueLog`; it keeps the output tensor itself (no copy) with its
version counter. When the graph is drawn, a node whose tensor is unchanged shows that tensor: exactly the value
the op produced. A tensor changed in place later (its version moved on) is reported as such instead of showing
a value it no longer had. The newest MAX_RECORDED_NODES nodes are kept (within MAX_RECORDED_BYTES): the graph
a program ends with is its newest one, and an old loop iteration's graph is let go.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch

from core.limits import MAX_RECORDED_BYTES, MAX_RECORDED_NODES

Tensor = torch.Tensor


class ValueLog:
    """Maps each autograd node (grad_fn) to the tensor its op produced."""

    def __init__(self) -> None:
        self._values: OrderedDict[Any, tuple[Tensor, int]] = OrderedDict()
        self._bytes = 0
        self.enabled = True

    def __call__(self, out: Any) -> None:
        if not self.enabled:
            return
        if type(out) is Tensor or isinstance(out, Tensor):
            gf = out.grad_fn
            if gf is not None and gf not in self._values:
                self._add(gf, out)
        elif isinstance(out, (tuple, list)):
            for t in out:
                if isinstance(t, Tensor):
                    gf = t.grad_fn
                    if gf is not None and gf not in self._values:  # a node's value is its first output
                        self._add(gf, t)

    def _add(self, gf: Any, t: Tensor) -> None:
        self._values[gf] = (t, t._version)
        self._bytes += t.numel() * t.element_size()
        while len(self._values) > MAX_RECORDED_NODES or self._bytes > MAX_RECORDED_BYTES:
            _, (old, _v) = self._values.popitem(last=False)
            self._bytes -= old.numel() * old.element_size()

    def values(self) -> dict[Any, Tensor]:
        """node -> its forward value, for the nodes whose tensor was not changed in place since."""
        return {gf: t for gf, (t, v) in self._values.items() if t._version == v}

    def changed(self) -> set[Any]:
        """Nodes whose output was modified in place after the op ran (their forward value is gone)."""
        return {gf for gf, (t, v) in self._values.items() if t._version != v}

    def clear(self) -> None:
        self._values.clear()
        self._bytes = 0
