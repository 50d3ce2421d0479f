"""Run one validated program: compile it with its guards (compiler.py), execute it under a Runtime (guards.py).

The name is historical (the first engine walked the AST); the interface stays: `Interpreter(on_backward,
on_assign).run(tree)`, then `.env` (the program's variables), `.stdout` and `.ops`.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn

from core.limits import MAX_MODULE_CALLS
from core.sandbox import guard, guards, pymessages, suggest
from core.sandbox.compiler import GUARD_NAMES, PROGRAM, compile_program
from core.sandbox.errors import SandboxError
from core.sandbox.guard import Budget, key_part
from core.sandbox.guards import bounded_text
from core.sandbox.loops import LoopWatch
from core.sandbox.table import Namespace
from core.sandbox.validate import syntax_error

__all__ = ["Interpreter", "StopProgram", "bounded_text"]


class StopProgram(BaseException):  # noqa: N818
    """Raised by a hook to end a run early on purpose (passes through the program's try/except untouched)."""


_HIDDEN = frozenset({"__builtins__", "__name__", "__doc__", *GUARD_NAMES})


def _program_line(tb: Any) -> int | None:
    """The innermost line of the program in a traceback (library frames below it are not the user's)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == PROGRAM:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _message(e: BaseException) -> str:
    """A torch/Python error message, without the C++ stack noise torch sometimes appends."""
    if isinstance(e, KeyError) and e.args:  # its text is repr(key): bounded, a key can be huge
        text = bounded_text(e.args[0], 1_500, as_repr=True, complete=False)
    else:
        text = str(e) or type(e).__name__
    for marker in ("\nException raised from", "\nFrame ", "\n\nThe above"):
        text = text.split(marker)[0]
    text = text.strip()
    if len(text) > 1_500:
        text = text[:1_500] + " ..."
    return f"{type(e).__name__}: {text}" if not isinstance(e, RuntimeError) else text


def _program_names(tb: Any) -> set[str]:
    """The names the program's innermost frame had bound (its own locals): candidates for "did you mean"."""
    names: set[str] = set()
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == PROGRAM:
            names = set(tb.tb_frame.f_locals)
        tb = tb.tb_next
    return names


def runtime_error(e: Exception, g: dict[str, Any], line: int | None) -> SandboxError:
    """A Python or torch error in the program as the sandbox's runtime error: a NameError names the closest names
    the program can reach; a common message gets its catalog key (Python's words kept as the detail)."""
    text = _message(e)
    name = getattr(e, "name", None)
    if type(e) is NameError and isinstance(name, str):
        reachable = set(g) | set(g.get("__builtins__") or ()) | _program_names(e.__traceback__)
        close = suggest.close(name, reachable - _HIDDEN)
        if close:
            return SandboxError.of("runtime", "sb_unknown_name_hint", line, name=name, hint=suggest.hint(close))
        return SandboxError.of("runtime", "sb_unknown_name", line, name=name)
    found = pymessages.runtime(text)
    if found is not None:
        key, args = found
        return SandboxError.of("runtime", key, line, detail=text, **args)
    return SandboxError("runtime", text, line)


class Interpreter:
    """Executes one program.

    `on_backward(kind, roots, grad_outputs, call)` wraps every backward so it can be recorded;
    `on_assign(name, value)` sees every value bound to a module-level name (the gradient check finds leaves
    with it); `on_value(out)` sees the output of every tensor op (the value recorder).
    """

    def __init__(
        self,
        on_backward: Callable[[str, list[torch.Tensor], list[Any], Callable[[], Any]], Any] | None = None,
        on_assign: Callable[[str, Any], None] | None = None,
        on_value: Callable[[Any], None] | None = None,
    ) -> None:
        self.on_backward = on_backward
        self.on_assign = on_assign
        self.on_value = on_value
        self.namespace: dict[str, Any] = {}
        self.runtime: guards.Runtime | None = None
        self.budget: Budget | None = None
        self.line: int | None = None
        self.tree: ast.Module | None = None  # the program, when the caller keeps it (its own backward() rules)
        self.source = ""
        self.module_calls: list[ModuleCall] = []  # every nn.Module call, for the graph's module boxes
        self.loops = LoopWatch()  # the running for loops, and what is left of them

    @property
    def env(self) -> dict[str, Any]:
        """The program's own variables (not the guards, modules, functions or classes it defined)."""
        out = {}
        for name, value in self.namespace.items():
            if name in _HIDDEN or name.startswith("__sb_") or isinstance(value, (Namespace, type)):
                continue
            if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, guards.Method)):
                continue
            out[name] = value
        return out

    @property
    def stdout(self) -> list[str]:
        return self.runtime.stdout if self.runtime is not None else []

    @property
    def ops(self) -> int:
        return self.budget.ops if self.budget is not None else 0

    def run(self, tree: ast.Module) -> None:
        """Run the program; errors become SandboxError with the program's line."""
        budget = guard.ACTIVE[-1] if guard.ACTIVE else Budget(torch.device("cpu"))
        self.budget = budget
        rt = guards.Runtime(budget, self.on_backward, self.on_value, self.loops)
        self.runtime = rt
        g = rt.globals()
        if self.on_assign is not None:
            hook = self.on_assign

            def assigned(name: str, value: Any) -> None:
                hook(name, value)

            g["__sb_assigned__"] = assigned
        self.namespace = g
        try:
            code = compile_program(tree, assign_hook=self.on_assign is not None)
        except SyntaxError as e:  # found only when compiling ('return' outside a function, 'break' outside a loop)
            raise syntax_error(e) from None
        previous = guards._CURRENT[0]
        guards._CURRENT[0] = rt
        hooks = _ModuleHooks(rt, self.module_calls)
        try:
            exec(code, g)  # noqa: S102  compiled from a validated, guard-rewritten tree; globals are the runtime's
        except SandboxError as e:
            self._fail(e, e.__traceback__)
        except StopProgram:
            raise
        except RecursionError as e:
            line = _program_line(e.__traceback__)
            raise SandboxError.of("limit", "sb_recursion", line) from None
        except MemoryError as e:
            raise SandboxError.of("limit", "sb_out_of_memory", _program_line(e.__traceback__)) from None
        except (KeyboardInterrupt, SystemExit, GeneratorExit) as e:
            raise SandboxError.of("runtime", "sb_interrupted", _program_line(e.__traceback__)) from None
        except Exception as e:  # a torch or Python error inside the user's program
            line = _program_line(e.__traceback__)
            if isinstance(e, RuntimeError) and "can't allocate memory" in str(e):
                raise SandboxError.of("limit", "sb_out_of_memory_detail", line, what=_message(e)[:300]) from None
            raise runtime_error(e, g, line) from None
        finally:
            hooks.remove()
            guards._CURRENT[0] = previous
        if rt.failed is not None:  # a limit the program's own `with` or `__exit__` swallowed
            raise rt.failed

    def _fail(self, e: SandboxError, tb: Any) -> None:
        if e.line is None:
            e.line = _program_line(tb)
        self.line = e.line
        raise e.with_traceback(None) from None


class ModuleCall:
    """One nn.Module call: the autograd nodes created during it have sequence numbers strictly between lo and hi.
    A call and the first call inside it can share lo (no node was made between their starts): `depth` (calls
    around it) orders them, the inner one after."""

    __slots__ = ("module", "lo", "hi", "parent", "depth")

    def __init__(self, module: nn.Module, lo: int, parent: ModuleCall | None) -> None:
        self.module = module
        self.lo = lo
        self.hi = lo
        self.parent = parent
        self.depth: int = parent.depth + 1 if parent is not None else 0


def _meta_twin(module: nn.Module) -> nn.Module:
    """A built-in leaf layer's twin for planning: the same class and settings, its parameters and buffers on
    the meta device (shapes only). The layer itself is untouched: a forward that updates a buffer (batch norm's
    running statistics) updates the twin's. Called directly (`.forward`), so no module hook sees it."""
    twin = object.__new__(type(module))
    state = dict(module.__dict__)
    state["_parameters"] = {k: None if v is None else v.detach().to("meta") for k, v in module._parameters.items()}
    state["_buffers"] = {k: None if v is None else v.to("meta") for k, v in module._buffers.items()}
    state["_modules"] = {}
    twin.__dict__.update(state)
    return twin


_NEXT_SEQUENCE_NR = getattr(torch._C._autograd, "_get_sequence_nr", None)  # the number the next node will take


def _sequence_now() -> int | None:
    """The sequence number of the newest autograd node (the next one takes a higher one); None with grad mode
    off. Read without making a node (0.15 us, where a probe view costs 3 us and takes a number of its own)."""
    if not torch.is_grad_enabled():
        return None
    if _NEXT_SEQUENCE_NR is not None:
        return int(_NEXT_SEQUENCE_NR()) - 1
    probe = _PROBE.view_as(_PROBE).grad_fn
    return probe._sequence_nr() if probe is not None else None


_PROBE = torch.empty((), requires_grad=True)


class _ModuleHooks:
    """While a program runs, every built-in nn layer call is planned (size, FLOPs) and its output recorded.

    Every module call (the program's own modules too) is also noted in `calls` with the range of autograd
    sequence numbers it created, so the graph can fold one module call into one box and name it.
    """

    def __init__(self, rt: guards.Runtime, calls: list[ModuleCall] | None = None) -> None:
        self.rt = rt
        self.planning = False
        self.calls = calls
        self.stack: list[ModuleCall] = []
        reg = nn.modules.module
        self.handles = [reg.register_module_forward_pre_hook(self.before),
                        reg.register_module_forward_hook(self.after)]  # fmt: skip

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def _enter(self, module: nn.Module) -> None:
        lo = _sequence_now()
        if lo is not None:
            self.stack.append(ModuleCall(module, lo, self.stack[-1] if self.stack else None))

    def _leave(self, module: nn.Module) -> None:
        while self.stack:  # a call that raised never reached its post hook: drop it with its children
            call = self.stack.pop()
            if call.module is module:
                hi = _sequence_now()
                if hi is not None and hi > call.lo and self.calls is not None:  # it made a node
                    call.hi = hi + 1
                    self.calls.append(call)
                    if len(self.calls) > MAX_MODULE_CALLS:  # a long loop: the graph shows the last calls
                        del self.calls[: MAX_MODULE_CALLS // 2]
                return

    def before(self, module: nn.Module, args: tuple) -> None:
        if self.planning:
            return
        if self.calls is not None:
            self._enter(module)
        if self.rt._is_user_class(type(module)) or module._modules:
            return  # the program's own modules run guarded op by op; containers' layers come one by one
        if self.rt.budget.plan_layer(module, args):
            return
        cfg = tuple((k, v) for k, v in module.__dict__.items() if type(v) in (int, float, bool, str, tuple))
        tensors = tuple((k, v.shape, v.dtype, v.device.type) for k, v in (*module._parameters.items(),
                        *module._buffers.items()) if v is not None)  # fmt: skip
        fid = ("module", type(module), cfg, tensors)  # what its compute depends on: equal layers share a plan

        def on_meta(*meta_args: Any) -> Any:
            self.planning = True
            try:
                try:  # a shallow copy holding meta weights runs its forward in ~50 us
                    return _meta_twin(module).forward(*meta_args)
                except (RuntimeError, TypeError, ValueError, AttributeError):  # a layer that keeps its weights
                    pass  # elsewhere too (an LSTM's flat weights): reparametrized by torch, ~10x slower
                state = {k: v.to("meta") for k, v in (*module.named_parameters(), *module.named_buffers())}
                return torch.func.functional_call(module, state, meta_args)
            finally:
                self.planning = False

        if key_part(args) is None:
            return
        self.rt.budget.plan(fid, on_meta, args, {})

    def after(self, module: nn.Module, args: tuple, out: Any) -> None:
        if self.planning:
            return
        if self.calls is not None:
            self._leave(module)
        if self.rt.on_value is not None:
            self.rt.on_value(out)
