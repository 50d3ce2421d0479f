"""The guards a compiled program calls (see compiler.py): each one asks the allowlist table before it acts.

One `Runtime` per run holds the counters (steps, tensor ops, FLOPs via the Budget), the captured output,
the per-run file store behind torch.save/torch.load, the program's own classes, and the hooks that record
values and backward passes. `Runtime.globals()` is the only namespace a program sees.
"""

from __future__ import annotations

import builtins
import functools
import io
import math
import operator
import random
import re
import string
import sys
import types
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from core.limits import (
    ELEMENTWISE_COST,
    MAX_FLOPS,
    MAX_INT_BITS,
    MAX_MODULES,
    MAX_OPS,
    MAX_PRINT_CHARS,
    MAX_RANGE,
    MAX_STEPS,
    MAX_TENSOR_ELEMENTS,
    MAX_TEXT_CHARS,
    MAX_TOLIST_ELEMENTS,
    MAX_UPLOAD_BYTES,
)
from core.sandbox import suggest, table
from core.sandbox.compiler import PROGRAM
from core.sandbox.errors import SandboxError
from core.sandbox.guard import Budget, check_pieces
from core.sandbox.loops import LoopWatch
from core.sandbox.table import ANY_KWARGS, SPECS, GradMode, Namespace, Spec

MAX_LIST_LEN = MAX_TOLIST_ELEMENTS  # lists built by the program (append, +, *) share the tolist bound
Tensor = torch.Tensor
_NUMBERS = (int, float, bool, complex)
_OPS: list[Callable[[Any, Any], Any]] = [
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod, operator.pow,
    operator.matmul, operator.lshift, operator.rshift, operator.and_, operator.or_, operator.xor,
]  # fmt: skip
_IOPS: list[Callable[[Any, Any], Any]] = [
    operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ifloordiv, operator.imod, operator.ipow,
    operator.imatmul, operator.ilshift, operator.irshift, operator.iand, operator.ior, operator.ixor,
]  # fmt: skip
_OP_NAMES = ["+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", "&", "|", "^"]
ADD, SUB, MUL, POW, MATMUL, LSHIFT, MOD = 0, 1, 2, 6, 7, 8, 5
_CMPS: list[Callable[[Any, Any], Any]] = [
    operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
    lambda a, b: operator.contains(b, a), lambda a, b: not operator.contains(b, a),
]  # fmt: skip
_UNARY: list[Callable[[Any], Any]] = [operator.neg, operator.pos, operator.invert]
_FORMAT_SPEC = re.compile(r"^(.?[<>^=])?[+\- ]?z?#?0?(\d{1,2})?[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?$")
_PERCENT = re.compile(r"%(\([^)]{0,40}\))?[-+ #0]*(\*|\d+)?(\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])")


class Method:
    """A method looked up on an allowed object (`f = x.add`), callable only through the guards."""

    __slots__ = ("obj", "name", "kwargs")

    def __init__(self, obj: Any, name: str, kwargs: frozenset[str]) -> None:
        self.obj, self.name, self.kwargs = obj, name, kwargs

    def __repr__(self) -> str:
        return f"<method {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # called natively (sorted(key=...), map ...)
        return _CURRENT[0].callattr(self.obj, self.name, *args, **kwargs)


_CURRENT: list[Any] = [None]  # the running Runtime (one per worker process; set while a program runs)


def _refused(key: str, /, **args: Any) -> SandboxError:
    return SandboxError.of("refused", key, **args)


def _unknown(owner: str, attr: str, real: Any, candidates: Iterable[Any], key: str, /, **args: Any) -> SandboxError:
    """An attribute the table does not have on `owner`. A typo (the real object has no such name either, and an
    allowed name in `candidates` is close) is an unknown name, as plain Python would say, with the closest allowed
    names; anything else (a real but excluded name, a probe) stays a refusal (catalog `key` with `args`)."""
    close = [] if suggest.really_has(real, attr) else suggest.close(attr, candidates)
    if close:
        return SandboxError.of("runtime", "sb_unknown_attr_hint", owner=owner, name=attr, hint=suggest.hint(close))
    return _refused(key, **args)


def _real_module(ns: Namespace) -> Any:
    return sys.modules.get(ns.name)


def _type_name(obj: Any) -> str:
    if isinstance(obj, type):
        return f"class {obj.__name__}"
    if isinstance(obj, Namespace):
        return f"module {obj.name}"
    return type(obj).__name__


class _SafeFormatter(string.Formatter):
    """str.format without attribute or item access inside the fields, and with bounded widths."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if "." in field_name or "[" in field_name:
            raise SandboxError.of("refused", "sb_format_fields")
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        return format_value(value, None, format_spec)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        return value if conversion is None else format_value(value, conversion, "")


_FORMATTER = _SafeFormatter()


def check_spec(spec: str) -> None:
    if spec and not _FORMAT_SPEC.match(spec):
        raise SandboxError.of("refused", "sb_format_spec", spec=spec)


def format_value(value: Any, conversion: str | None, spec: str) -> str:
    """One f-string or str.format field, bounded."""
    check_spec(spec)
    if conversion in ("r", "a"):
        value = bounded_text(value, MAX_TEXT_CHARS, as_repr=True)
    elif conversion == "s" or type(value) in (list, tuple, dict, set):
        value = bounded_text(value, MAX_TEXT_CHARS)
    elif isinstance(value, (Tensor, np.ndarray)) and not spec:
        bounded_text(value, MAX_TEXT_CHARS * 100, complete=False)  # refuses a tensor too big to print, first
    text = format(value, spec)
    if len(text) > MAX_TEXT_CHARS:
        raise SandboxError.of("limit", "sb_formatted_long", limit=MAX_TEXT_CHARS)
    return text


def _check_percent(fmt: str) -> None:
    for m in _PERCENT.finditer(fmt):
        width, precision = m.group(2), m.group(4)
        for part in (width, precision):
            if part == "*":
                raise SandboxError.of("refused", "sb_percent_star")
            if part is not None and int(part) > 99:
                raise SandboxError.of("refused", "sb_percent_width")


def _length(x: Any) -> int:
    """How many items iterating `x` yields (0 when it is not a sized iterable: the operation then fails itself)."""
    if isinstance(x, Tensor):
        return x.shape[0] if x.dim() else 0
    try:
        return len(x)
    except TypeError:
        return 0


def _check_items(*iterables: Any) -> None:
    for it in iterables:
        n = _length(it)
        if n > MAX_LIST_LEN:
            raise SandboxError.of("limit", "sb_sequence_long", n=n, limit=MAX_LIST_LEN)
        if isinstance(it, Tensor) and it.dim():
            check_pieces("iterating a tensor", it.shape[0])


def check_python_op(code: int, a: Any, b: Any) -> None:
    """Refuse Python-number and sequence operations whose result would be huge, before computing them."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if code == POW and b > 0 and abs(a) > 1 and b * a.bit_length() > MAX_INT_BITS:
            raise SandboxError.of("limit", "sb_int_pow", a=a, b=b, limit=MAX_INT_BITS)
        if code == MUL and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise SandboxError.of("limit", "sb_int_product", limit=MAX_INT_BITS)
        if code == LSHIFT and b > 0 and a and a.bit_length() + b > MAX_INT_BITS:
            raise SandboxError.of("limit", "sb_int_shift", a=a, b=b, limit=MAX_INT_BITS)
        return
    if code == MUL:
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, (str, list, tuple)) and not isinstance(n, (str, list, tuple)):
                try:  # a sequence repeats by anything with __index__, an integer tensor included
                    n = operator.index(n)
                except (TypeError, RuntimeError, ValueError):
                    continue  # not a repeat count: the operation itself fails
                limit = MAX_TEXT_CHARS if isinstance(seq, str) else MAX_LIST_LEN
                if len(seq) * n > limit:
                    raise SandboxError.of("limit", "sb_repeat", what=type(seq).__name__, n=n, limit=limit)
    elif code == ADD and isinstance(a, (str, list, tuple)):
        limit = MAX_TEXT_CHARS if isinstance(a, str) else MAX_LIST_LEN
        if len(a) + _length(b) > limit:  # list += iterable extends by anything iterable, tensors included
            raise SandboxError.of("limit", "sb_concat_long", what=type(a).__name__, limit=limit)
    elif code == MOD and isinstance(a, str):
        _check_percent(a)


def check_tensor_data(data: Any) -> None:
    """torch.tensor(nested lists): the size follows the first element at each depth; check it before allocating."""
    n, depth = 1, 0
    while isinstance(data, (list, tuple)):
        n *= len(data)
        depth += 1
        if not data or depth > 64:
            break
        data = data[0]
    if isinstance(data, (Tensor, np.ndarray)):
        n *= data.size if isinstance(data, np.ndarray) else data.numel()
    if n > MAX_TENSOR_ELEMENTS:
        raise SandboxError.of("limit", "sb_lists_tensor", n=n, limit=MAX_TENSOR_ELEMENTS)


def _check_layers(layers: Iterable[Any]) -> None:
    """nn.Sequential(m, m) doubles with each nesting: count layers with repeats, as forward and print would."""
    stack, n = list(layers), 0
    while stack:
        layer = stack.pop()
        n += 1
        if n > MAX_MODULES:
            raise SandboxError.of("limit", "sb_modules", limit=MAX_MODULES)
        if isinstance(layer, nn.Module):
            stack.extend(layer._modules.values())
        elif isinstance(layer, (list, tuple)):
            stack.extend(layer)


def _np_size(shape: Any) -> int:
    if isinstance(shape, (int, np.integer)):
        return int(shape)
    if isinstance(shape, (list, tuple)):
        n = 1
        for s in shape:
            n *= int(s)
        return n
    return 0


def _check_np_create(name: str, args: tuple, kwargs: dict) -> None:
    """numpy creation functions: the number of elements, from the arguments, before numpy allocates."""
    short = name.rsplit(".", 1)[-1]
    n = 0
    try:
        if short in ("zeros", "ones", "full", "empty", "standard_normal"):
            n = _np_size(args[0] if args else kwargs.get("size", kwargs.get("shape", 0)))
        elif short in ("rand", "randn"):
            n = _np_size(list(args))
        elif short in ("randint", "random", "uniform", "normal", "choice", "integers"):
            size = kwargs.get("size")
            if size is None:
                pos = {"randint": 2, "random": 0, "uniform": 2, "normal": 2, "choice": 1}.get(short, 9)
                size = args[pos] if len(args) > pos else 1
            n = _np_size(size) if size is not None else 1
        elif short == "arange":
            nums = [float(a) for a in args]
            start, stop, step = (0.0, nums[0], 1.0) if len(nums) == 1 else (nums + [1.0])[:3]
            n = math.ceil((stop - start) / step) if step else 0
        elif short == "linspace":
            n = int(args[2] if len(args) > 2 else kwargs.get("num", 50))
        elif short in ("eye", "identity"):
            rows = int(args[0])
            n = rows * int(args[1] if len(args) > 1 and args[1] is not None else kwargs.get("M") or rows)
    except (TypeError, ValueError, IndexError, OverflowError):
        return  # odd arguments: numpy reports them
    if n > MAX_TENSOR_ELEMENTS:
        raise SandboxError.of("limit", "sb_array_elements", op=name, n=n, limit=MAX_TENSOR_ELEMENTS)


def _check_np_result(name: str, out: Any) -> None:
    for a in out if isinstance(out, tuple) else (out,):
        if isinstance(a, np.ndarray) and a.size > MAX_TENSOR_ELEMENTS:
            raise SandboxError.of("limit", "sb_array_made", op=name, n=a.size, limit=MAX_TENSOR_ELEMENTS)


def _np_binop_size(a: Any, b: Any) -> int:
    sa = np.shape(a) if isinstance(a, (np.ndarray, np.generic, list, tuple, *_NUMBERS)) else None
    sb = np.shape(b) if isinstance(b, (np.ndarray, np.generic, list, tuple, *_NUMBERS)) else None
    if sa is None or sb is None:
        return 0
    try:
        return math.prod(np.broadcast_shapes(sa, sb))
    except ValueError:
        return 0  # numpy raises its own error


def _is_program_function(f: Any) -> bool:
    code = getattr(f, "__code__", None)
    return code is not None and code.co_filename == PROGRAM


def _already(x: Tensor, where: Any) -> bool:
    """`x.to(where)` gives x itself: where is x's own device (as a name or a device) or its own dtype."""
    if isinstance(where, torch.dtype):
        return where == x.dtype
    if isinstance(where, (str, torch.device)):
        try:
            return torch.device(where) == x.device
        except (RuntimeError, TypeError):
            return False
    return False


def _sized_operand(a: Any, b: Any) -> Tensor | None:
    """Of an elementwise operator or comparison with a tensor on one side: the operand whose size the result
    has, when that is plain to see (a number, a 0-d tensor or a tensor of the same shape on the other side, no
    broadcasting growth); None otherwise (planned on meta)."""
    ta, tb = type(a), type(b)
    if tb in _NUMBERS:
        return a
    if ta in _NUMBERS:
        return b
    if (ta is Tensor or ta is nn.Parameter) and (tb is Tensor or tb is nn.Parameter):
        if b.dim() == 0 or a.shape == b.shape:
            return a
        if a.dim() == 0:
            return b
    return None


class Runtime:
    """One program run: counters, output, the guards, and the namespace the program sees."""

    def __init__(self, budget: Budget, on_backward: Callable[..., Any] | None = None,
                 on_value: Callable[[Any], None] | None = None, loops: LoopWatch | None = None) -> None:  # fmt: skip
        self.budget = budget
        self.steps = 0
        self.stdout: list[str] = []
        self._stdout_chars = 0
        self.classes: set[type] = set()
        self.store: dict[str, bytes] = {}
        self.store_bytes = 0
        self.failed: SandboxError | None = None
        self.on_backward = on_backward or (lambda kind, roots, grads, call: call())
        self.on_value = on_value  # sees each tensor op's output (the value recorder)
        self.cuts: dict[int, tuple[Tensor, str, Tensor]] = {}  # id(constant) -> (constant, reason, its source)
        self._attr_cache: dict[tuple[type, str], Callable[[Any, str], Any]] = {}
        self._policy_cache: dict[type, dict[str, frozenset[str] | None]] = {}
        self._builtins = self._make_builtins()
        self.loops = loops if loops is not None else LoopWatch()  # the running loops: what is left of them

    # --- the namespace ----------------------------------------------------------------------------------------
    def globals(self) -> dict[str, Any]:
        g: dict[str, Any] = {"__builtins__": self._builtins, "__name__": "__main__", "__doc__": None}
        for name in (
            "getattr", "setattr", "delattr", "callattr", "call", "getitem", "setitem", "delitem", "binop", "inplace",
            "compare", "chain", "unary", "tick", "import_", "importfrom", "bases", "class_", "except_", "caught",
            "raise_", "with_", "format_", "decorator", "iter", "loop", "while_",
        ):  # fmt: skip
            g[f"__sb_{name.rstrip('_')}__"] = getattr(self, name)
        g["__sb_slice__"] = slice
        g.update(table.PRELUDE)
        return g

    def _make_builtins(self) -> dict[str, Any]:
        b: dict[str, Any] = dict(table.SAFE_BUILTINS)
        b["__build_class__"] = builtins.__build_class__
        own = {
            "print": self._print, "range": self._range, "str": self._str, "repr": self._repr, "format": self._format,
            "list": self._list, "tuple": self._tuple, "sorted": self._sorted, "reversed": self._reversed,
            "min": self._minmax(min), "max": self._minmax(max), "sum": self._sum, "enumerate": enumerate, "zip": zip,
            "round": _round, "int": _int, "map": self._map, "filter": self._filter, "type": _type,
            "getattr": self._getattr_builtin, "setattr": self._setattr_builtin, "hasattr": self._hasattr,
            "pow": self._pow, "iter": self._iter_builtin,
        }  # fmt: skip
        self.torch_own = {"save": self.save, "load": self.load}  # bound once: their ids stay theirs
        own.update({f"torch.{k}": v for k, v in self.torch_own.items()})
        self.own_builtins = {id(v): k for k, v in own.items()}
        self._own_objects = list(own.values())  # keep them alive: ids stay theirs
        b.update({k: v for k, v in own.items() if not k.startswith("torch.")})
        return b

    # --- counters ---------------------------------------------------------------------------------------------
    def tick(self) -> bool:
        self.steps += 1
        if not self.steps & 255:  # Python objects (lists, dicts ...) grow outside any tensor op: look now and then
            self.budget.check_memory(0)
        if self.steps > MAX_STEPS:
            raise self._fail(SandboxError.of("limit", "sb_steps", limit=MAX_STEPS))
        return True

    def while_(self) -> bool:
        """A while loop's tick: its iterations left are unknown (see LoopWatch)."""
        self.loops.tick_of_while()
        return self.tick()

    def _fail(self, e: SandboxError) -> SandboxError:
        if self.failed is None:
            self.failed = e  # sticky: a `with` that swallows it does not make it go away
        return e

    # --- attributes -------------------------------------------------------------------------------------------
    def _policy(self, t: type) -> dict[str, frozenset[str] | None]:
        p = self._policy_cache.get(t)
        if p is None:
            p = {}
            for k in reversed(t.__mro__):
                p.update(table.ATTRIBUTES.get(k, {}))
            self._policy_cache[t] = p
        return p

    def _is_user_class(self, t: type) -> bool:
        return t in self.classes or any(k in self.classes for k in t.__mro__)

    def getattr(self, obj: Any, name: str) -> Any:
        t = type(obj)
        f = self._attr_cache.get((t, name))
        if f is None:
            f = self._decide_attr(obj, t, name)
            self._attr_cache[(t, name)] = f
        return f(obj, name)

    def _decide_attr(self, obj: Any, t: type, name: str) -> Callable[[Any, str], Any]:
        if name.startswith("_") and name not in table.ATTRIBUTE_DUNDERS:
            raise _refused("sb_private_attr", name=name)
        if t is Namespace:
            return self._namespace_attr
        if t is super:
            return self._super_attr
        if isinstance(obj, type):
            return self._class_attr
        if name == "__class__":
            return lambda o, n: type(o)
        if name == "__name__" and (isinstance(obj, (types.FunctionType, types.MethodType)) and
                                   _is_program_function(obj)):  # fmt: skip
            return lambda o, n: o.__name__
        if name.startswith("__"):
            raise _refused("sb_attr_refused", name=name, owner=_type_name(obj))
        if isinstance(obj, torch.autograd.graph.Node):  # grad_fn classes are registered with Node, not derived
            node_policy = table.ATTRIBUTES[torch.autograd.graph.Node]
            if name in node_policy:
                kw = node_policy[name]
                return builtins.getattr if kw is None else (lambda o, n: Method(o, n, kw))
            if not isinstance(obj, torch.autograd.function.FunctionCtx):
                raise _unknown(_type_name(obj), name, t, node_policy, "sb_attr_refused", name=name,
                               owner=_type_name(obj))  # fmt: skip
        if self._is_user_class(t) or isinstance(obj, nn.Module) or isinstance(obj, torch.autograd.function.FunctionCtx):
            return self._instance_attr
        if t.__module__ == "torch.return_types":
            if name in table.RETURN_TYPE_FIELDS:
                return builtins.getattr
            fields = [f for f in table.RETURN_TYPE_FIELDS if suggest.really_has(t, f)]
            raise _unknown(_type_name(obj), name, t, fields, "sb_attr_refused", name=name, owner=_type_name(obj))
        return self._policy_attr(t, name, obj)

    def _policy_attr(self, t: type, name: str, obj: Any) -> Callable[[Any, str], Any]:
        policy = self._policy(t)
        if name not in policy:
            owner = "tensor" if issubclass(t, Tensor) else _type_name(obj)
            raise _unknown(owner, name, t, policy, "sb_attr_refused", name=name, owner=_type_name(obj))
        kw = policy[name]
        if kw is None:
            if name == "grad" and issubclass(t, Tensor):
                return _tensor_grad
            return builtins.getattr
        return lambda o, n: Method(o, n, kw)

    def _namespace_attr(self, ns: Namespace, name: str) -> Any:
        if ns is table.TORCH and name in self.torch_own:
            return self.torch_own[name]
        if name in ns.members:
            return ns.members[name]
        own = self.torch_own if ns is table.TORCH else {}
        raise _unknown(ns.name, name, _real_module(ns), [*ns.members, *own], "sb_ns_attr_refused", ns=ns.name,
                       name=name)  # fmt: skip

    def _class_attr(self, cls: type, name: str) -> Any:
        if name == "__name__":
            return cls.__name__
        if self._is_user_class(cls):
            for k in cls.__mro__:
                if k in self.classes and name in k.__dict__:
                    return builtins.getattr(cls, name)
            if name == "apply" and issubclass(cls, torch.autograd.Function):
                return Method(cls, "apply", ANY_KWARGS)
            if name == "__init__":
                return Method(cls, "__init__", ANY_KWARGS)
        if name == "__init__" and cls in table.SUBCLASSABLE or (name == "__init__" and issubclass(cls, nn.Module)):
            return Method(cls, "__init__", ANY_KWARGS)
        if cls is Tensor or cls is nn.Parameter:
            if name in table.TENSOR_METHODS:
                return _Unbound(name)
        allowed = table.TENSOR_METHODS if cls is Tensor or cls is nn.Parameter else ()
        raise _unknown(_type_name(cls), name, cls, allowed, "sb_class_attr_refused", name=name, owner=_type_name(cls))

    def _super_attr(self, sup: super, name: str) -> Any:
        start = sup.__thisclass__  # type: ignore[attr-defined]
        owner = sup.__self__  # type: ignore[attr-defined]
        mro = type(owner).__mro__ if not isinstance(owner, type) else owner.__mro__
        after = mro[mro.index(start) + 1 :]
        for k in after:
            if name in k.__dict__:
                if k in self.classes:
                    return builtins.getattr(sup, name)
                if name == "__init__" or name in self._policy(k):
                    return Method(sup, name, ANY_KWARGS if name == "__init__" else self._policy(k)[name] or ANY_KWARGS)
                break
        raise _refused("sb_super_attr_refused", name=name)

    def _instance_attr(self, obj: Any, name: str) -> Any:
        """Attributes of the program's own objects, nn modules and autograd ctx: what the program stored on them,
        what its classes define, then the allowlist of the torch base class."""
        d = object.__getattribute__(obj, "__dict__") if hasattr(type(obj), "__dict__") else {}
        if name in d and not name.startswith("_"):
            return d[name]
        cls = type(obj)
        for k in cls.__mro__:
            if k in self.classes and name in k.__dict__:
                return builtins.getattr(obj, name)
        if isinstance(obj, nn.Module):
            for store in ("_parameters", "_buffers", "_modules"):
                inner = d.get(store)
                if inner is not None and name in inner:
                    return inner[name]
        policy = self._policy(cls)
        if name in policy:
            kw = policy[name]
            return builtins.getattr(obj, name) if kw is None else Method(obj, name, kw)
        if isinstance(obj, BaseException) and name == "args":
            return obj.args
        if hasattr(cls, name):  # a torch base class's attribute outside the allowlist
            raise _refused("sb_attr_refused", name=name, owner=cls.__name__)
        raise AttributeError(f"'{cls.__name__}' object has no attribute '{name}'")

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        if name.startswith("_"):
            raise _refused("sb_private_attr", name=name)
        t = type(obj)
        if isinstance(obj, Tensor):
            if name not in table.TENSOR_SETTABLE:
                raise SandboxError.of("refused", "sb_set_tensor_attr", name=name)
            if name in ("grad", "data") and not (value is None or isinstance(value, Tensor)):
                raise SandboxError.of(
                    "runtime", "sb_set_grad_tensor" if name == "grad" else "sb_set_tensor_only", name=name
                )
            builtins.setattr(obj, name, value)
            return
        if isinstance(obj, type):
            if obj in self.classes:
                builtins.setattr(obj, name, value)
                return
            raise SandboxError.of("refused", "sb_set_attr_on", name=name, owner=_type_name(obj))
        if (self._is_user_class(t) or isinstance(obj, (nn.Module, torch.autograd.function.FunctionCtx))
                or t.__module__ == "builtins" and isinstance(obj, BaseException)):  # fmt: skip
            if isinstance(obj, nn.Module) and not self._is_user_class(t) and name in self._policy(t):
                raise SandboxError.of("refused", "sb_replace_attr", name=name, owner=t.__name__)
            builtins.setattr(obj, name, value)
            return
        if isinstance(obj, torch.optim.Optimizer) and name == "param_groups":
            raise SandboxError.of("refused", "sb_param_groups")
        raise SandboxError.of("refused", "sb_set_attr_on_a", name=name, owner=_type_name(obj))

    def delattr(self, obj: Any, name: str) -> None:
        own = self._is_user_class(type(obj)) or isinstance(obj, type) and obj in self.classes
        if name.startswith("_") or not own:
            raise SandboxError.of("refused", "sb_delete_attr", name=name, owner=_type_name(obj))
        builtins.delattr(obj, name)

    # --- calls ------------------------------------------------------------------------------------------------
    def callattr(self, obj: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
        t = type(obj)
        if t is Tensor or t is nn.Parameter:
            return self._tensor_method(obj, name, args, kwargs)
        f = self.getattr(obj, name)
        if type(f) is Method:
            return self._call_method(f.obj, f.name, f.kwargs, args, kwargs)
        return self.call(f, *args, **kwargs)

    def call(self, f: Any, /, *args: Any, **kwargs: Any) -> Any:
        t = type(f)
        if t is types.FunctionType or t is types.MethodType:
            if _is_program_function(f):
                return f(*args, **kwargs)
        elif t is Method:
            return self._call_method(f.obj, f.name, f.kwargs, args, kwargs)
        elif t is _Unbound:
            return f(*args, **kwargs)
        try:
            spec = SPECS.get(f)
        except TypeError:  # unhashable
            spec = None
        if spec is not None:
            return self._call_spec(spec, f, args, kwargs)
        if id(f) in self.own_builtins:
            return f(*args, **kwargs)
        if isinstance(f, type):
            if self._is_user_class(f):
                return f(*args, **kwargs)
            raise _refused("sb_not_callable", what=_type_name(f))
        if isinstance(f, nn.Module):
            return self._call_module(f, args, kwargs)
        if self._is_user_class(t) or isinstance(f, GradMode.ALLOWED):
            return f(*args, **kwargs)
        if t is types.BuiltinFunctionType and getattr(f, "__self__", None) is not None and \
                type(f.__self__) in (list, dict, set, str):  # a bound method of a plain container  # fmt: skip
            return self._call_method(f.__self__, f.__name__, frozenset(), args, kwargs)
        raise _refused("sb_not_callable", what=_type_name(f))

    def _check_kwargs(self, name: str, allowed: frozenset[str], kwargs: dict[str, Any]) -> None:
        if allowed is ANY_KWARGS:
            return
        for k in kwargs:
            if k not in allowed:
                close = suggest.close(k, allowed, cutoff=suggest.KWARG_CUTOFF)
                if close:
                    raise SandboxError.of("runtime", "sb_unknown_kwarg_hint", func=name, name=k,
                                          hint=suggest.hint(close))  # fmt: skip
                raise _refused("sb_kwarg_refused", func=name, name=k)

    def _call_spec(self, spec: Spec, f: Any, args: tuple, kwargs: dict) -> Any:
        if kwargs:
            self._check_kwargs(spec.name, spec.kwargs, kwargs)
        kind = spec.kind
        if kind == "torch":
            _check_devices(args, kwargs)
            if spec.name == "torch.tensor" or spec.name == "torch.as_tensor":
                if args:
                    check_tensor_data(args[0])
                planned = False
            else:
                planned = self.budget.plan(f, f, args, kwargs, spec.cubic)
            out = f(*args, **kwargs)
            if not planned:
                self.budget.after(spec.name, out)
            self._seen(spec.name, args, out)
            return out
        if kind == "plain":
            return self._call_plain(spec, f, args, kwargs)
        if kind == "layer":
            return self._construct_layer(spec, f, args, kwargs)
        if kind == "factory":
            _check_devices(args, kwargs)
            for a in args:
                check_tensor_data(a)
            if spec.name != "torch.autograd.Variable":
                n = math.prod(a for a in args if isinstance(a, int)) if all(isinstance(a, int) for a in args) else 0
                if n > MAX_TENSOR_ELEMENTS:
                    raise SandboxError.of(
                        "limit",
                        "sb_call_elements",
                        call=f"{spec.name}({', '.join(map(str, args))})",
                        n=n,
                        limit=MAX_TENSOR_ELEMENTS,
                    )
            out = f(*args, **kwargs)
            self.budget.after(spec.name, out)
            return out
        if kind == "numpy":
            if f in table.NUMPY_CREATE:
                _check_np_create(spec.name, args, kwargs)
            elif spec.name in ("np.outer", "np.dot", "np.matmul", "np.linalg.inv"):
                self._np_matmul_check(spec.name, args)
            for a in args:
                if isinstance(a, (list, tuple)):
                    check_tensor_data(a)
            out = f(*args, **kwargs)
            _check_np_result(spec.name, out)
            return out
        if kind == "backward":
            if spec.name == "torch.autograd.grad":
                roots = _as_list(args[0] if args else kwargs.get("outputs"))
                grads = _grad_list(args[2] if len(args) > 2 else kwargs.get("grad_outputs"), len(roots))
                return self.on_backward("grad", roots, grads, lambda: f(*args, **kwargs))
            roots = _as_list(args[0] if args else kwargs.get("tensors"))
            grads = _grad_list(args[1] if len(args) > 1 else kwargs.get("grad_tensors"), len(roots))
            return self.on_backward("backward", roots, grads, lambda: f(*args, **kwargs))
        raise AssertionError(kind)

    def _np_matmul_check(self, name: str, args: tuple) -> None:
        shapes = [np.shape(a) for a in args[:2]]
        if name == "np.outer" and len(shapes) == 2:
            n = math.prod(shapes[0]) * math.prod(shapes[1])
        elif len(shapes) == 2 and all(len(s) >= 1 for s in shapes):
            a, b = shapes
            n = math.prod(a[:-1]) * (b[-1] if len(b) > 1 else 1)
            self.budget.add_flops(2 * math.prod(a) * (b[-1] if len(b) > 1 else 1))
        else:
            return
        if n > MAX_TENSOR_ELEMENTS:
            raise SandboxError.of("limit", "sb_array_elements", op=name, n=n, limit=MAX_TENSOR_ELEMENTS)

    def _call_plain(self, spec: Spec, f: Any, args: tuple, kwargs: dict) -> Any:
        name = spec.name
        if name == "torch.utils.data.DataLoader":
            if kwargs.get("num_workers", 0) not in (0, None):
                raise SandboxError.of("refused", "sb_num_workers")
            if "collate_fn" in kwargs and kwargs["collate_fn"] is not None:
                kwargs["collate_fn"] = self._guarded_callable(kwargs["collate_fn"])
        elif name.startswith("optim.") and args:
            args = (_params_list(args[0]), *args[1:])
        elif name == "lr_scheduler.LambdaLR":
            if "lr_lambda" in kwargs:
                kwargs["lr_lambda"] = self._guarded_callable(kwargs["lr_lambda"])
            elif len(args) > 1:
                args = (args[0], self._guarded_callable(args[1]), *args[2:])
        elif name.startswith("torch.autograd.functional.") or name.startswith("torch.autograd.grad"):
            if args:
                args = (self._guarded_callable(args[0]), *args[1:])
        elif name == "dict" or name == "set" or name == "frozenset":
            _check_items(*args)
        elif name == "torch.device":
            _check_devices(args, kwargs)
        return f(*args, **kwargs)

    def _construct_layer(self, spec: Spec, cls: type, args: tuple, kwargs: dict) -> Any:
        _check_devices(args, kwargs)
        if spec.name in ("nn.Sequential", "nn.ModuleList"):
            _check_layers(args)
        elif spec.name == "nn.Parameter":
            return cls(*args, **kwargs)
        n = 1
        for a in args:
            if isinstance(a, int) and not isinstance(a, bool):
                n *= max(a, 1)
            elif isinstance(a, (tuple, list)) and all(isinstance(v, int) for v in a):
                n *= max(math.prod(a), 1)
        if n > MAX_TENSOR_ELEMENTS:
            raise SandboxError.of("limit", "sb_weights", op=spec.name, n=n, limit=MAX_TENSOR_ELEMENTS)
        return cls(*args, **kwargs)

    def _call_module(self, m: nn.Module, args: tuple, kwargs: dict) -> Any:
        return m(*args, **kwargs)  # built-in layers are planned and recorded by the run's global module hooks

    def _call_method(self, obj: Any, name: str, allowed: frozenset[str], args: tuple, kwargs: dict) -> Any:
        if kwargs:
            self._check_kwargs(name, allowed, kwargs)
        t = type(obj)
        if isinstance(obj, Tensor):
            return self._tensor_method(obj, name, args, kwargs)
        if t is list:
            if name == "append" and len(obj) >= MAX_LIST_LEN or name == "insert" and len(obj) >= MAX_LIST_LEN:
                raise SandboxError.of("limit", "sb_list_long", limit=MAX_LIST_LEN)
            if name == "extend" and args and len(obj) + _length(args[0]) > MAX_LIST_LEN:
                raise SandboxError.of("limit", "sb_list_long", limit=MAX_LIST_LEN)
            if name == "index":  # list.index puts repr(value) in its error: that text could be enormous
                if len(args) > 1:
                    start = operator.index(args[1])
                    start = max(0, start + len(obj)) if start < 0 else start
                    stop = args[2] if len(args) > 2 else None
                    return start + _index_of(obj[start:stop], args[0])
                return _index_of(obj, *args)
        elif t is str:
            return self._str_method(obj, name, args, kwargs)
        elif isinstance(obj, nn.Module):
            if name in ("parameters", "named_parameters", "buffers", "named_buffers", "children", "named_children",
                        "modules", "named_modules"):  # fmt: skip
                return builtins.getattr(obj, name)(*args, **kwargs)
            if name == "apply" and args:
                args = (self._guarded_callable(args[0]),)
            if name in ("to", "cuda", "type"):
                _check_devices(args, kwargs)
            if name in ("append", "extend", "insert"):
                _check_layers([obj, *args])
        elif isinstance(obj, torch.optim.Optimizer) and name == "step" and args:
            args = (self._guarded_callable(args[0]),)
        elif isinstance(obj, np.ndarray) and name in ("reshape", "repeat"):
            if name == "repeat" and args and isinstance(args[0], int) and obj.size * args[0] > MAX_TENSOR_ELEMENTS:
                raise SandboxError.of("limit", "sb_repeat_array", n=args[0], limit=MAX_TENSOR_ELEMENTS)
        elif isinstance(obj, np.ndarray) and name == "tolist" and obj.size > MAX_TOLIST_ELEMENTS:
            raise SandboxError.of("limit", "sb_tolist", n=obj.size, limit=MAX_TOLIST_ELEMENTS)
        return builtins.getattr(obj, name)(*args, **kwargs)

    def _str_method(self, s: str, name: str, args: tuple, kwargs: dict) -> Any:
        if name == "format":
            out = _FORMATTER.vformat(s, args, kwargs)
        elif name in ("ljust", "rjust", "center", "zfill") and args and isinstance(args[0], int) and \
                args[0] > MAX_TEXT_CHARS:  # fmt: skip
            raise SandboxError.of("limit", "sb_str_pad", name=name, n=args[0], limit=MAX_TEXT_CHARS)
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            grow = (s.count(args[0]) if args[0] else len(s) + 1) * max(0, len(args[1]) - len(args[0]))
            if len(s) + grow > MAX_TEXT_CHARS:
                raise SandboxError.of("limit", "sb_text_long", limit=MAX_TEXT_CHARS)
            out = s.replace(*args)
        elif name == "join" and args:
            items = list(args[0]) if not isinstance(args[0], (list, tuple)) else args[0]
            _check_items(items)
            total = sum(len(x) if isinstance(x, str) else 0 for x in items) + len(s) * max(0, len(items) - 1)
            if total > MAX_TEXT_CHARS:
                raise SandboxError.of("limit", "sb_text_long", limit=MAX_TEXT_CHARS)
            out = s.join(items)
        else:
            out = builtins.getattr(s, name)(*args, **kwargs)
        if isinstance(out, str) and len(out) > MAX_TEXT_CHARS:
            raise SandboxError.of("limit", "sb_text_long", limit=MAX_TEXT_CHARS)
        return out

    def _tensor_method(self, x: Tensor, name: str, args: tuple, kwargs: dict) -> Any:
        kw = table.TENSOR_METHODS.get(name)
        if kw is None:
            if name in table.TENSOR_PROPERTIES:
                return self.call(self.getattr(x, name), *args, **kwargs)
            raise _unknown(
                "tensor",
                name,
                Tensor,
                [*table.TENSOR_METHODS, *table.TENSOR_PROPERTIES],
                "sb_tensor_attr_refused",
                name=name,
            )
        if kwargs:
            self._check_kwargs(name, kw, kwargs)
        if args or kwargs:
            _check_devices(args, kwargs)
        if name == "backward":
            grads = [args[0] if args else kwargs.get("gradient")]
            return self.on_backward("backward", [x], grads, lambda: x.backward(*args, **kwargs))
        if name == "register_hook":
            if not args:
                return x.register_hook(*args)
            return x.register_hook(self._guarded_callable(args[0]))
        if name == "tolist" and x.numel() > MAX_TOLIST_ELEMENTS:
            raise SandboxError.of("limit", "sb_tolist", n=x.numel(), limit=MAX_TOLIST_ELEMENTS)
        if name == "cuda" and not torch.cuda.is_available():
            raise SandboxError.of("runtime", "sb_no_gpu_cuda")
        if name == "new_tensor" and args:
            check_tensor_data(args[0])
        if name == "to" and len(args) == 1 and not kwargs and _already(x, args[0]):
            self.budget.charge(0)  # `X.to(device)` where X is: the tensor itself comes back, nothing is made
            out = x.to(args[0])
            if self.on_value is not None:
                self._seen(name, args, out, x)
            return out
        planned = self.budget.plan(name, _method_caller(name), (x, *args), kwargs, name in table._CUBIC)
        out = getattr(x, name)(*args, **kwargs)
        if not planned:
            self.budget.after(name, out)
        if self.on_value is not None:
            self._seen(name, args, out, x)
        return out

    def _guarded_callable(self, f: Any) -> Any:
        """A callable handed to library code (hooks, keys, closures): called back through the guards."""
        if _is_program_function(f) or self._is_user_class(type(f)):
            return f
        if not callable(f):
            return f

        def guarded(*args: Any, **kwargs: Any) -> Any:
            return self.call(f, *args, **kwargs)

        return guarded

    # --- what each tensor op produced ----------------------------------------------------------------------
    def _seen(self, name: str, args: tuple, out: Any, obj: Any = None) -> None:
        if self.on_value is None:  # values only: no graph is drawn, nothing to record
            return
        self.on_value(out)
        if not torch.is_grad_enabled() or name in ("detach", "detach_"):
            self._note_cut(name, (obj, *args) if obj is not None else args, out)

    def _note_cut(self, name: str, args: tuple, out: Any) -> None:
        """A float result computed from a tensor that requires grad, yet carrying no history: the graph was cut."""
        reason = "detach" if name in ("detach", "detach_") else "no_grad"
        source = next((a for a in args if isinstance(a, Tensor) and a.requires_grad), None)
        if source is None:
            return
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, Tensor) and not t.requires_grad and t.is_floating_point() and t is not source:
                if len(self.cuts) > 1_000:
                    self.cuts.pop(next(iter(self.cuts)))
                self.cuts[id(t)] = (t, reason, source)

    # --- items ------------------------------------------------------------------------------------------------
    def getitem(self, obj: Any, index: Any) -> Any:
        t = type(obj)
        if t is Tensor or t is nn.Parameter or isinstance(obj, Tensor):
            if type(index) is list or type(index) is tuple:
                check_tensor_data(index)
            planned = self.budget.plan("index", operator.getitem, (obj, index), {})
            out = obj[index]
            if not planned:
                self.budget.after("index", out)
            if self.on_value is not None:
                self.on_value(out)
            return out
        if t is Namespace:
            raise SandboxError.of("refused", "sb_cannot_index", what=_type_name(obj))
        if isinstance(obj, np.ndarray) and isinstance(index, (list, tuple, np.ndarray)):
            out = obj[index]
            _check_np_result("indexing", out)
            return out
        return obj[index]

    def setitem(self, obj: Any, index: Any, value: Any) -> None:
        if isinstance(obj, Tensor):
            check_tensor_data(value)
            check_tensor_data(index)
            self.budget.count()
            obj[index] = value
            return
        if type(obj) is list:
            if isinstance(index, slice):
                removed = len(range(*index.indices(len(obj))))
                if len(obj) - removed + _length(value) > MAX_LIST_LEN:
                    raise SandboxError.of("limit", "sb_list_long", limit=MAX_LIST_LEN)
            obj[index] = value
            return
        if type(obj) is dict and len(obj) >= MAX_LIST_LEN and index not in obj:
            raise SandboxError.of("limit", "sb_dict_long", limit=MAX_LIST_LEN)
        if isinstance(obj, (Namespace, type)) and not (isinstance(obj, type) and obj in self.classes):
            raise SandboxError.of("refused", "sb_cannot_setitem", what=_type_name(obj))
        obj[index] = value

    def delitem(self, obj: Any, index: Any) -> None:
        if isinstance(obj, (Namespace, type)):
            raise SandboxError.of("refused", "sb_cannot_delitem", what=_type_name(obj))
        del obj[index]

    def iter(self, x: Any) -> Any:
        t = type(x)
        if t is Tensor or t is nn.Parameter:
            if x.dim() == 0:
                raise SandboxError.of("runtime", "sb_iter_0d")
            check_pieces("iterating a tensor", x.shape[0])
        elif t is Namespace:
            raise SandboxError.of("refused", "sb_cannot_loop", what=_type_name(x))
        return x

    def loop(self, x: Any) -> Any:
        """A for loop's (or comprehension's) iterable: checked as iter() checks it, and its iterator (the one
        the loop would make itself, at the same moment) watched for what is left of it."""
        it = builtins.iter(self.iter(x))
        self.loops.started(it)
        return it

    # --- operators -------------------------------------------------------------------------------------------
    def binop(self, code: int, a: Any, b: Any) -> Any:
        ta, tb = type(a), type(b)
        if ta is Tensor or tb is Tensor or isinstance(a, Tensor) or isinstance(b, Tensor):
            return self._tensor_binop(_OPS[code], code, a, b)
        if ta in _NUMBERS and tb in _NUMBERS:
            if code in (MUL, POW, LSHIFT) and ta is int and tb is int:
                check_python_op(code, a, b)
            out = _OPS[code](a, b)
            if type(out) is int and out.bit_length() > MAX_INT_BITS:
                raise SandboxError.of("limit", "sb_int_bits", limit=MAX_INT_BITS)
            return out
        if ta is np.ndarray or tb is np.ndarray:
            self._np_binop(code, a, b)
            out = _OPS[code](a, b)
            return out
        check_python_op(code, a, b)
        return _OPS[code](a, b)

    def inplace(self, code: int, a: Any, b: Any) -> Any:
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            return self._tensor_binop(_IOPS[code], code, a, b)
        if type(a) in _NUMBERS and type(b) in _NUMBERS:
            return self.binop(code, a, b)
        if type(a) is np.ndarray or type(b) is np.ndarray:
            self._np_binop(code, a, b)
            return _IOPS[code](a, b)
        check_python_op(code, a, b)
        return _IOPS[code](a, b)

    def _np_binop(self, code: int, a: Any, b: Any) -> None:
        if code == MATMUL:
            self._np_matmul_check("np.matmul", (a, b))
            return
        n = _np_binop_size(a, b)
        if n > MAX_TENSOR_ELEMENTS:
            raise SandboxError.of(
                "limit", "sb_array_elements", op=f"'{_OP_NAMES[code]}'", n=n, limit=MAX_TENSOR_ELEMENTS
            )
        self.budget.add_flops(n * ELEMENTWISE_COST)

    def _tensor_binop(self, op: Callable[[Any, Any], Any], code: int, a: Any, b: Any) -> Any:
        budget = self.budget
        x = _sized_operand(a, b) if code != MATMUL else None
        if x is not None:  # Budget.charge, inline: this is the hottest path of a training loop
            flops = x.numel() * ELEMENTWISE_COST
            budget.ops += 1
            budget.flops += flops
            if budget.ops > MAX_OPS or budget.flops > MAX_FLOPS:
                budget.ops -= 1
                budget.flops -= flops
                budget.charge(flops)  # raises the limit's error
            out = op(a, b)
        else:
            if isinstance(a, (str, list, tuple)) or isinstance(b, (str, list, tuple)):
                check_python_op(code, a, b)
            if isinstance(a, (list, tuple)):
                check_tensor_data(a)
            if isinstance(b, (list, tuple)):
                check_tensor_data(b)
            planned = budget.plan(code, op, (a, b), {})
            out = op(a, b)
            if not planned:
                budget.after(_OP_NAMES[code], out)
        if self.on_value is not None:
            self._seen(_OP_NAMES[code], (a, b), out)
        return out

    def compare(self, code: int, a: Any, b: Any) -> Any:
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            if code < 6:
                x = _sized_operand(a, b)
                if x is not None:  # the result has an operand's size: counted as the operators are, no plan
                    self.budget.charge(x.numel() * ELEMENTWISE_COST)
                    return _CMPS[code](a, b)
                planned = self.budget.plan(("cmp", code), _CMPS[code], (a, b), {})
                out = _CMPS[code](a, b)
                if not planned:
                    self.budget.after("comparison", out)
                return out
        elif type(a) is np.ndarray or type(b) is np.ndarray:
            self._np_binop(0, a, b)
        return _CMPS[code](a, b)

    def chain(self, left: Any, links: list[tuple[int, Callable[[], Any]]]) -> Any:
        result: Any = True
        for code, lazy in links:
            right = lazy()
            if code == -1:
                result = left is right
            elif code == -2:
                result = left is not right
            else:
                result = self.compare(code, left, right)
            if not result:
                return result
            left = right
        return result

    def unary(self, code: int, a: Any) -> Any:
        if isinstance(a, Tensor):
            self.budget.charge(a.numel() * ELEMENTWISE_COST)
            out = _UNARY[code](a)
            if self.on_value is not None:
                self.on_value(out)
            return out
        return _UNARY[code](a)

    # --- imports, classes, exceptions, with, format, decorators -------------------------------------------------
    def import_(self, name: str, full: str | None = None) -> Any:
        if (full or name) not in table.IMPORTABLE:
            raise _refused("sb_import_unavailable", name=full or name)
        return table.IMPORTABLE[name]

    def importfrom(self, module: str, name: str) -> Any:
        ns = table.IMPORTABLE.get(module)
        if ns is None:
            raise _refused("sb_import_from_unavailable", module=module)
        full = f"{module}.{name}"
        if full in table.IMPORTABLE:
            return table.IMPORTABLE[full]
        if name.startswith("_"):
            raise _refused("sb_import_name_unavailable", module=module, name=name)
        return self._namespace_attr(ns, name)

    def bases(self, *bases: Any) -> tuple[type, ...]:
        for b in bases:
            ok = isinstance(b, type) and (
                b in self.classes
                or b in table.SUBCLASSABLE
                or any(issubclass(b, s) for s in table.SUBCLASSABLE if s is not object)
            )
            if not ok or (isinstance(b, type) and issubclass(b, (Tensor, type))):
                raise SandboxError.of(
                    "refused", "sb_base_class", what=_type_name(b) if not isinstance(b, type) else b.__name__
                )
        return bases

    def class_(self, cls: type) -> None:
        self.classes.add(cls)
        self._attr_cache.clear()
        self._policy_cache.clear()

    def except_(self, spec: Any) -> Any:
        if spec is None or spec is BaseException:
            return Exception
        items = spec if isinstance(spec, tuple) else (spec,)
        out = []
        for e in items:
            if e is BaseException:
                e = Exception
            if not (isinstance(e, type) and issubclass(e, Exception)):
                raise SandboxError.of("refused", "sb_except_class", what=_type_name(e))
            out.append(e)
        return tuple(out) if isinstance(spec, tuple) else out[0]

    def caught(self, e: BaseException) -> None:
        if isinstance(e, RecursionError):
            raise self._fail(SandboxError.of("limit", "sb_recursion"))
        if isinstance(e, MemoryError):
            raise self._fail(SandboxError.of("limit", "sb_out_of_memory"))
        if isinstance(e, RuntimeError) and "can't allocate memory" in str(e):
            raise self._fail(SandboxError.of("limit", "sb_out_of_memory_detail", what=str(e)[:200]))

    def raise_(self, e: Any) -> Any:
        if isinstance(e, type) and issubclass(e, Exception) or isinstance(e, Exception):
            return e
        raise SandboxError.of("refused", "sb_raise_class", what=_type_name(e))

    def with_(self, m: Any) -> Any:
        if isinstance(m, GradMode.ALLOWED) or self._is_user_class(type(m)):
            return m
        if isinstance(m, type) and issubclass(m, GradMode.ALLOWED):
            raise SandboxError.of("refused", "sb_with_parens", name=m.__name__)
        raise SandboxError.of("refused", "sb_with_what", what=_type_name(m))

    def format_(self, value: Any, conversion: str | None, spec: str) -> str:
        return format_value(value, conversion, spec)

    def decorator(self, d: Any) -> Any:
        if d in (staticmethod, classmethod, property) or _is_program_function(d) or self._is_user_class(type(d)):
            return d
        if isinstance(d, GradMode.ALLOWED) or d in (torch.no_grad, torch.enable_grad, torch.inference_mode):
            return d
        if type(d) is Method and isinstance(d.obj, property):
            return lambda f: self._call_method(d.obj, d.name, frozenset(), (f,), {})
        raise SandboxError.of("refused", "sb_decorator", what=_type_name(d))

    # --- built-ins that need a bound -------------------------------------------------------------------------
    def _print(self, *args: Any, sep: str | None = " ", end: str | None = "\n", flush: bool = False,
               file: Any = None) -> None:  # fmt: skip
        if file is not None:
            raise SandboxError.of("refused", "sb_print_file")
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        if not isinstance(sep, str) or not isinstance(end, str):
            raise SandboxError.of("runtime", "sb_print_sep")
        if self._stdout_chars >= MAX_PRINT_CHARS:
            return  # already cut, with its note
        budget = MAX_PRINT_CHARS - self._stdout_chars + 1  # one over: enough to know it must be cut
        pieces = []
        for a in args:
            pieces.append(bounded_text(a, max(0, budget), complete=False))
            budget -= len(pieces[-1]) + len(sep)
            if budget < 0:
                break
        text = sep.join(pieces) + end
        if self._stdout_chars + len(text) > MAX_PRINT_CHARS:
            text = text[: MAX_PRINT_CHARS - self._stdout_chars] + "\n[output truncated]\n"
            self._stdout_chars = MAX_PRINT_CHARS
        else:
            self._stdout_chars += len(text)
        self.stdout.append(text)

    def _range(self, *args: Any) -> range:
        if not all(isinstance(a, int) or isinstance(a, Tensor) and a.numel() == 1 for a in args):
            raise SandboxError.of("runtime", "sb_range_ints")
        r = range(*[operator.index(a) for a in args])
        if len(r) > MAX_RANGE:
            raise SandboxError.of("limit", "sb_range_long", n=len(r), limit=MAX_RANGE)
        return r

    def _str(self, *args: Any, **kwargs: Any) -> str:
        if len(args) > 1 or kwargs:
            raise SandboxError.of("refused", "sb_str_one")
        return bounded_text(args[0]) if args else ""

    def _repr(self, value: Any) -> str:
        return bounded_text(value, as_repr=True)

    def _format(self, value: Any, spec: str = "") -> str:
        return format_value(value, None, spec)

    def _list(self, *args: Any) -> list[Any]:
        if args:
            _check_items(args[0])
        return list(*args)

    def _tuple(self, *args: Any) -> tuple[Any, ...]:
        if args:
            _check_items(args[0])
        return tuple(*args)

    def _sorted(self, iterable: Any, key: Any = None, reverse: bool = False) -> list[Any]:
        _check_items(iterable)
        return sorted(iterable, key=self._guarded_callable(key) if key is not None else None, reverse=reverse)

    def _reversed(self, seq: Any) -> Any:
        _check_items(seq)
        return reversed(seq)

    def _minmax(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if len(args) == 1:
                _check_items(args[0])
            if "key" in kwargs and kwargs["key"] is not None:
                kwargs["key"] = self._guarded_callable(kwargs["key"])
            return fn(*args, **kwargs)

        call.__name__ = fn.__name__
        return call

    def _sum(self, iterable: Any, start: Any = 0) -> Any:
        if isinstance(start, (str, list, tuple)):  # sum(lists, []) concatenates without any bound
            raise SandboxError.of("refused", "sb_sum_start")
        _check_items(iterable)
        total = start
        for item in iterable:
            total = self.binop(ADD, total, item)
        return total

    def _map(self, f: Any, *iterables: Any) -> Any:
        return map(self._guarded_callable(f), *iterables)

    def _filter(self, f: Any, iterable: Any) -> Any:
        return filter(self._guarded_callable(f) if f is not None else None, iterable)

    def _iter_builtin(self, obj: Any, *sentinel: Any) -> Any:
        if sentinel:
            f = obj

            def ticking() -> Any:
                self.tick()
                return self.call(f)

            return iter(ticking, *sentinel)
        return iter(self.iter(obj))

    def _getattr_builtin(self, obj: Any, name: str, *default: Any) -> Any:
        if not isinstance(name, str):
            raise SandboxError.of("runtime", "sb_getattr_name")
        try:
            return self.getattr(obj, name)
        except AttributeError:
            if default:
                return default[0]
            raise

    def _setattr_builtin(self, obj: Any, name: str, value: Any) -> None:
        if not isinstance(name, str):
            raise SandboxError.of("runtime", "sb_setattr_name")
        self.setattr(obj, name, value)

    def _hasattr(self, obj: Any, name: str) -> bool:
        try:
            self.getattr(obj, name)
            return True
        except (AttributeError, SandboxError):
            return False

    def _pow(self, base: Any, exp: Any, mod: Any = None) -> Any:
        if mod is None:
            return self.binop(POW, base, exp)
        return pow(base, exp, mod)

    # --- torch.save / torch.load: a per-run store, never the disk ------------------------------------------------
    def save(self, obj: Any, f: Any, **kwargs: Any) -> None:
        if not isinstance(f, str):
            raise SandboxError.of("refused", "sb_save_name")
        buf = io.BytesIO()
        torch.save(obj, buf)
        data = buf.getvalue()
        self.store_bytes += len(data) - len(self.store.get(f, b""))
        if self.store_bytes > MAX_UPLOAD_BYTES * 4:
            raise SandboxError.of("limit", "sb_save_limit", mib=MAX_UPLOAD_BYTES * 4 // 2**20)
        self.store[f] = data

    def load(self, f: Any, map_location: Any = None, weights_only: bool = True, **kwargs: Any) -> Any:
        if not isinstance(f, str) or f not in self.store:
            raise SandboxError.of("runtime", "sb_load_missing", name=repr(f))
        if weights_only is False:
            raise SandboxError.of("refused", "sb_load_pickle")
        _check_devices((map_location,), {})
        return torch.load(io.BytesIO(self.store[f]), map_location=map_location, weights_only=True)


class _Unbound:
    """torch.Tensor.add and friends: called with the tensor first, through the tensor-method guard."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(obj, Tensor):
            raise SandboxError.of("runtime", "sb_unbound_method", name=self.name)
        return _CURRENT[0].callattr(obj, self.name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<method '{self.name}' of 'torch._C.TensorBase' objects>"


@functools.cache  # one per method name: the plan's meta run calls it
def _method_caller(name: str) -> Callable[..., Any]:
    def run(obj: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(obj, name)(*args, **kwargs)

    run.__name__ = name
    return run


def _tensor_grad(t: Tensor, name: str) -> Any:
    if not t.is_leaf and not t.retains_grad:
        return None  # what torch returns, without its warning
    return t.grad


def _index_of(seq: list[Any], value: Any) -> int:
    try:
        return operator.indexOf(seq, value)
    except ValueError:
        raise SandboxError.of("runtime", "sb_list_index") from None


def _type(*args: Any) -> type:
    if len(args) != 1:
        raise SandboxError.of("refused", "sb_type_one")
    return type(args[0])


def _round(number: Any, ndigits: Any = None) -> Any:
    if isinstance(ndigits, int) and ndigits < 0 and -ndigits * 10 // 3 > MAX_INT_BITS:  # round(5, -n) builds 10**n
        raise SandboxError.of("limit", "sb_round_digits", n=ndigits, limit=MAX_INT_BITS * 3 // 10)
    return round(number) if ndigits is None else round(number, ndigits)


_MAX_INT_DIGITS = MAX_INT_BITS * 3 // 10 + 2  # decimal digits of a MAX_INT_BITS integer


def _int(*args: Any, **kwargs: Any) -> int:
    if args and isinstance(args[0], str) and len(args[0].strip().replace("_", "")) > _MAX_INT_DIGITS:
        raise SandboxError.of("limit", "sb_int_text", n=len(args[0]), limit=MAX_INT_BITS)
    out = int(*args, **kwargs)
    if out.bit_length() > MAX_INT_BITS:
        raise SandboxError.of("limit", "sb_int_bits", limit=MAX_INT_BITS)
    return out


def _check_devices(args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    """Only cpu and cuda: a clear message for a GPU on a CPU-only server; 'meta' and other backends are refused."""
    for v in (*args, *kwargs.values()) if kwargs else args:
        tv = type(v)
        if tv is torch.device:
            dev = v
        elif tv is str and 0 < len(v) <= 40:
            try:
                dev = torch.device(v)
            except (RuntimeError, TypeError, ValueError):
                continue  # not a device name (a reduction, an einsum formula ...)
        else:
            continue
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise SandboxError.of("runtime", "sb_no_gpu_device", device=v)
        if dev.type not in ("cpu", "cuda"):
            raise SandboxError.of("refused", "sb_device_refused", device=v)


def _as_list(x: Any) -> list[Tensor]:
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for t in x if isinstance(t, Tensor)]
    return []


def _grad_list(grads: Any, n: int) -> list[Any]:
    """The gradient given for each of n roots (None where the root is a scalar and none was given)."""
    if isinstance(grads, (list, tuple)):
        return list(grads) + [None] * (n - len(grads))
    return [grads] + [None] * (n - 1)


def _params_list(params: Any) -> Any:
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, types.GeneratorType):
        return list(params)
    return params


def math_bounded() -> dict[str, Any]:
    """math.factorial/comb/perm/prod/lcm and random.choices/sample/getrandbits with bounds on their results."""

    def factorial(n: int) -> int:
        if isinstance(n, int) and n > 1_000:
            raise SandboxError.of("limit", "sb_factorial", n=n)
        return math.factorial(n)

    def comb(n: int, k: int) -> int:
        if isinstance(n, int) and n > 10_000:
            raise SandboxError.of("limit", "sb_comb", n=n)
        return math.comb(n, k)

    def perm(n: int, k: int | None = None) -> int:
        if isinstance(n, int) and n > 1_000:
            raise SandboxError.of("limit", "sb_perm", n=n)
        return math.perm(n, k)

    def prod(iterable: Any, start: Any = 1) -> Any:
        total = start
        for x in iterable:
            check_python_op(MUL, total, x)
            total = total * x
        return total

    def lcm(*ints: int) -> int:
        out = math.lcm(*ints)
        if out.bit_length() > MAX_INT_BITS:
            raise SandboxError.of("limit", "sb_int_bits", limit=MAX_INT_BITS)
        return out

    def choices(population: Any, weights: Any = None, *, cum_weights: Any = None, k: int = 1) -> list[Any]:
        if k > MAX_LIST_LEN:
            raise SandboxError.of("limit", "sb_choices", k=k, limit=MAX_LIST_LEN)
        return random.choices(population, weights, cum_weights=cum_weights, k=k)

    def sample(population: Any, k: int) -> list[Any]:
        return random.sample(population, k)

    def getrandbits(k: int) -> int:
        if k > MAX_INT_BITS:
            raise SandboxError.of("limit", "sb_randbits", k=k, limit=MAX_INT_BITS)
        return random.getrandbits(k)

    return {"factorial": factorial, "comb": comb, "perm": perm, "prod": prod, "lcm": lcm, "choices": choices,
            "sample": sample, "getrandbits": getrandbits}  # fmt: skip


_BOUNDED = math_bounded()
for _n in table.MATH_BOUNDED:
    table.MATH.members[_n] = table._reg(_BOUNDED[_n], f"math.{_n}", frozenset({"start"}), "plain")
for _n in table.RANDOM_BOUNDED:
    table.RANDOM.members[_n] = table._reg(_BOUNDED[_n], f"random.{_n}", frozenset({"weights", "cum_weights", "k"}),
                                          "plain")  # fmt: skip


# --- bounded text -------------------------------------------------------------------------------------------------
_PRINT_ELEMENTS = 20_000  # tensor elements torch may format for one str(): a summarised big tensor can still list
# 2*edgeitems per dimension, e.g. 6**10 for torch.zeros([5] * 10)


def _tensor_text_size(t: Tensor) -> int:
    opts = torch._tensor_str.PRINT_OPTS
    if t.numel() <= opts.threshold:
        return t.numel()
    return math.prod(min(d, 2 * opts.edgeitems) for d in t.shape)


def bounded_text(value: Any, limit: int = MAX_TEXT_CHARS, as_repr: bool = False, complete: bool = True) -> str:
    """str(value) (repr with as_repr) built iteratively within `limit` characters.

    Lists can share one inner list many times ([row] * 100000), so their text can be far bigger than their
    memory: past `limit` this raises a limit error, or with complete=False returns the first `limit` characters.
    A tensor whose printed form would list too many numbers is refused before torch formats it.
    """
    if isinstance(value, Tensor) and _tensor_text_size(value) > _PRINT_ELEMENTS:
        raise SandboxError.of("limit", "sb_print_tensor", shape=str(list(value.shape)), n=_tensor_text_size(value))
    if isinstance(value, np.ndarray) and value.size > _PRINT_ELEMENTS and value.ndim > 3:
        raise SandboxError.of("limit", "sb_print_array", shape=str(list(value.shape)))
    if type(value) not in (list, tuple):
        text = repr(value) if as_repr else str(value)
        if len(text) > limit and complete:
            raise SandboxError.of("limit", "sb_text_long", limit=limit)
        return text[:limit]
    out: list[str] = []
    size = 0
    reprs: dict[int, str] = {}
    stack: list[list[Any]] = []  # [sequence, next index]
    active: set[int] = set()

    def opening(seq: Any) -> str:
        if id(seq) in active:  # a list that contains itself, as Python shows it
            return "[...]" if type(seq) is list else "(...)"
        stack.append([seq, 0])
        active.add(id(seq))
        return "[" if type(seq) is list else "("

    piece = opening(value)
    while True:
        out.append(piece)
        size += len(piece)
        if size > limit:
            if complete:
                raise SandboxError.of("limit", "sb_text_long", limit=limit)
            return "".join(out)[:limit]
        if not stack:
            return "".join(out)
        frame = stack[-1]
        seq, i = frame
        if i == len(seq):
            stack.pop()
            active.discard(id(seq))
            piece = "]" if type(seq) is list else (",)" if len(seq) == 1 else ")")
            continue
        frame[1] = i + 1
        item = seq[i]
        piece = ", " if i else ""
        if type(item) in (list, tuple):
            piece += opening(item)
        else:
            if id(item) not in reprs:
                if isinstance(item, Tensor) and _tensor_text_size(item) > _PRINT_ELEMENTS:
                    raise SandboxError.of("limit", "sb_print_big_list")
                reprs[id(item)] = repr(item)
            piece += reprs[id(item)]
