"""Sandbox layer 3: before a tensor op runs, its output size, memory and compute (FLOPs) are checked.

The guards call `Budget.plan` with the op and its arguments. The op is first run on meta tensors (shapes
only, no data) under torch's FLOP counter, once per distinct call signature (the answer is cached, so a
training loop pays for it on its first iteration only). A too-big output, memory past the cap or a program
whose total compute passes the budget is refused before the real op allocates or computes anything.
Data-dependent ops (nonzero, boolean masks ...) cannot be planned: their worst case is checked instead,
and their real output right after. The worker's rlimits stay as the backstop for what no plan sees
(library internals, the backward pass: bounded by the forward's sizes).
"""

from __future__ import annotations

import functools
import math
import resource
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map
from torch.utils.flop_counter import flop_registry

from core.limits import (
    ELEMENTWISE_COST,
    MAX_FLOPS,
    MAX_MEMORY_BYTES,
    MAX_OPS,
    MAX_SPLIT_PIECES,
    MAX_TENSOR_DIMS,
    MAX_TENSOR_ELEMENTS,
    PLAN_CACHE_ENTRIES,
)
from core.sandbox.errors import SandboxError

_META = torch.device("meta")
ACTIVE: list[Budget] = []  # the budget of the run in progress (set by session.program_context)
_PLANS: dict[Any, tuple[int, int] | None] = {}  # signature -> (output bytes, FLOPs), or None: not plannable
CHECK_MEMORY_ABOVE = 1 << 20  # outputs smaller than this skip the resident-memory reading (about 1 us each)


def _rss_bytes() -> int:
    """Peak resident memory of this process (an upper bound of the current one); no file is opened."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _to_meta(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.to(_META)
    if isinstance(x, torch.device):
        return _META
    return x


_PLAIN = (int, float, bool, str, type(None), torch.dtype, torch.device, type(Ellipsis))


def key_part(x: Any) -> Any:
    """A hashable stand-in for an op argument: a tensor by its shape, dtype and device; None when unkeyable."""
    t = type(x)
    if t is torch.Tensor or isinstance(x, torch.Tensor):
        return (x.shape, x.dtype, x.device.type)
    if t in _PLAIN:
        return x
    if t is tuple or t is list or t is torch.Size:
        if len(x) > 16:
            return None  # long lists (data for torch.tensor): not worth a key
        parts = tuple([key_part(v) for v in x])
        if any(p is None for p in parts) and not any(v is None for v in x):
            return None
        return (t.__name__, parts)
    if t is slice:
        return ("slice", x.start, x.stop, x.step) if all(type(v) in _PLAIN for v in (x.start, x.stop, x.step)) else None
    return None


_SCALARS = (int, float, bool)


def args_key(args: tuple) -> Any:
    """key_part(args), faster for the common call (tensors and numbers only): each number with its type, so 2,
    2.0 and True key apart; None when unkeyable."""
    parts: list[tuple[Any, ...]] = []
    for v in args:
        t = type(v)
        if t is torch.Tensor or t is torch.nn.Parameter:
            parts.append((v.shape, v.dtype, v.is_cuda))  # is_cuda: device.type builds a device object (0.6 us)
        elif t in _SCALARS:
            parts.append((t, v))
        else:
            return key_part(args)
    return tuple(parts)


def _outputs(out: Any) -> list[torch.Tensor]:
    if type(out) is torch.Tensor:
        return [out]
    leaves, _ = tree_flatten(out)
    return [t for t in leaves if isinstance(t, torch.Tensor)]


class Budget:
    """One run's compute and memory account; `plan` is called before every guarded tensor op."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.base_rss = _rss_bytes()
        self.flops = 0
        self.ops = 0
        self.line_hint: str = ""
        self._cache = _PLANS  # shared by the runs of one process: a plan depends only on the call's signature

    # --- planning ---------------------------------------------------------------------------------------------
    def count(self) -> None:
        self.ops += 1
        if self.ops > MAX_OPS:
            raise SandboxError.of("limit", "sb_ops", limit=MAX_OPS)

    def plan(self, fid: Any, fn: Callable[..., Any], args: tuple, kwargs: dict, cubic: bool = False) -> bool:
        """Account for fn(*args, **kwargs) before it runs; False when its size could not be planned."""
        self.count()  # (this path runs once per tensor op: kept to a few attribute reads and one dict lookup)
        ka = args_key(args)
        kk = key_part(tuple(kwargs.items())) if kwargs else ()
        key = (fid, ka, kk) if ka is not None and kk is not None else None
        hit: Any = self._cache.get(key, False) if key is not None else False
        if hit is False:
            _check_pieces(fid, args, kwargs)  # before the meta run, which would build every piece too
            hit = factory_cost(fid, args, kwargs) or self._meta(fid, fn, args, kwargs, cubic)
            if key is not None:
                if len(self._cache) >= PLAN_CACHE_ENTRIES:
                    self._cache.clear()
                self._cache[key] = hit
        if hit is None:
            _check_data_dependent(fid, args)
            return False
        self._account(*hit)
        return True

    def plan_layer(self, module: torch.nn.Module, args: tuple) -> bool:
        """Account for a built-in layer's call from its shapes alone when its cost is plain to see (see
        layer_cost); False when it is not: then it is planned on meta tensors like any op."""
        cost = layer_cost(module, args)
        if cost is None:
            return False
        self.count()
        self._account(*cost)
        return True

    def _account(self, nbytes: int, flops: int) -> None:
        self.add_flops(flops)
        if nbytes > CHECK_MEMORY_ABOVE:
            self.check_memory(nbytes)

    def _meta(self, fid: Any, fn: Callable[..., Any], args: tuple, kwargs: dict, cubic: bool) -> tuple[int, int] | None:
        flat = tree_flatten((args, kwargs))[0]
        meta_kwargs = tree_map(_to_meta, kwargs)
        if not any(isinstance(a, torch.Tensor) for a in flat) and _takes_device(fid):
            meta_kwargs["device"] = _META
        try:
            with torch._C.DisableTorchFunction(), FlopCount() as counter:
                out = fn(*tree_map(_to_meta, args), **meta_kwargs)
            counted = counter.flops
        except RuntimeError as e:
            if "overflow" in str(e).lower():  # e.g. ones(2**62): the size itself does not fit
                raise SandboxError.of("limit", "sb_size_overflow", op=_name(fid), limit=MAX_TENSOR_ELEMENTS) from None
            return None
        except Exception:  # noqa: BLE001  not plannable on meta (data-dependent, odd arguments): checked after
            return None
        total = 0
        elements = 0
        for t in _outputs(out):
            check_tensor(fid, t)
            elements += t.numel()
            if not _is_view(t):
                total += t.numel() * t.element_size()
        flops = counted + elements * ELEMENTWISE_COST
        if cubic:
            sizes = [a.shape[-1] for a in flat if isinstance(a, torch.Tensor) and a.dim() >= 2]
            n = max(sizes, default=0)
            batch = max((math.prod(a.shape[:-2]) for a in flat if isinstance(a, torch.Tensor) and a.dim() >= 2),
                        default=1)  # fmt: skip
            flops += 10 * n**3 * batch
        return total, flops

    def charge(self, flops: int) -> None:
        """One tensor op whose size needs no plan (same-shape and scalar operators): count it and its FLOPs."""
        self.ops += 1
        self.flops += flops
        if self.ops > MAX_OPS or self.flops > MAX_FLOPS:
            self.ops -= 1
            self.flops -= flops
            self.count()
            self.add_flops(flops)

    def add_flops(self, flops: int) -> None:
        self.flops += flops
        if self.flops > MAX_FLOPS:
            raise SandboxError.of("limit", "sb_flops", limit=MAX_FLOPS / 1e9, op=flops / 1e9)

    def check_memory(self, extra: int) -> None:
        used = torch.cuda.memory_allocated() if self.cuda else _rss_bytes() - self.base_rss
        if used + extra > MAX_MEMORY_BYTES:
            raise SandboxError.of("limit", "sb_memory", mib=(used + extra) / 2**20, limit=MAX_MEMORY_BYTES / 2**20)

    def after(self, fid: Any, out: Any) -> None:
        """The real output of an op that could not be planned: checked right away, before anything uses it."""
        elements = 0
        for t in _outputs(out):
            check_tensor(fid, t)
            elements += t.numel()
        self.add_flops(elements * ELEMENTWISE_COST)


# Built-in layers whose output has its input's shape, one simple operation an element (as a meta run counts
# them): their cost needs no meta run, which takes 0.3-1.5 ms a layer in torch's Python meta kernels.
_ELEMENTWISE_LAYERS = frozenset({
    torch.nn.ReLU, torch.nn.ReLU6, torch.nn.LeakyReLU, torch.nn.ELU, torch.nn.SELU, torch.nn.CELU, torch.nn.GELU,
    torch.nn.SiLU, torch.nn.Mish, torch.nn.Sigmoid, torch.nn.Tanh, torch.nn.Hardtanh, torch.nn.Hardsigmoid,
    torch.nn.Hardswish, torch.nn.Softplus, torch.nn.Softsign, torch.nn.Tanhshrink, torch.nn.LogSigmoid,
    torch.nn.Dropout, torch.nn.Softmax, torch.nn.LogSoftmax,
})  # fmt: skip


# Built-in losses of an input and a target of its shape (no weights): a number, or one an element.
_PAIR_LOSSES = frozenset({
    torch.nn.MSELoss, torch.nn.L1Loss, torch.nn.SmoothL1Loss, torch.nn.HuberLoss, torch.nn.BCELoss,
    torch.nn.BCEWithLogitsLoss,
})  # fmt: skip
_CLASS_LOSSES = frozenset({torch.nn.CrossEntropyLoss, torch.nn.NLLLoss})  # (N, C) scores, (N,) class indices
_TENSORS = (torch.Tensor, torch.nn.Parameter)


def _float_attr(module: torch.nn.Module, name: str, default: float) -> float:
    value = module.__dict__.get(name, default)
    return value if isinstance(value, (int, float)) else math.nan


def _loss_cost(module: torch.nn.Module, x: torch.Tensor, target: Any) -> tuple[int, int] | None:
    """A built-in loss of the plainest shapes: what a meta run counts, its output's size (a number for 'mean'
    and 'sum'); None for anything else (weights, broadcasting, images of classes): planned on meta."""
    kind, reduction = type(module), getattr(module, "reduction", None)
    if type(target) not in _TENSORS or reduction not in ("mean", "sum", "none") or x.device != target.device:
        return None
    if not x.dtype.is_floating_point or x.numel() == 0:
        return None
    if kind in _PAIR_LOSSES:
        if target.shape != x.shape or target.dtype != x.dtype:
            return None
        if any(getattr(module, k, None) is not None for k in ("weight", "pos_weight")):
            return None
        if not _float_attr(module, "beta", 0.0) >= 0 or not _float_attr(module, "delta", 1.0) > 0:
            return None  # torch refuses them
        n = x.numel() if reduction == "none" else 1
    elif kind in _CLASS_LOSSES:
        if x.dim() != 2 or target.dim() != 1 or target.shape[0] != x.shape[0] or target.dtype != torch.int64:
            return None
        if module.weight is not None or not 0.0 <= getattr(module, "label_smoothing", 0.0) <= 1.0:
            return None
        n = x.shape[0] if reduction == "none" else 1
    else:
        return None
    return n * x.element_size(), n * ELEMENTWISE_COST


_FACTORIES = {torch.rand: "real", torch.randn: "real", torch.zeros: "any", torch.ones: "any", torch.empty: "any",
              torch.randint: "index"}  # fmt: skip
_FACTORY_KWARGS = frozenset({"dtype", "device", "requires_grad", "generator"})


def factory_cost(fid: Any, args: tuple, kwargs: dict) -> tuple[int, int] | None:
    """(output bytes, FLOPs) of torch.rand/randn/zeros/ones/empty(*sizes) and torch.randint(low?, high, size)
    from their sizes alone, equal to what a meta run counts (tests/test_fast_paths.py holds them equal); None
    for anything else, and for what torch or the tensor limits refuse (the meta run says which)."""
    try:
        kind = _FACTORIES.get(fid)
    except TypeError:  # unhashable
        return None
    if kind is None or not _FACTORY_KWARGS.issuperset(kwargs):
        return None
    dtype = kwargs.get("dtype")
    if kind == "index":
        if len(args) not in (2, 3) or any(type(b) is not int for b in args[:-1]):
            return None
        low, high = (0, args[0]) if len(args) == 2 else args[:2]
        if not low < high:
            return None
        size = args[-1]
        dtype = torch.int64 if dtype is None else dtype
        if type(dtype) is not torch.dtype or dtype.is_complex or dtype == torch.bool:
            return None
        # the bounds must fit the dtype: an integer's range, a float's exact integers (torch refuses others)
        if dtype.is_floating_point:
            if dtype not in (torch.float32, torch.float64) or not -(2**24) <= low < high <= 2**24:
                return None
        elif not torch.iinfo(dtype).min <= low < high - 1 <= torch.iinfo(dtype).max:
            return None
        if type(size) not in (tuple, list, torch.Size):
            return None
    else:
        if not args:
            return None  # torch.rand() is refused
        size = args[0] if len(args) == 1 and type(args[0]) in (tuple, list, torch.Size) else args
        dtype = torch.get_default_dtype() if dtype is None else dtype
        if type(dtype) is not torch.dtype or kind == "real" and not (dtype.is_floating_point or dtype.is_complex):
            return None
    if len(size) > MAX_TENSOR_DIMS or any(type(n) is not int or n < 0 for n in size):
        return None
    n = math.prod(size)
    if n > MAX_TENSOR_ELEMENTS:
        return None
    return n * dtype.itemsize, n * ELEMENTWISE_COST


def layer_cost(module: torch.nn.Module, args: tuple) -> tuple[int, int] | None:
    """(output bytes, FLOPs) of a call of an elementwise layer, a Flatten, a Linear or a plain loss, from shapes
    alone, equal to what a meta run counts (tests/test_fast_paths.py holds them equal); None for any other."""
    if not args or type(args[0]) not in _TENSORS:
        return None
    if len(args) == 2:
        return _loss_cost(module, args[0], args[1])
    if len(args) != 1:
        return None
    x, kind = args[0], type(module)
    n = x.numel()
    if kind in _ELEMENTWISE_LAYERS:  # in place or not, the output is a tensor of the input's size
        return n * x.element_size(), n * ELEMENTWISE_COST
    if kind is torch.nn.Flatten and x.dim() > 0 and x.is_contiguous():
        d = x.dim()
        if not (-d <= module.start_dim < d and -d <= module.end_dim < d) or module.start_dim % d > module.end_dim % d:
            return None  # torch refuses it
        start, end = module.start_dim % d, module.end_dim % d
        return (n * x.element_size() if start == end else 0), n * ELEMENTWISE_COST  # the input itself, or a view
    if kind is torch.nn.Linear:
        w, b = module._parameters.get("weight"), module._parameters.get("bias")
        if w is None or w.dim() != 2 or x.dim() != 2 or x.shape[1] != w.shape[1] or w.shape[1] == 0:
            return None  # other shapes go through matmul's own rules: planned on meta
        if x.dtype != w.dtype or x.device != w.device or (b is not None and b.shape != (w.shape[0],)):
            return None
        rows, out = x.shape[0], w.shape[0]
        return rows * out * x.element_size(), 2 * rows * w.shape[1] * out + rows * out * ELEMENTWISE_COST
    return None


_LINEAR_COST_OPS = frozenset({"_to_copy", "_softmax", "_log_softmax", "nll_loss_forward", "nll_loss2d_forward"})


@functools.cache
def _linear_cost(func: Any) -> bool:
    """An aten op whose work is a few operations per element it reads or writes (pointwise, reductions, views,
    casts, softmax): no formula of torch's flop counter applies to it or to what it decomposes into."""
    if func.is_view or torch.Tag.pointwise in func.tags or torch.Tag.reduction in func.tags:
        return True
    return func._overloadpacket.__name__ in _LINEAR_COST_OPS


class FlopCount(TorchDispatchMode):
    """torch.utils.flop_counter's count, without its cost on every other op: ops with a formula in its registry
    (matmuls, convolutions, attention) are counted by it; the others are decomposed into ops that may have one,
    as FlopCounterMode does, except ops of linear cost, whose decomposition it would count as zero anyway
    (decomposing those into Python reference kernels was most of a plan's time: 0.3-1.5 ms a layer)."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        formula = flop_registry.get(func._overloadpacket)
        if formula is None and isinstance(func, torch._ops.OpOverload) and not _linear_cost(func):
            with self:
                out = func.decompose(*args, **kwargs)
            if out is not NotImplemented:
                return out
        out = func(*args, **kwargs)
        if formula is not None:
            self.flops += formula(*args, **kwargs, out_val=out)
        return out


def _name(fid: Any) -> str:
    if isinstance(fid, str):
        return fid
    if isinstance(fid, tuple) and fid and fid[0] == "module":  # a built-in layer's call: its class
        return fid[1].__name__ if isinstance(fid[1], type) else str(fid[1])
    return getattr(fid, "__name__", None) or str(fid)


def _takes_device(fid: Any) -> bool:
    return not isinstance(fid, str)


def check_tensor(fid: Any, t: torch.Tensor) -> None:
    if t.dim() > MAX_TENSOR_DIMS:
        raise SandboxError.of("limit", "sb_tensor_dims", op=_name(fid), dims=t.dim(), limit=MAX_TENSOR_DIMS)
    n = t.numel()
    if n > MAX_TENSOR_ELEMENTS:
        raise SandboxError.of(
            "limit", "sb_tensor_elements", op=_name(fid), shape=str(list(t.shape)), n=n, limit=MAX_TENSOR_ELEMENTS
        )


def _is_view(t: torch.Tensor) -> bool:
    return t._is_view()


# Ops that return one tensor per piece: the count is known from the arguments, before anything is built.
_SPLITS = frozenset({"unbind", "split", "split_with_sizes", "chunk", "tensor_split"})


def _arg(args: tuple, kwargs: dict, i: int, name: str, default: Any) -> Any:
    return args[i] if len(args) > i else kwargs.get(name, default)


def _check_pieces(fid: Any, args: tuple, kwargs: dict) -> None:
    """unbind/split/chunk of a long dimension makes one tensor object per piece: refuse too many pieces."""
    name = _name(fid).rsplit(".", 1)[-1]
    if name not in _SPLITS or not args or not isinstance(args[0], torch.Tensor):
        return
    t = args[0]
    try:
        if name == "unbind":
            n = t.shape[_arg(args, kwargs, 1, "dim", 0)]
        elif name in ("split", "chunk"):
            size = t.shape[_arg(args, kwargs, 2, "dim", 0)]
            k = _arg(args, kwargs, 1, "chunks" if name == "chunk" else "split_size_or_sections", 1)
            k = len(k) if isinstance(k, (list, tuple)) else int(k)
            n = min(k, size) if name == "chunk" else -(-size // max(k, 1))
        else:
            k = _arg(args, kwargs, 1, "split_sizes", 0)
            n = len(k) + 1 if isinstance(k, (list, tuple)) else int(k)
    except (IndexError, TypeError, ValueError, RuntimeError):
        return  # bad arguments: the op itself reports them
    check_pieces(name, n)


def check_pieces(name: str, n: int) -> None:
    if n > MAX_SPLIT_PIECES:
        raise SandboxError.of("limit", "sb_split_pieces", op=name, n=n, limit=MAX_SPLIT_PIECES)


def _check_data_dependent(fid: Any, args: tuple) -> None:
    """Ops whose output size depends on the values: refuse when even their largest possible output is too big."""
    name = _name(fid).rsplit(".", 1)[-1]
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if not tensors:
        return
    if name in ("nonzero", "argwhere"):
        n = tensors[0].numel() * max(1, tensors[0].dim())
    elif name == "masked_select" and len(tensors) >= 2:
        n = torch.broadcast_shapes(tensors[0].shape, tensors[1].shape).numel()
    else:
        return
    if n > MAX_TENSOR_ELEMENTS:
        raise SandboxError.of("limit", "sb_result_elements", op=name, n=n, limit=MAX_TENSOR_ELEMENTS)
