"""Run a validated program by walking its AST: every name, call and attribute goes through the allowlist."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn

from core.limits import (
    MAX_INT_BITS,
    MAX_LOOP_ITERATIONS,
    MAX_MODULES,
    MAX_OPS,
    MAX_PRINT_CHARS,
    MAX_RANGE,
    MAX_TENSOR_ELEMENTS,
    MAX_TEXT_CHARS,
    MAX_TOLIST_ELEMENTS,
)
from core.sandbox import table
from core.sandbox.errors import SandboxError
from core.sandbox.table import Fn, GradMode, Namespace

MAX_LIST_LEN = MAX_TOLIST_ELEMENTS  # lists built by the program (append, +, *) share the tolist bound

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.MatMult: operator.matmul,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}  # fmt: skip
_INPLACE_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul, ast.Div: operator.itruediv,
    ast.FloorDiv: operator.ifloordiv, ast.Mod: operator.imod, ast.Pow: operator.ipow, ast.MatMult: operator.imatmul,
    ast.LShift: operator.ilshift, ast.RShift: operator.irshift, ast.BitAnd: operator.iand, ast.BitOr: operator.ior,
    ast.BitXor: operator.ixor,
}  # fmt: skip
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.Invert: operator.invert,
}  # fmt: skip
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: operator.contains(b, a), ast.NotIn: lambda a, b: not operator.contains(b, a),
}  # fmt: skip

_SCALARS = (int, float, bool, complex, str, type(None))
# Values a program may hold. Anything else reaching a variable is a bug in the table, refused loudly.
_HOLDABLE = (
    _SCALARS + (torch.Tensor, torch.Size, torch.dtype, torch.device, list, tuple, range, slice, type(Ellipsis))
    + table.NN_LAYER_TYPES + table.OPTIMIZER_TYPES
)  # fmt: skip


class StopProgram(Exception):  # noqa: N818
    """Raised by a hook to end a run early on purpose (passes through `Interpreter.run` untouched)."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Method:
    """A method looked up on an allowed object, callable only through the interpreter."""

    __slots__ = ("obj", "name", "kwargs")

    def __init__(self, obj: Any, name: str, kwargs: frozenset[str]) -> None:
        self.obj, self.name, self.kwargs = obj, name, kwargs

    def __repr__(self) -> str:
        return f"<method {self.name}>"


class Interpreter:
    """Executes one program.

    `on_backward(kind, roots, grad_outputs, call)` wraps every backward so it can be recorded;
    `on_assign(name, value)` sees every value bound to a name (the gradient check uses it to find leaves).
    """

    def __init__(
        self,
        on_backward: Callable[[str, list[torch.Tensor], list[Any], Callable[[], Any]], Any] | None = None,
        on_assign: Callable[[str, Any], None] | None = None,
    ) -> None:
        self.env: dict[str, Any] = {}
        self.stdout: list[str] = []
        self._stdout_chars = 0
        self.ops = 0
        self.iterations = 0
        self.line: int | None = None
        self.on_backward = on_backward or (lambda kind, roots, grad_outputs, call: call())
        self.on_assign = on_assign
        self.builtins: dict[str, Any] = {
            **table.GLOBALS,
            **table.SAFE_BUILTINS,
            "print": Fn("print", self._print, frozenset({"sep", "end"})),
            "range": Fn("range", self._range),
            # built-ins that walk or build sequences, bounded before they run (a plain `str(x)` of a list of
            # lists, `sum(lists, [])` or `list(big_tensor)` would otherwise allocate without limit)
            "str": Fn("str", _str),
            "list": Fn("list", _sized(list)),
            "tuple": Fn("tuple", _sized(tuple)),
            "sorted": Fn("sorted", _sized(sorted), frozenset({"reverse"})),
            "reversed": Fn("reversed", _sized(lambda seq: list(reversed(seq)))),
            "min": Fn("min", _sized(min)),
            "max": Fn("max", _sized(max)),
            "sum": Fn("sum", _sum),
            "enumerate": Fn("enumerate", _enumerate, frozenset({"start"})),
            "zip": Fn("zip", _zip),
            "round": Fn("round", _round),
        }

    # --- statements ------------------------------------------------------------------------------
    def run(self, tree: ast.Module) -> None:
        """Run every statement; errors become SandboxError with the statement's line."""
        try:
            self._block(tree.body)
        except SandboxError as e:
            if e.line is None:
                e.line = self.line
            raise
        except StopProgram:
            raise
        except (_Break, _Continue):
            raise SandboxError("syntax", "'break' or 'continue' outside a loop", self.line) from None
        except RecursionError:
            raise SandboxError("limit", "the program nests too deeply", self.line) from None
        except MemoryError:
            raise SandboxError("limit", "out of memory", self.line) from None
        except (KeyboardInterrupt, SystemExit):
            raise SandboxError("runtime", "the program was interrupted", self.line) from None
        except Exception as e:  # a torch or Python error inside the user's program
            raise SandboxError("runtime", _message(e), self.line) from None

    def _block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.line = stmt.lineno
            self._stmt(stmt)

    def _stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Expr):
            self._eval(s.value)
        elif isinstance(s, ast.Assign):
            value = self._eval(s.value)
            for target in s.targets:
                self._assign(target, value)
        elif isinstance(s, ast.AnnAssign):
            if s.value is not None:
                self._assign(s.target, self._eval(s.value))
        elif isinstance(s, ast.AugAssign):
            self._augassign(s)
        elif isinstance(s, ast.If):
            self._block(s.body if self._truth(self._eval(s.test)) else s.orelse)
        elif isinstance(s, ast.For):
            self._for(s)
        elif isinstance(s, ast.With):
            self._with(s)
        elif isinstance(s, ast.Import):
            for alias in s.names:
                if alias.asname:
                    self.env[alias.asname] = table.IMPORTABLE[alias.name]
                else:  # `import torch.nn` binds `torch`
                    self.env[alias.name.split(".")[0]] = table.IMPORTABLE[alias.name.split(".")[0]]
        elif isinstance(s, ast.ImportFrom):
            if s.module == "__future__":
                return
            ns = table.IMPORTABLE[s.module]
            for alias in s.names:
                self.env[alias.asname or alias.name] = self._getattr(ns, alias.name)
        elif isinstance(s, ast.Break):
            raise _Break
        elif isinstance(s, ast.Continue):
            raise _Continue
        elif isinstance(s, ast.Pass):
            pass
        else:  # validate.check refuses these first; this is the second wall
            raise SandboxError("refused", f"{type(s).__name__} is not part of this sandbox's language", s.lineno)

    def _for(self, s: ast.For) -> None:
        iterable = self._eval(s.iter)
        if isinstance(iterable, torch.Tensor):
            if iterable.dim() == 0:
                raise SandboxError("runtime", "cannot loop over a 0-d tensor")
            items: Any = iterable
        elif isinstance(iterable, (range, list, tuple, torch.Size, enumerate, zip, reversed)):
            items = iterable
        else:
            raise SandboxError("refused", f"cannot loop over a {type(iterable).__name__}")
        for item in items:
            self.iterations += 1
            if self.iterations > MAX_LOOP_ITERATIONS:
                raise SandboxError("limit", f"more than {MAX_LOOP_ITERATIONS:,} loop iterations in total")
            self._assign(s.target, item)
            try:
                self._block(s.body)
            except _Break:
                break
            except _Continue:
                continue

    def _with(self, s: ast.With) -> None:
        managers = []
        for item in s.items:
            cm = self._eval(item.context_expr)
            if not isinstance(cm, GradMode.ALLOWED):
                raise SandboxError("refused", "only `with torch.no_grad():` / `torch.enable_grad()` are allowed")
            managers.append(cm)
        for cm in managers:
            cm.__enter__()
        try:
            self._block(s.body)
        finally:
            for cm in reversed(managers):
                cm.__exit__(None, None, None)

    def _assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self._check_holdable(value)
            self.env[target.id] = value
            if self.on_assign is not None:
                self.on_assign(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = list(self._iterate(value, len(target.elts)))
            if len(values) != len(target.elts):
                raise SandboxError("runtime", f"cannot unpack {len(values)} values into {len(target.elts)} names")
            for t, v in zip(target.elts, values, strict=True):
                self._assign(t, v)
        elif isinstance(target, ast.Subscript):
            obj = self._eval(target.value)
            index = self._index(target.slice)
            if isinstance(obj, torch.Tensor):
                self._tick()
                _check_tensor_data(value)  # x[i] = nested lists: torch builds a tensor of them first
                obj[index] = value
            elif isinstance(obj, list):
                _set_list_item(obj, index, value)
            else:
                raise SandboxError("refused", f"cannot assign items of a {type(obj).__name__}")
        elif isinstance(target, ast.Attribute):
            obj = self._eval(target.value)
            if isinstance(obj, torch.Tensor) and target.attr in table.TENSOR_SETTABLE:
                if target.attr == "grad" and not (value is None or isinstance(value, torch.Tensor)):
                    raise SandboxError("runtime", ".grad can only be set to None or a tensor")
                setattr(obj, target.attr, value)
            else:
                raise SandboxError("refused", f"cannot set .{target.attr} on a {type(obj).__name__}")
        else:
            raise SandboxError("refused", f"cannot assign to {type(target).__name__}")

    def _iterate(self, value: Any, expected: int) -> Any:
        if isinstance(value, torch.Tensor):
            if value.dim() == 0 or value.shape[0] != expected:
                shape = list(value.shape)
                raise SandboxError("runtime", f"cannot unpack a tensor of shape {shape} into {expected} names")
            return value
        if isinstance(value, (list, tuple, torch.Size)) or type(value).__module__ == "torch.return_types":
            return value
        raise SandboxError("runtime", f"cannot unpack a {type(value).__name__}")

    def _augassign(self, s: ast.AugAssign) -> None:
        op = _INPLACE_OPS[type(s.op)]
        rhs = self._eval(s.value)
        if isinstance(s.target, ast.Name):
            if s.target.id not in self.env:
                raise SandboxError("runtime", f"name '{s.target.id}' is not defined")
            self.env[s.target.id] = self._binop(op, self.env[s.target.id], rhs, type(s.op))
        elif isinstance(s.target, ast.Subscript):
            obj = self._eval(s.target.value)
            index = self._index(s.target.slice)
            if not isinstance(obj, (torch.Tensor, list)):
                raise SandboxError("refused", f"cannot assign items of a {type(obj).__name__}")
            value = self._binop(op, obj[index], rhs, type(s.op))
            if isinstance(obj, list):
                _set_list_item(obj, index, value)
            else:
                obj[index] = value
        elif isinstance(s.target, ast.Attribute):
            obj = self._eval(s.target.value)
            if not (isinstance(obj, torch.Tensor) and s.target.attr == "grad"):
                raise SandboxError("refused", f"cannot update .{s.target.attr} on a {type(obj).__name__}")
            obj.grad = self._binop(op, obj.grad, rhs, type(s.op))
        else:
            raise SandboxError("refused", f"cannot assign to {type(s.target).__name__}")

    # --- expressions -----------------------------------------------------------------------------
    def _tick(self) -> None:
        self.ops += 1
        if self.ops > MAX_OPS:
            raise SandboxError("limit", f"the program ran more than {MAX_OPS:,} operations")

    def _eval(self, e: ast.expr) -> Any:
        if isinstance(e, ast.Constant):
            return e.value
        if isinstance(e, ast.Name):
            return self._name(e.id)
        if isinstance(e, ast.Attribute):
            return self._getattr(self._eval(e.value), e.attr)
        if isinstance(e, ast.Call):
            return self._call(e)
        if isinstance(e, ast.BinOp):
            return self._binop(_BINOPS[type(e.op)], self._eval(e.left), self._eval(e.right), type(e.op))
        if isinstance(e, ast.UnaryOp):
            self._tick()
            return _UNARY[type(e.op)](self._eval(e.operand))
        if isinstance(e, ast.BoolOp):
            value = None
            for v in e.values:
                value = self._eval(v)
                if isinstance(e.op, ast.And) != self._truth(value):
                    return value
            return value
        if isinstance(e, ast.Compare):
            left = self._eval(e.left)
            result: Any = True
            for k, (op, right_e) in enumerate(zip(e.ops, e.comparators, strict=True)):
                self._tick()
                right = self._eval(right_e)
                result = _COMPARE[type(op)](left, right)
                if k < len(e.ops) - 1 and not self._truth(result):  # only a chain (a < b < c) asks for a bool
                    return result
                left = right
            return result
        if isinstance(e, ast.IfExp):
            return self._eval(e.body) if self._truth(self._eval(e.test)) else self._eval(e.orelse)
        if isinstance(e, (ast.List, ast.Tuple)):
            items: list[Any] = []
            for elt in e.elts:
                if isinstance(elt, ast.Starred):
                    items.extend(self._iterate_any(self._eval(elt.value)))
                else:
                    items.append(self._eval(elt))
                self._check_len(items)
            return items if isinstance(e, ast.List) else tuple(items)
        if isinstance(e, ast.Subscript):
            obj = self._eval(e.value)
            index = self._index(e.slice)
            return self._getitem(obj, index)
        if isinstance(e, ast.JoinedStr):
            return self._fstring(e)
        raise SandboxError("refused", f"{type(e).__name__} is not part of this sandbox's language")

    def _truth(self, value: Any) -> bool:
        if isinstance(value, torch.Tensor) and value.numel() != 1:
            raise SandboxError("runtime", f"the truth value of a tensor with {value.numel()} elements is ambiguous")
        return bool(value)

    def _name(self, name: str) -> Any:
        if name in self.env:
            return self.env[name]
        if name in self.builtins:
            return self.builtins[name]
        raise SandboxError("runtime", f"name '{name}' is not defined (or not available in this sandbox)")

    def _iterate_any(self, value: Any) -> list[Any]:
        if isinstance(value, (list, tuple, torch.Size, range)):
            return list(value)
        raise SandboxError("refused", f"cannot unpack a {type(value).__name__} with *")

    def _check_len(self, seq: Any) -> None:
        if len(seq) > MAX_LIST_LEN:
            raise SandboxError("limit", f"a list or tuple longer than {MAX_LIST_LEN:,} items")

    def _check_holdable(self, value: Any) -> None:
        if isinstance(value, (Fn, Namespace, Method, torch.autograd.graph.Node)):
            return
        if type(value).__module__ == "torch.return_types" or isinstance(value, GradMode.ALLOWED):
            return
        if not isinstance(value, _HOLDABLE):
            raise SandboxError("refused", f"values of type {type(value).__name__} cannot be stored")

    def _fstring(self, e: ast.JoinedStr) -> str:
        parts = []
        for v in e.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
                continue
            assert isinstance(v, ast.FormattedValue)
            value = self._eval(v.value)
            spec = "".join(str(c.value) for c in v.format_spec.values) if v.format_spec else ""
            if v.conversion in (ord("r"), ord("a")):
                value = bounded_text(value, MAX_TEXT_CHARS, as_repr=True)
            elif v.conversion == ord("s") or type(value) in (list, tuple):
                value = bounded_text(value, MAX_TEXT_CHARS)
            if isinstance(value, torch.Tensor) and spec:
                value = value.item()
            parts.append(format(value, spec))
            if sum(map(len, parts)) > MAX_TEXT_CHARS:
                raise SandboxError("limit", f"an f-string result longer than {MAX_TEXT_CHARS:,} characters")
        return "".join(parts)

    # --- operators -------------------------------------------------------------------------------
    def _binop(self, op: Callable[[Any, Any], Any], a: Any, b: Any, kind: type) -> Any:
        self._tick()
        if isinstance(a, str) and kind is ast.Mod:
            raise SandboxError("refused", "'%' string formatting is not allowed; use f-strings")
        _check_python_op(a, b, kind)
        return op(a, b)

    # --- subscripts ------------------------------------------------------------------------------
    def _index(self, e: ast.expr) -> Any:
        if isinstance(e, ast.Slice):
            return slice(
                self._eval(e.lower) if e.lower else None,
                self._eval(e.upper) if e.upper else None,
                self._eval(e.step) if e.step else None,
            )
        if isinstance(e, ast.Tuple):
            return tuple(self._index(elt) for elt in e.elts)
        index = self._eval(e)
        _check_tensor_data(index)  # x[nested lists] indexes with a tensor torch builds from them
        return index

    def _getitem(self, obj: Any, index: Any) -> Any:
        self._tick()
        if isinstance(obj, (torch.Tensor, list, tuple, torch.Size, str, nn.Sequential)):
            return obj[index]
        if type(obj).__module__ == "torch.return_types":
            return obj[index]
        raise SandboxError("refused", f"cannot index a {type(obj).__name__}")

    # --- attributes ------------------------------------------------------------------------------
    def _getattr(self, obj: Any, name: str) -> Any:
        if name.startswith("_"):
            raise SandboxError("refused", f"attributes starting with '_' (.{name}) are not allowed")
        if isinstance(obj, Namespace):
            if name in obj.members:
                return obj.members[name]
            raise SandboxError("refused", f"{obj.name}.{name} is not available in this sandbox")
        if isinstance(obj, torch.Tensor):
            if name in table.TENSOR_PROPERTIES:
                if name == "grad" and not obj.is_leaf and not obj.retains_grad:
                    return None  # what torch returns, without its warning
                return getattr(obj, name)
            if name in table.TENSOR_METHODS:
                return Method(obj, name, table.TENSOR_METHODS[name])
        elif isinstance(obj, torch.Size) and name in table.SIZE_METHODS:
            return Method(obj, name, frozenset())
        elif isinstance(obj, torch.dtype) and name in table.DTYPE_ATTRIBUTES:
            return getattr(obj, name)
        elif isinstance(obj, torch.device) and name in table.DEVICE_ATTRIBUTES:
            return getattr(obj, name)
        elif isinstance(obj, torch.autograd.graph.Node) and name in table.NODE_ATTRIBUTES:
            return Method(obj, name, frozenset()) if name == "name" else getattr(obj, name)
        elif type(obj).__module__ == "torch.return_types" and name in table.RETURN_TYPE_FIELDS:
            return getattr(obj, name)
        elif isinstance(obj, table.NN_LAYER_TYPES) and name in table.MODULE_ATTRIBUTES:
            if name in table.MODULE_METHODS:
                return Method(obj, name, table.MODULE_ATTRIBUTES[name])
            return getattr(obj, name)
        elif isinstance(obj, table.OPTIMIZER_TYPES) and name in table.OPTIMIZER_METHODS:
            return Method(obj, name, table.OPTIMIZER_METHODS[name])
        elif isinstance(obj, list) and name in table.LIST_METHODS:
            return Method(obj, name, table.LIST_METHODS[name])
        raise SandboxError("refused", f".{name} is not available on a {_type_name(obj)} in this sandbox")

    # --- calls -----------------------------------------------------------------------------------
    def _call(self, e: ast.Call) -> Any:
        func = self._eval(e.func)
        args: list[Any] = []
        for a in e.args:
            if isinstance(a, ast.Starred):
                args.extend(self._iterate_any(self._eval(a.value)))
            else:
                args.append(self._eval(a))
        kwargs = {k.arg: self._eval(k.value) for k in e.keywords if k.arg is not None}
        self._tick()
        if isinstance(func, Fn):
            _check_kwargs(func.name, func.kwargs, kwargs)
            return self._call_fn(func, args, kwargs)
        if isinstance(func, Method):
            _check_kwargs(func.name, func.kwargs, kwargs)
            return self._call_method(func, args, kwargs)
        if isinstance(func, table.NN_LAYER_TYPES):
            if kwargs:
                raise SandboxError("refused", "layers are called with positional arguments only")
            return func(*args)
        raise SandboxError("refused", f"a {_type_name(func)} cannot be called")

    def _call_fn(self, fn: Fn, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if "." in fn.name:  # torch, nn, F, optim: not print("meta") or len(...)
            _check_devices(args, kwargs)
        if fn.name == "torch.autograd.backward":
            roots = _as_list(args[0] if args else kwargs.get("tensors"))
            grads = _grad_list(args[1] if len(args) > 1 else kwargs.get("grad_tensors"), len(roots))
            return self.on_backward("backward", roots, grads, lambda: fn.impl(*args, **kwargs))
        if fn.name == "torch.autograd.grad":
            roots = _as_list(args[0] if args else kwargs.get("outputs"))
            grads = _grad_list(args[2] if len(args) > 2 else kwargs.get("grad_outputs"), len(roots))
            return tuple(self.on_backward("grad", roots, grads, lambda: fn.impl(*args, **kwargs)))
        if fn.name in ("optim.SGD", "optim.Adam", "optim.AdamW", "optim.RMSprop") and args:
            args = [_params_list(args[0]), *args[1:]]
        if fn.name in ("nn.Linear", "nn.Bilinear"):
            n = 1
            for a in args:
                if isinstance(a, int):
                    n *= a
            if n > MAX_TENSOR_ELEMENTS:
                raise SandboxError("limit", f"{fn.name} would have {n:,} weights; the limit is {MAX_TENSOR_ELEMENTS:,}")
        if fn.name == "torch.tensor" and args:
            _check_tensor_data(args[0])
        if fn.name == "nn.Sequential":
            _check_layers(args)
        return fn.impl(*args, **kwargs)

    def _call_method(self, m: Method, args: list[Any], kwargs: dict[str, Any]) -> Any:
        obj, name = m.obj, m.name
        if not isinstance(obj, list):
            _check_devices(args, kwargs)
        if isinstance(obj, torch.Tensor):
            if name == "backward":
                grads = [args[0] if args else kwargs.get("gradient")]
                return self.on_backward("backward", [obj], grads, lambda: obj.backward(*args, **kwargs))
            if name == "tolist" and obj.numel() > MAX_TOLIST_ELEMENTS:
                raise SandboxError(
                    "limit", f".tolist() of {obj.numel():,} elements; the limit is {MAX_TOLIST_ELEMENTS:,}"
                )
            if name == "cuda" and not torch.cuda.is_available():
                raise SandboxError("runtime", "this server has no GPU, so .cuda() cannot work; use .to(device)")
            if name == "new_tensor" and args:
                _check_tensor_data(args[0])
        if isinstance(obj, list):
            if name == "append" and len(obj) >= MAX_LIST_LEN:
                raise SandboxError("limit", f"a list or tuple longer than {MAX_LIST_LEN:,} items")
            if name == "index":  # list.index puts repr(value) in its error: that text could be enormous
                if len(args) > 1:
                    start = operator.index(args[1])
                    start = max(0, start + len(obj)) if start < 0 else start
                    stop = args[2] if len(args) > 2 else None
                    return start + _index_of(obj[start:stop], args[0])
                return _index_of(obj, *args)
        if isinstance(obj, torch.nn.Module) and name in ("parameters", "named_parameters"):
            return list(getattr(obj, name)())
        if isinstance(obj, torch.autograd.graph.Node) and name == "name":
            return obj.name()
        result = getattr(obj, name)(*args, **kwargs)
        return result

    # --- built-ins that need a bound -------------------------------------------------------------
    def _print(self, *args: Any, sep: str | None = " ", end: str | None = "\n") -> None:
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        if not isinstance(sep, str) or not isinstance(end, str):
            raise SandboxError("runtime", "print(): sep and end must be text")
        budget = MAX_PRINT_CHARS - self._stdout_chars + 1  # one over: enough to know it must be cut
        pieces = []
        for a in args:
            pieces.append(bounded_text(a, max(0, budget), complete=False))
            budget -= len(pieces[-1]) + len(sep)
            if budget < 0:
                break
        text = sep.join(pieces) + end
        if self._stdout_chars >= MAX_PRINT_CHARS:
            return  # already cut, with its note
        if self._stdout_chars + len(text) > MAX_PRINT_CHARS:
            text = text[: MAX_PRINT_CHARS - self._stdout_chars] + "\n[output truncated]\n"
            self._stdout_chars = MAX_PRINT_CHARS
        else:
            self._stdout_chars += len(text)
        self.stdout.append(text)

    def _range(self, *args: int) -> range:
        if not all(isinstance(a, int) for a in args):
            raise SandboxError("runtime", "range() takes whole numbers")
        r = range(*args)
        if len(r) > MAX_RANGE:
            raise SandboxError("limit", f"range() of {len(r):,} numbers; the limit is {MAX_RANGE:,}")
        return r


# --- checks shared by the interpreter -----------------------------------------------------------------
def _check_kwargs(name: str, allowed: frozenset[str], kwargs: dict[str, Any]) -> None:
    for k in kwargs:
        if k not in allowed:
            raise SandboxError("refused", f"{name}() does not accept the keyword '{k}' in this sandbox")


def _check_devices(args: list[Any], kwargs: dict[str, Any]) -> None:
    """Only cpu and cuda: a clear message for a GPU on a CPU-only server; 'meta' and other backends are refused."""
    for v in list(args) + list(kwargs.values()):
        if isinstance(v, torch.device):
            dev = v
        elif isinstance(v, str) and 0 < len(v) <= 40:
            try:
                dev = torch.device(v)
            except (RuntimeError, TypeError, ValueError):
                continue  # not a device name (a reduction, an einsum formula ...)
        else:
            continue
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise SandboxError("runtime", f"device '{v}' asked for, but this server has no GPU; use 'cpu'")
        if dev.type not in ("cpu", "cuda"):
            raise SandboxError("refused", f"device '{v}' is not available in this sandbox; use 'cpu' or 'cuda'")


def _check_python_op(a: Any, b: Any, kind: type) -> None:
    """Refuse Python-number and sequence operations whose result would be huge, before computing them."""
    if isinstance(a, bool) or isinstance(b, bool):
        return
    if isinstance(a, int) and isinstance(b, int):
        if kind is ast.Pow and b > 0 and abs(a) > 1 and b * a.bit_length() > MAX_INT_BITS:
            raise SandboxError("limit", f"{a} ** {b} would have more than {MAX_INT_BITS:,} bits")
        if kind is ast.Mult and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise SandboxError("limit", f"an integer product with more than {MAX_INT_BITS:,} bits")
        if kind is ast.LShift and b > 0 and a and a.bit_length() + b > MAX_INT_BITS:
            raise SandboxError("limit", f"{a} << {b} would have more than {MAX_INT_BITS:,} bits")
    if kind is ast.Mult:
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, (str, list, tuple)) and not isinstance(n, (str, list, tuple)):
                try:  # a sequence repeats by anything with __index__, an integer tensor included
                    n = operator.index(n)
                except (TypeError, RuntimeError, ValueError):
                    continue  # not a repeat count: the operation itself fails
                limit = MAX_TEXT_CHARS if isinstance(seq, str) else MAX_LIST_LEN
                if len(seq) * n > limit:
                    raise SandboxError("limit", f"repeating a {type(seq).__name__} {n:,} times; the limit is {limit:,}")
    if kind is ast.Add and isinstance(a, (str, list, tuple)):
        limit = MAX_TEXT_CHARS if isinstance(a, str) else MAX_LIST_LEN
        if len(a) + _length(b) > limit:  # list += iterable extends by anything iterable, tensors included
            raise SandboxError("limit", f"a {type(a).__name__} longer than {limit:,}")


def _as_list(x: Any) -> list[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for t in x if isinstance(t, torch.Tensor)]
    return []


def _grad_list(grads: Any, n: int) -> list[Any]:
    """The gradient given for each of n roots (None where the root is a scalar and none was given)."""
    if isinstance(grads, (list, tuple)):
        return list(grads) + [None] * (n - len(grads))
    return [grads] + [None] * (n - 1)


def _params_list(params: Any) -> list[torch.Tensor]:
    if isinstance(params, torch.Tensor):
        return [params]
    if isinstance(params, (list, tuple)) and all(isinstance(p, torch.Tensor) for p in params):
        return list(params)
    raise SandboxError("runtime", "an optimizer takes a list of tensors, e.g. [a, b] or model.parameters()")


def _type_name(obj: Any) -> str:
    if isinstance(obj, Fn):
        return f"function {obj.name}"
    return type(obj).__name__


def _message(e: BaseException) -> str:
    """A torch/Python error message, without the C++ stack noise torch sometimes appends."""
    text = str(e) or type(e).__name__
    for marker in ("\nException raised from", "\nFrame ", "\n\nThe above"):
        text = text.split(marker)[0]
    text = text.strip()
    if len(text) > 1_500:
        text = text[:1_500] + " ..."
    return f"{type(e).__name__}: {text}" if not isinstance(e, RuntimeError) else text


# --- bounded text and sequence built-ins -----------------------------------------------------------------
def _length(x: Any) -> int:
    """How many items iterating `x` yields (0 when it is not a sized iterable: the operation then fails itself)."""
    if isinstance(x, torch.Tensor):
        return x.shape[0] if x.dim() else 0
    try:
        return len(x)
    except TypeError:
        return 0


def _check_items(*iterables: Any) -> None:
    for it in iterables:
        n = _length(it)
        if n > MAX_LIST_LEN:
            raise SandboxError("limit", f"a sequence of {n:,} items; the limit is {MAX_LIST_LEN:,}")


def _sized(builtin: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in that walks its one iterable argument (list, sorted, min ...), refused on a too-long one."""

    def call(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 1:
            _check_items(args[0])
        return builtin(*args, **kwargs)

    return call


def _sum(iterable: Any, start: Any = 0) -> Any:
    if isinstance(start, (str, list, tuple)):  # sum(lists, []) concatenates without any bound
        raise SandboxError("refused", "sum() adds numbers and tensors; a list or text start value is not allowed")
    _check_items(iterable)
    return sum(iterable, start)


def _enumerate(iterable: Any, start: int = 0) -> list[tuple[int, Any]]:
    _check_items(iterable)
    return list(enumerate(iterable, start))


def _zip(*iterables: Any) -> list[tuple[Any, ...]]:
    _check_items(*iterables)
    n = min((_length(it) for it in iterables), default=0) * len(iterables)
    if n > MAX_LIST_LEN:
        raise SandboxError("limit", f"zip() would hold {n:,} items; the limit is {MAX_LIST_LEN:,}")
    return list(zip(*iterables))  # noqa: B905  (Python's zip: stops at the shortest)


def _round(number: Any, ndigits: Any = None) -> Any:
    if isinstance(ndigits, int) and ndigits < 0 and -ndigits * 10 // 3 > MAX_INT_BITS:  # round(5, -n) builds 10**n
        raise SandboxError("limit", f"round() to {ndigits:,} digits; at most {MAX_INT_BITS * 3 // 10:,}")
    return round(number) if ndigits is None else round(number, ndigits)


def _str(*args: Any) -> str:
    if len(args) > 1:
        raise SandboxError("refused", "str() takes one value in this sandbox")
    return bounded_text(args[0]) if args else ""


def _index_of(seq: list[Any], value: Any) -> int:
    try:
        return operator.indexOf(seq, value)
    except ValueError:
        raise SandboxError("runtime", "list.index(x): x is not in the list") from None


def _set_list_item(obj: list[Any], index: Any, value: Any) -> None:
    """`lst[i] = v`; a slice assignment may grow the list, so its new length is checked first."""
    if isinstance(index, slice):
        removed = len(range(*index.indices(len(obj))))
        if len(obj) - removed + _length(value) > MAX_LIST_LEN:
            raise SandboxError("limit", f"a list or tuple longer than {MAX_LIST_LEN:,} items")
    obj[index] = value


def _check_layers(layers: list[Any]) -> None:
    """nn.Sequential(m, m) doubles with each nesting: count layers with repeats, as forward and print would."""
    stack, n = list(layers), 0
    while stack:
        layer = stack.pop()
        n += 1
        if n > MAX_MODULES:
            raise SandboxError("limit", f"a model of more than {MAX_MODULES:,} layers (nested and repeated ones "
                                        "counted)")
        if isinstance(layer, nn.Module):
            stack.extend(layer._modules.values())


def _check_tensor_data(data: Any) -> None:
    """torch.tensor(nested lists): the size follows the first element at each depth; check it before allocating."""
    n, depth = 1, 0
    while isinstance(data, (list, tuple)):
        n *= len(data)
        depth += 1
        if not data or depth > 64:
            break
        data = data[0]
    if isinstance(data, torch.Tensor):
        n *= data.numel()
    if n > MAX_TENSOR_ELEMENTS:
        raise SandboxError("limit", f"a tensor made from these lists would have {n:,} elements; "
                                    f"the limit is {MAX_TENSOR_ELEMENTS:,}")


def bounded_text(value: Any, limit: int = MAX_TEXT_CHARS, as_repr: bool = False, complete: bool = True) -> str:
    """str(value) (repr with as_repr) built iteratively within `limit` characters.

    Lists can share one inner list many times ([row] * 100000), so their text can be far bigger than their
    memory: past `limit` this raises a limit error, or with complete=False returns the first `limit` characters.
    """
    if type(value) not in (list, tuple):
        text = repr(value) if as_repr else str(value)
        if len(text) > limit and complete:
            raise SandboxError("limit", f"a text longer than {limit:,} characters")
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
                raise SandboxError("limit", f"a text longer than {limit:,} characters")
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
                reprs[id(item)] = repr(item)
            piece += reprs[id(item)]
