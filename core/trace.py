"""Record the forward value of every graph node a program creates, as cheaply as a dict insert per op.

The guards hand each tensor op's output to `ValueLog`; it keeps the output tensor itself (no copy) with its
version counter. When the graph is drawn, a node whose tensor is unchanged shows that tensor: exactly the value
the op produced. A tensor changed in place later (its version moved on) is reported as such instead of showing
a value it no longer had. The newest MAX_RECORDED_NODES nodes are kept (within MAX_RECORDED_BYTES): the graph
a program ends with is its newest one, and an old loop iteration's graph is let go.

Leaves are the exception: a parameter is updated in place after backward (`a -= lr * a.grad`,
`optimizer.step()`), yet the graph's op values were computed from its old value. So the first op that uses a
leaf at a new version keeps a copy of it (one per leaf, the newest): the graph shows the leaf's value at
forward, and its value now when they differ.

`recording` feeds a ValueLog from plain PyTorch code (no guards): a training step replayed by core/training.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from core.limits import MAX_RECORDED_BYTES, MAX_RECORDED_NODES

Tensor = torch.Tensor
AccumulateGrad = torch._C._functions.AccumulateGrad  # type: ignore[attr-defined]  # a leaf's node
_PYTHON_MODES = torch._C.DispatchKeySet(torch._C.DispatchKey.Python)


def _snapshot(t: Tensor) -> Tensor:
    """A detached copy, unseen by any active torch mode (our bookkeeping, not the program's op)."""
    if torch._C._len_torch_function_stack() == 0 and torch._C._len_torch_dispatch_stack() == 0:
        return t.detach().clone()
    with torch._C.DisableTorchFunction(), torch._C._ExcludeDispatchKeyGuard(_PYTHON_MODES):
        return t.detach().clone()


class ValueLog:
    """Maps each autograd node (grad_fn) to the tensor its op produced, and each leaf to its value at forward."""

    def __init__(self) -> None:
        self._values: OrderedDict[Any, tuple[Tensor, int]] = OrderedDict()
        self._bytes = 0
        self._leaves: dict[int, tuple[Tensor, int, Tensor | None]] = {}  # id -> (leaf, version, copy at forward)
        self._leaf_bytes = 0
        self._mark: tuple[Any, ...] | None = None
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
        for fn, _ in gf.next_functions:  # the leaves this op read, as they are now (at forward)
            if fn is not None and type(fn) is AccumulateGrad:
                self._leaf(fn.variable)
        while len(self._values) > MAX_RECORDED_NODES or self._bytes > MAX_RECORDED_BYTES:
            _, (old, _v) = self._values.popitem(last=False)
            self._bytes -= old.numel() * old.element_size()

    def _leaf(self, var: Tensor) -> None:
        seen = self._leaves.get(id(var))
        if seen is not None and seen[0] is var and seen[1] == var._version:
            return
        if seen is not None and seen[2] is not None:
            self._leaf_bytes -= seen[2].numel() * seen[2].element_size()
        size = var.numel() * var.element_size()
        keep = self._leaf_bytes + size <= MAX_RECORDED_BYTES
        self._leaves[id(var)] = (var, var._version, _snapshot(var) if keep else None)
        self._leaf_bytes += size if keep else 0

    def values(self) -> dict[Any, Tensor]:
        """node -> its forward value, for the nodes whose tensor was not changed in place since."""
        return {gf: t for gf, (t, v) in self._values.items() if t._version == v}

    def changed(self) -> set[Any]:
        """Nodes whose output was modified in place after the op ran (their forward value is gone)."""
        return {gf for gf, (t, v) in self._values.items() if t._version != v}

    def changed_leaves(self) -> dict[int, tuple[Tensor, Tensor | None]]:
        """id(leaf) -> (the leaf, its copy at forward or None when too big to keep) for the leaves changed in
        place after the last op that read them."""
        return {k: (t, copy) for k, (t, v, copy) in self._leaves.items() if t._version != v}

    def clear(self) -> None:
        self._values.clear()
        self._bytes = 0
        self._leaves.clear()
        self._leaf_bytes = 0
        self._mark = None

    def mark(self) -> None:
        """Remember what is recorded now (what a program computed before its loop): `back_to_mark` returns here."""
        self._mark = (OrderedDict(self._values), self._bytes, dict(self._leaves), self._leaf_bytes)

    def back_to_mark(self) -> None:
        """Let go of everything recorded since `mark` (all of it without a mark)."""
        mark = self._mark
        if mark is None:
            self.clear()
            return
        values, self._bytes, leaves, self._leaf_bytes = mark
        self._values, self._leaves = OrderedDict(values), dict(leaves)


class _Recorder(TorchFunctionMode):
    """Hands every torch function's output to a ValueLog; notes which op first consumed each watched tensor."""

    def __init__(self, log: ValueLog, watch: Mapping[int, str]) -> None:
        super().__init__()
        self.log = log
        self.watch = dict(watch)  # id(tensor) -> name (grows: a no-grad result of a watched tensor is watched)
        self.keep: list[Tensor] = []  # keeps those results alive, so their ids stay theirs
        self.consumers: dict[Any, list[str]] = {}  # grad_fn -> names of the watched tensors it read

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        self.log(out)
        if self.watch and isinstance(out, Tensor):
            names = [self.watch[id(a)] for a in _tensor_args(args, kwargs) if id(a) in self.watch]
            if names:
                if out.grad_fn is not None:
                    have = self.consumers.setdefault(out.grad_fn, [])
                    have.extend(n for n in names if n not in have)
                elif id(out) not in self.watch:
                    self.watch[id(out)] = names[0]
                    self.keep.append(out)
        return out


def _tensor_args(args: Any, kwargs: Any) -> Iterator[Tensor]:
    for a in (*args, *(kwargs or {}).values()):
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from (x for x in a if isinstance(x, Tensor))


@contextmanager
def recording(log: ValueLog, watch: Mapping[str, Tensor] | None = None) -> Iterator[dict[Any, list[str]]]:
    """Record the values of the plain PyTorch code run in the block into `log`.

    Yields {grad_fn: [names]}: for each watched tensor (name -> tensor, e.g. a batch of inputs that needs no
    grad), the ops that read it, directly or through results that need no grad (a flatten)."""
    mode = _Recorder(log, {id(t): name for name, t in (watch or {}).items()})
    with mode:
        yield mode.consumers
