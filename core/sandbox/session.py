"""One evaluation inside a worker: run the program under the guard and tracer, then describe it as JSON."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from core import tensorjson
from core.sandbox.errors import SandboxError
from core.sandbox.guard import ResourceGuard
from core.sandbox.interpreter import Interpreter, bounded_text
from core.sandbox.validate import parse
from core.trace import Tracer

DEFAULT_SEED = 0  # every run starts from the same RNG state, so a program gives the same numbers each time


class BackwardLog:
    """Wraps every backward call of a program with a recorder of the engine's real order."""

    def __init__(self, record: bool = True) -> None:
        self.record = record
        self.passes: list[dict[str, Any]] = []  # {"kind", "roots", "recorder"}

    def __call__(self, kind: str, roots: list[torch.Tensor], grad_outputs: list[Any], call: Any) -> Any:
        if not self.record:
            return call()
        from torch.utils._python_dispatch import _disable_current_modes

        from core.backward import BackwardRecorder

        with _disable_current_modes():  # snapshots of saved tensors are bounded by the graph, not user-sized ops
            recorder = BackwardRecorder(roots)
        self.passes.append({"kind": kind, "roots": list(roots), "recorder": recorder})
        try:
            return call()
        finally:
            recorder.remove()


def resolve_device(name: str) -> torch.device:
    """'cpu' / 'cuda' / 'cuda:N' -> torch.device, with a clear error when no GPU is present."""
    try:
        dev = torch.device(name or "cpu")
    except (RuntimeError, TypeError):
        raise SandboxError("runtime", f"unknown device '{name}'") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise SandboxError("runtime", "this server has no GPU; choose the 'cpu' device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise SandboxError("runtime", f"there is no GPU {dev.index}; this server has {torch.cuda.device_count()}")
    elif dev.type != "cpu":
        raise SandboxError("runtime", f"device '{name}' is not supported; use 'cpu' or 'cuda'")
    return dev


@contextmanager
def program_context(dev: torch.device, dtype: torch.dtype | None = None) -> Iterator[None]:
    """The state every run of a program starts from (seeded RNG, device, default dtype) under the resource
    guard, and the process-global settings a program can change put back afterwards."""
    torch.manual_seed(DEFAULT_SEED)
    grad_enabled = torch.is_grad_enabled()
    if dtype is not None:
        torch.set_default_dtype(dtype)
    if dev.type != "cpu":  # CPU is the default already; the device mode costs every op a detour
        torch.set_default_device(dev)
    try:
        with ResourceGuard(dev):
            yield
    finally:
        torch.set_default_device(None)
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(grad_enabled)  # a bare `torch.set_grad_enabled(False)` must not outlive the run


def execute(source: str, device: str = "cpu", with_graph: bool = True) -> dict[str, Any]:
    """Validate and run `source`; returns the DESIGN.md result object (ok true, or ok false with an error)."""
    started = time.perf_counter()
    interp: Interpreter | None = None
    log = BackwardLog(record=with_graph)
    tracer = Tracer()
    try:
        tree = parse(source)
        dev = resolve_device(device)
        interp = Interpreter(on_backward=log)
        with program_context(dev), tracer:
            interp.run(tree)
        result: dict[str, Any] = {"ok": True, "device": str(dev)}
    except SandboxError as e:
        result = {"ok": False, "device": device, "error": e.to_json()}
    if interp is not None and (result["ok"] or result["error"]["kind"] == "runtime"):
        try:
            result.update(describe(interp, tracer, log, with_graph))
        except SandboxError as e:
            result = {"ok": False, "device": device, "error": e.to_json()}
        except Exception as e:  # noqa: BLE001  describing must not lose the run's own result
            result["describe_error"] = f"{type(e).__name__}: {e}"
    result["stdout"] = "".join(interp.stdout) if interp else ""
    result["stats"] = {"ops": tracer.ops, "ms": round((time.perf_counter() - started) * 1000, 2)}
    return result


def describe(interp: Interpreter, tracer: Tracer, log: BackwardLog, with_graph: bool) -> dict[str, Any]:
    """Variables, graph, backward steps of a finished (or stopped) program, as JSON."""
    variables: dict[str, Any] = {}
    tensors: dict[str, torch.Tensor] = {}
    for name, value in interp.env.items():
        try:
            entry = describe_value(value)
        except Exception as e:  # noqa: BLE001  one odd value must not hide the others
            entry = {"type": type(value).__name__, "repr": f"(cannot be shown: {type(e).__name__})"}
        if entry is not None:
            variables[name] = entry
        if isinstance(value, torch.Tensor):
            tensors[name] = value
    out: dict[str, Any] = {"variables": variables}
    if with_graph:
        out.update(graph_json(tensors, tracer, log))
    return out


def graph_json(tensors: dict[str, torch.Tensor], tracer: Tracer, log: BackwardLog) -> dict[str, Any]:
    """The graph of every tensor the program built (and every backward root), with the recorded steps."""
    from core import backward as bw
    from core import graph as gr

    roots: list[torch.Tensor] = []
    seen: set[int] = set()
    for p in log.passes:
        for t in p["roots"]:
            if id(t) not in seen:
                seen.add(id(t))
                roots.append(t)
    for t in tensors.values():
        if (t.grad_fn is not None or t.requires_grad) and id(t) not in seen:
            seen.add(id(t))
            roots.append(t)
    named_ids = {id(t) for t in tensors.values()}
    for _t, _reason, src in tracer.cuts:  # what a named constant was cut from is part of the picture
        if id(_t) in named_ids and id(src) not in seen:
            seen.add(id(src))
            roots.append(src)
    grads: dict[Any, Any] = {}
    saved: dict[Any, Any] = {}
    for p in log.passes:
        grads.update(p["recorder"].grads)
        for node, items in p["recorder"].saved.items():
            saved.setdefault(node, items)
    values = {node: v for node, v in tracer.values.items() if isinstance(v, torch.Tensor)}
    graph = gr.build(roots, names=tensors, values=values, grads=grads, saved=saved or None)
    steps: list[dict[str, Any]] = []
    passes: list[dict[str, Any]] = []
    for i, p in enumerate(log.passes):
        pass_steps = bw.steps_to_json(p["recorder"].steps, graph)
        for s in pass_steps:
            s["pass"] = i
        passes.append({"kind": p["kind"], "start": len(steps), "count": len(pass_steps)})
        steps.extend(pass_steps)
    for i, s in enumerate(steps):
        s["index"] = i
    graph_dict = graph.to_json()
    _add_cuts(graph_dict, graph, tensors, tracer)
    out: dict[str, Any] = {
        "graph": graph_dict,
        "backward_order": [s["node"] for s in steps if s["node"] is not None],
        "backward_steps": steps,
        "backward_passes": passes,
    }
    higher = [t.grad for t in tensors.values() if t.is_leaf and t.grad is not None and t.grad.grad_fn is not None]
    if higher:
        names = {f"{n}.grad": t.grad for n, t in tensors.items() if t.is_leaf and t.grad is not None}
        names.update(tensors)
        out["grad_graph"] = gr.build(higher, names=names, values=values, grads=grads).to_json()
    return out


def _add_cuts(graph_dict: dict[str, Any], graph: Any, tensors: dict[str, torch.Tensor], tracer: Tracer) -> None:
    """Named tensors computed under no_grad or by detach() from the graph: drawn as constants behind a cut edge."""
    by_id = {id(t): (t, reason, src) for t, reason, src in tracer.cuts}
    for name, t in tensors.items():
        hit = by_id.get(id(t))
        if hit is None or t.requires_grad:
            continue
        _, reason, src = hit
        src_id = graph.id_of(src.grad_fn if src.grad_fn is not None else src)
        if src_id is None:
            continue
        node: dict[str, Any] = {
            "id": f"cut_{name}", "kind": "cut", "name": reason, "grad_fn": None, "label": name,
            "shape": list(t.shape), "dtype": tensorjson.dtype_name(t.dtype), "value": tensorjson.values(t),
            "grad": None, "saved": {},
        }  # fmt: skip
        if node["value"] is None:
            node["summary"] = tensorjson.summary(t)
        graph_dict["nodes"].append(node)
        graph_dict["edges"].append({"src": src_id, "dst": node["id"], "shape": list(t.shape), "cut": reason})


def describe_value(value: Any) -> dict[str, Any] | None:
    """A JSON record of one variable: tensors in full, numbers and short lists as values, others as text."""
    if isinstance(value, torch.Tensor):
        return {"type": "tensor", **tensorjson.describe(value)}
    if isinstance(value, bool) or value is None:
        return {"type": type(value).__name__, "value": value}
    if isinstance(value, (int, float)):
        return {"type": type(value).__name__, "value": tensorjson.finite_or_str(float(value))
                if isinstance(value, float) else (value if abs(value) < 2**53 else str(value))}
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, (torch.Size, torch.dtype, torch.device, complex)) or _is_return_type(value):
        return {"type": type(value).__name__, "repr": str(value)}
    if isinstance(value, (list, tuple)):
        text = bounded_text(value, 2_000, as_repr=True, complete=False)  # iterative and bounded: lists can share rows
        return {"type": type(value).__name__, "repr": text if len(text) < 2_000 else text + " ..."}
    if isinstance(value, torch.nn.Module):
        n = sum(p.numel() for p in value.parameters())
        return {"type": "module", "repr": _short(str(value)), "parameters": n}
    if isinstance(value, torch.optim.Optimizer):
        return {"type": "optimizer", "repr": _short(type(value).__name__)}
    return None


def _short(text: str, limit: int = 2_000) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def _is_return_type(value: Any) -> bool:
    return type(value).__module__ == "torch.return_types"
