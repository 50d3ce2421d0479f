"""Sandbox layer 3: check every aten op's output size (on meta tensors) and memory before it allocates."""

from __future__ import annotations

import resource
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

from core.limits import MAX_MEMORY_BYTES, MAX_SPLIT_PIECES, MAX_TENSOR_DIMS, MAX_TENSOR_ELEMENTS
from core.sandbox.errors import SandboxError

_META = torch.device("meta")


def _rss_bytes() -> int:
    """Peak resident memory of this process (an upper bound of the current one); no file is opened."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _to_meta(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.to(_META)
    if isinstance(x, torch.device):
        return _META
    return x


_PLAIN = (int, float, bool, str, type(None), torch.dtype, torch.device)


def _key_part(x: Any) -> Any:
    """A hashable stand-in for an op argument: a tensor by its shape, dtype and device."""
    if isinstance(x, torch.Tensor):
        return (x.shape, x.dtype, x.device.type)
    if isinstance(x, _PLAIN):
        return x
    if isinstance(x, (list, tuple)):
        return tuple([_key_part(v) for v in x])
    return type(x).__name__


def _outputs(out: Any) -> list[torch.Tensor]:
    leaves, _ = tree_flatten(out)
    return [t for t in leaves if isinstance(t, torch.Tensor)]


class ResourceGuard(TorchDispatchMode):
    """Runs each op on meta tensors first; refuses it when an output is too big or memory would overflow."""

    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self.cuda = device.type == "cuda"
        self.base_rss = _rss_bytes()
        self._cache: dict[Any, int] = {}

    def _planned_bytes(self, func: Any, args: tuple, kwargs: dict) -> int | None:
        """Bytes the op's outputs would take; None when it cannot be known before running (data-dependent)."""
        try:
            key = (func, _key_part(args), _key_part(tuple(sorted(kwargs.items()))))
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in self._cache:
            return self._cache[key]
        meta_kwargs = tree_map(_to_meta, kwargs)
        has_tensor = any(isinstance(a, torch.Tensor) for a in tree_flatten((args, kwargs))[0])
        if not has_tensor:
            meta_kwargs["device"] = _META
        try:
            out = func(*tree_map(_to_meta, args), **meta_kwargs)
        except RuntimeError as e:
            if "overflow" in str(e).lower():  # e.g. ones(2**62): the size itself does not fit
                raise SandboxError("limit", f"{func.overloadpacket.__name__}: the requested size is far too big "
                                            f"(the limit is {MAX_TENSOR_ELEMENTS:,} elements per tensor)") from None
            return None
        except Exception:
            return None
        total = 0
        for t in _outputs(out):
            _check_dims(func, t)
            n = t.numel()
            if n > MAX_TENSOR_ELEMENTS:
                raise SandboxError(
                    "limit",
                    f"{func.overloadpacket.__name__} would make a tensor of shape {list(t.shape)} "
                    f"({n:,} elements); the limit is {MAX_TENSOR_ELEMENTS:,} per tensor, views included",
                )
            if not _is_view(func):
                total += n * t.element_size()
        if key is not None:
            self._cache[key] = total
        return total

    def _check_memory(self, extra: int) -> None:
        used = torch.cuda.memory_allocated() if self.cuda else _rss_bytes() - self.base_rss
        if used + extra > MAX_MEMORY_BYTES:
            raise SandboxError(
                "limit",
                f"the program would use about {(used + extra) / 2**20:,.0f} MiB; "
                f"the limit is {MAX_MEMORY_BYTES / 2**20:,.0f} MiB",
            )

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        with torch._C.DisableTorchFunction():  # our own shape reads and meta runs skip the Python function modes
            _check_pieces(func, args, kwargs)  # before the meta run, which would build every piece too
            planned = self._planned_bytes(func, args, kwargs)
            if planned is None:
                _check_data_dependent(func, args)
            self._check_memory(planned or 0)
        out = func(*args, **kwargs)
        if planned is None:  # data-dependent size: checked right after, before anything else uses it
            for t in _outputs(out):
                _check_dims(func, t)
                if t.numel() > MAX_TENSOR_ELEMENTS:
                    n = t.numel()
                    raise SandboxError("limit", f"a result has {n:,} elements; the limit is {MAX_TENSOR_ELEMENTS:,}")
        return out


def _check_dims(func: Any, t: torch.Tensor) -> None:
    if t.dim() > MAX_TENSOR_DIMS:
        raise SandboxError("limit", f"{func.overloadpacket.__name__} would make a tensor of {t.dim()} dimensions; "
                                    f"the limit is {MAX_TENSOR_DIMS}")


def _is_view(func: Any) -> bool:
    schema = getattr(func, "_schema", None)
    if schema is None or not schema.returns:
        return False
    alias = schema.returns[0].alias_info
    return alias is not None and not alias.is_write


# Ops that return one tensor per piece: the count is known from the arguments, before anything is built.
_SPLITS = frozenset({"unbind", "split", "unsafe_split", "split_with_sizes", "unsafe_split_with_sizes", "chunk",
                     "unsafe_chunk", "tensor_split"})  # fmt: skip


def _arg(args: tuple, kwargs: dict, i: int, name: str, default: Any) -> Any:
    return args[i] if len(args) > i else kwargs.get(name, default)


def _check_pieces(func: Any, args: tuple, kwargs: dict) -> None:
    """unbind/split/chunk of a long dimension makes one tensor object per piece: refuse too many pieces."""
    name = func.overloadpacket.__name__
    if name not in _SPLITS or not args or not isinstance(args[0], torch.Tensor):
        return
    t = args[0]
    try:
        if name == "unbind":
            n = t.shape[_arg(args, kwargs, 1, "dim", 0)]
        elif name in ("split", "unsafe_split", "chunk", "unsafe_chunk"):
            size = t.shape[_arg(args, kwargs, 2, "dim", 0)]
            k = _arg(args, kwargs, 1, "chunks" if "chunk" in name else "split_size", 1)
            k = len(k) if isinstance(k, (list, tuple)) else int(k)
            n = min(k, size) if "chunk" in name else -(-size // max(k, 1))
        else:  # split_with_sizes, tensor_split: a list of sizes or indices, or a number of sections
            k = _arg(args, kwargs, 1, "split_sizes", 0)
            n = len(k) + 1 if isinstance(k, (list, tuple)) else int(k)
    except (IndexError, TypeError, ValueError, RuntimeError):
        return  # bad arguments: the op itself reports them
    if n > MAX_SPLIT_PIECES:
        raise SandboxError("limit", f"{name} would make {n:,} tensors (looping over or listing a tensor splits it "
                                    f"into rows); the limit is {MAX_SPLIT_PIECES:,}")


def _check_data_dependent(func: Any, args: tuple) -> None:
    """Ops whose output size depends on the values: refuse when even their largest possible output is too big."""
    name = func.overloadpacket.__name__
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
        raise SandboxError("limit", f"{name} could make a result of up to {n:,} elements; "
                                    f"the limit is {MAX_TENSOR_ELEMENTS:,}")
