"""Finite-difference check, in float64, of every leaf's gradient at a program's first backward call.

Every number reported is JSON-safe (inf and NaN as strings, core.tensorjson.finite_or_str), and every
disagreement gets a reason where one can be shown from the numbers themselves:

- "kink": the left and right one-sided differences disagree and autograd's value lies between them, so
  the function is not differentiable there; autograd returns one valid subgradient, the central difference
  sees their average (relu/abs/clamp at the kink, max/sort with ties).
- "triangle": an op that reads one triangle of a symmetric matrix (eigvalsh, eigh, cholesky); autograd
  returns the symmetric gradient, finite differences see the triangle that was read. The sums over each
  (i, j), (j, i) pair agree.
- "domain": autograd's gradient is finite but f is inf/NaN a step away (log near 0): the finite difference
  crosses the edge of the function's domain.
- "nonfinite_*": autograd's own gradient is inf (sqrt at 0: not differentiable there) or NaN (the masked
  branch of torch.where had an infinite derivative, and 0 * inf = nan in where's backward).
"""

from __future__ import annotations

import ast
import math
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from core.graph import reachable
from core.sandbox.errors import SandboxError
from core.sandbox.interpreter import Interpreter, StopProgram
from core.sandbox.session import program_context, resolve_device
from core.sandbox.validate import parse
from core.tensorjson import finite_or_str

EPS = 1e-6  # central-difference step in float64 (relative to max(1, |x|)): error ~ EPS^2 * f''' + rounding / EPS
ATOL, RTOL = 1e-5, 1e-4  # float64 central differences agree with autograd to far better than this on smooth ops
KINK_RTOL = 1e-3  # one-sided differences of a smooth function differ by ~ EPS * f''; a kink makes them differ by O(1)
ROUNDING = 4 * torch.finfo(torch.float64).eps  # relative rounding of f, per run, that the step has to rise above
EXPLAINED = ("ok", "kink", "triangle", "domain")  # autograd's number is right; the finite difference cannot match it
MAX_CHECKED_ELEMENTS = 64  # per program: each element costs two more runs of the program

_LOW_FLOATS = (torch.float32, torch.float16, torch.bfloat16)
_LOW_METHODS = {torch.Tensor.float, torch.Tensor.half, torch.Tensor.bfloat16}

# grad_fn classes that are not differentiable everywhere, and how to tell (from saved values) that the point is on
# the kink; None: cannot be told from what the node saves, the one-sided differences decide
KINK_OPS = {
    "ReluBackward0": None, "AbsBackward0": "self_zero", "ClampBackward1": "clamp", "ClampMinBackward0": "clamp",
    "ClampMaxBackward0": "clamp", "HardtanhBackward0": None, "LeakyReluBackward0": "self_zero",
    "ThresholdBackward0": None, "MaxBackward0": None, "MinBackward0": None, "MaxBackward1": "ties",
    "MinBackward1": "ties", "MaximumBackward0": "equal", "MinimumBackward0": "equal", "SortBackward0": None,
    "TopkBackward0": None, "AmaxBackward0": "ties", "AminBackward0": "ties", "MedianBackward0": None,
    "MedianBackward1": None, "KthvalueBackward0": None, "CummaxBackward0": None, "CumminBackward0": None,
    "NormBackward1": None, "LinalgVectorNormBackward0": None,
}  # fmt: skip
TRIANGLE_OPS = {"LinalgEighBackward0", "LinalgCholeskyExBackward0", "CholeskyBackward0", "SymeigBackward0"}


class _Stop(StopProgram):
    """Raised at the first backward call: the program's work for the check is done."""

    def __init__(self, f: torch.Tensor) -> None:
        super().__init__("stop")
        self.f = f


class Float64Mode(TorchFunctionMode):
    """Turns explicit low-precision float dtypes into float64: `dtype=torch.float32` in any call (factories,
    layers, .to), `.to(torch.float16)`, `.float()`, `.half()`, `.bfloat16()`. `promoted` lists what it changed."""

    def __init__(self) -> None:
        super().__init__()
        self.promoted: set[str] = set()

    def _swap(self, v: Any) -> Any:
        if isinstance(v, torch.dtype) and v in _LOW_FLOATS:
            self.promoted.add(str(v).removeprefix("torch."))
            return torch.float64
        return v

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        kwargs = dict(kwargs or {})
        if "dtype" in kwargs:
            kwargs["dtype"] = self._swap(kwargs["dtype"])
        if func in _LOW_METHODS:
            self.promoted.add(func.__name__)
            return torch.Tensor.double(*args)
        if func is torch.Tensor.to or func is torch.Tensor.type:
            args = tuple(self._swap(a) for a in args)
        return func(*args, **kwargs)


def _low_precision(dtype: torch.dtype) -> bool:
    """Checked in less than double precision (float64 and complex128 are full precision)."""
    return dtype not in (torch.float64, torch.complex128)


def _leaf_tensors(name: str, value: Any) -> list[tuple[str, torch.Tensor]]:
    if isinstance(value, torch.Tensor):
        return [(name, value)] if value.is_leaf and value.requires_grad else []
    if isinstance(value, torch.nn.Module):
        return [(f"{name}.{p}", t) for p, t in value.named_parameters() if t.requires_grad]
    return []


class _Run:
    """One run of the program in float64 up to its first backward: the leaves (with their values as assigned),
    and f = sum(root * grad_output)."""

    def __init__(self, tree: ast.Module, dev: torch.device, nudge: tuple[int, int, float] | None) -> None:
        self.leaves: list[tuple[str, torch.Tensor]] = []
        self.start: list[torch.Tensor] = []  # each leaf's flat values when it was assigned, before any nudge
        self.promoted: set[str] = set()
        seen: set[int] = set()

        def on_assign(name: str, value: Any) -> None:
            for label, t in _leaf_tensors(name, value):
                if id(t) in seen:
                    continue
                seen.add(id(t))
                with torch.no_grad():
                    self.start.append(t.detach().reshape(-1).to("cpu", torch.float64, copy=True))
                    if nudge is not None and nudge[0] == len(self.leaves):
                        t.view(-1)[nudge[1]] += nudge[2]
                self.leaves.append((label, t))

        def on_backward(kind: str, roots: list[torch.Tensor], grad_outputs: list[Any], call: Any) -> Any:
            f = torch.zeros((), dtype=torch.float64, device=dev)
            for root, g in zip(roots, grad_outputs):
                if not root.requires_grad:
                    continue
                term = root if g is None else root * g
                f = f + term.sum().to(torch.float64)
            raise _Stop(f)

        interp = Interpreter(on_backward=on_backward, on_assign=on_assign)
        mode = Float64Mode()
        try:
            with program_context(dev, torch.float64), mode:
                interp.run(tree)  # the run that raises _Stop is the normal end
        except _Stop as stop:
            self.f = stop.f
            self.promoted = mode.promoted
            return
        raise SandboxError.of("runtime", "sb_no_backward")

    def value(self) -> float:
        return float(self.f.detach().item())


def _checked_indices(sizes: list[int]) -> list[list[int]]:
    """Which flat elements of each leaf to check: all of them while the total fits, evenly spaced otherwise."""
    total = sum(sizes)
    if total <= MAX_CHECKED_ELEMENTS:
        return [list(range(n)) for n in sizes]
    out = []
    for n in sizes:
        k = max(1, round(MAX_CHECKED_ELEMENTS * n / total))
        out.append(sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)}))
    return out


def _step(x: float, f0: float) -> float:
    """The nudge for an element at x when f is about f0: relative to |x| (x + EPS must differ from x), and grown
    with |f0|^(1/3) so that a large constant in f does not drown the difference in rounding (the optimal step of a
    central difference scales as (rounding of f)^(1/3))."""
    scale = max(1.0, abs(x)) if math.isfinite(x) else 1.0
    grow = max(1.0, abs(f0)) ** (1 / 3) if math.isfinite(f0) else 1.0
    return EPS * scale * grow


def _graph_facts(f: torch.Tensor) -> dict[str, Any]:
    """What in the graph of f can explain a disagreement: kink ops (and whether one sits at its kink), ops that
    read a triangle, torch.where, and ops whose derivative can be infinite."""
    kinks: dict[str, bool] = {}  # op -> some input provably at the kink
    triangle: set[str] = set()
    where = False
    for node in reachable(f):
        cls = type(node).__name__
        if cls in TRIANGLE_OPS:
            triangle.add(cls)
        if cls == "WhereBackward0":
            where = True
        if cls in KINK_OPS:
            kinks[cls] = kinks.get(cls, False) or _at_kink(node, KINK_OPS[cls])
    return {"kink_ops": kinks, "triangle_ops": sorted(triangle), "where": where}


def _at_kink(node: Any, how: str | None) -> bool:
    try:
        if how == "self_zero":
            return bool((node._saved_self == 0).any())
        if how == "clamp":
            x = node._saved_self
            lo = getattr(node, "_saved_min", None)
            hi = getattr(node, "_saved_max", None)
            return bool(any(b is not None and (x == b).any() for b in (lo, hi)))
        if how == "ties":
            return bool((node._saved_self == node._saved_result).sum() > 1)
        if how == "equal":
            return bool((node._saved_self == node._saved_other).any())
    except (RuntimeError, AttributeError, TypeError):
        return False
    return False


def _classify(auto: float, central: float, fwd: float, bwd: float, tol: float, noise: float) -> str:
    """ok | kink | domain | nonfinite | mismatch for one element."""
    if math.isfinite(auto) and not math.isfinite(central):
        return "domain"  # f is inf/nan a step away: the point sits at the edge of the function's domain
    if not all(math.isfinite(v) for v in (auto, central)):
        return "nonfinite"
    if abs(auto - central) <= tol:
        return "ok"
    if math.isfinite(fwd) and math.isfinite(bwd):
        gap = abs(fwd - bwd)
        if gap > KINK_RTOL * max(1.0, abs(fwd), abs(bwd)) + 2 * noise:
            lo, hi = min(fwd, bwd), max(fwd, bwd)
            slack = tol + noise + 1e-3 * gap
            if lo - slack <= auto <= hi + slack:
                return "kink"
    return "mismatch"


def _triangle_pairs(shape: list[int], idx: list[int], auto: list[float], num: list[float], tol: float) -> bool:
    """For a (batch of) square matrices fully checked: autograd and finite differences agree on a[i,j] + a[j,i]."""
    if len(shape) < 2 or shape[-1] != shape[-2] or len(idx) != math.prod(shape):
        return False
    a = torch.tensor(auto, dtype=torch.float64).reshape(shape)
    n = torch.tensor(num, dtype=torch.float64).reshape(shape)
    if not (torch.isfinite(a).all() and torch.isfinite(n).all()):
        return False
    sa, sn = a + a.transpose(-1, -2), n + n.transpose(-1, -2)
    return bool(torch.all((sa - sn).abs() <= tol + RTOL * sn.abs()))


def _nonfinite_reason(auto: float, facts: dict[str, Any]) -> str:
    if math.isnan(auto) and facts["where"]:
        return "where"  # the branch torch.where did not take had an infinite derivative: 0 * inf = nan
    return "auto_inf" if math.isinf(auto) else "auto_nan"


def check_program(source: str, device: str = "cpu") -> dict[str, Any]:
    """{'ok', 'passed', 'verdict': 'pass' | 'explained' | 'fail', 'promoted': [...], 'leaves': [{'name', 'shape',
    'dtype', 'checked', 'of', 'indices', 'autograd', 'numeric', 'left', 'right', 'steps', 'status', 'notes',
    'max_abs_error', 'max_rel_error', 'passed', 'explained', 'low_precision'}], 'eps', 'atol', 'rtol'}.

    `passed`: every checked element agrees; `explained`: every disagreement has a reason in `notes`."""
    try:
        tree = parse(source)
        dev = resolve_device(device)
        base = _Run(tree, dev, None)
        f = base.f
        if not f.requires_grad:
            raise SandboxError.of("runtime", "sb_root_no_leaf")
        f0 = base.value()
        tensors = [t for _, t in base.leaves]
        facts = _graph_facts(f)  # before grad frees the saved values it reads
        grads = torch.autograd.grad(f, tensors, allow_unused=True)
        report = []
        for (k, (name, t)), idx in zip(enumerate(base.leaves), _checked_indices([t.numel() for t in tensors])):
            g = grads[k]
            entry: dict[str, Any] = {
                "name": name,
                "shape": list(t.shape),
                "dtype": str(t.dtype).removeprefix("torch."),
                "low_precision": _low_precision(t.dtype),
            }
            if g is None:
                entry.update(passed=True, explained=True, unused=True, checked=0, notes=[])
                report.append(entry)
                continue
            entry.update(_check_leaf(tree, dev, k, idx, g, base, f0, facts))
            report.append(entry)
        passed = all(e["passed"] for e in report)
        explained = all(e["passed"] or e["explained"] for e in report)
        return {
            "ok": True,
            "passed": passed,
            "verdict": "pass" if passed else ("explained" if explained else "fail"),
            "f": finite_or_str(f0),
            "promoted": sorted(base.promoted),
            "facts": _facts_json(facts),
            "eps": EPS,
            "atol": ATOL,
            "rtol": RTOL,
            "leaves": report,
        }
    except SandboxError as e:
        return {"ok": False, "error": e.to_json()}


def _facts_json(facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "kink_ops": sorted(facts["kink_ops"]),
        "at_kink": sorted(k for k, v in facts["kink_ops"].items() if v),
        "triangle_ops": facts["triangle_ops"],
        "where": facts["where"],
    }


def _check_leaf(
    tree: ast.Module,
    dev: torch.device,
    k: int,
    idx: list[int],
    g: torch.Tensor,
    base: _Run,
    f0: float,
    facts: dict[str, Any],
) -> dict[str, Any]:
    t = base.leaves[k][1]
    auto_all = g.reshape(-1).detach().to("cpu", torch.float64)
    start = base.start[k]
    auto, central, left, right, steps, status = [], [], [], [], [], []
    abs_errs, rel_errs = [], []
    noise_f = ROUNDING * max(1.0, abs(f0)) if math.isfinite(f0) else 0.0
    for i in idx:
        h = _step(float(start[i]), f0)
        f_plus = _Run(tree, dev, (k, i, h)).value()
        f_minus = _Run(tree, dev, (k, i, -h)).value()
        c = (f_plus - f_minus) / (2 * h)
        fwd, bwd = (f_plus - f0) / h, (f0 - f_minus) / h
        a = float(auto_all[i])
        noise = noise_f / h
        tol = ATOL + RTOL * abs(c) + noise if math.isfinite(c) else 0.0
        status.append(_classify(a, c, fwd, bwd, tol, noise))
        err = abs(a - c) if math.isfinite(a) and math.isfinite(c) else math.inf
        abs_errs.append(err)
        rel_errs.append(err / max(abs(c), 1e-12) if math.isfinite(err) else math.inf)
        auto.append(a)
        central.append(c)
        left.append(bwd)
        right.append(fwd)
        steps.append(h)
    notes: list[dict[str, Any]] = []
    kink_at = [i for i, s in zip(idx, status) if s == "kink"]
    if kink_at:
        at_kink = sorted(op for op, hit in facts["kink_ops"].items() if hit)  # seen sitting on their kink
        notes.append({"code": "kink", "indices": kink_at, "ops": at_kink or sorted(facts["kink_ops"]) or ["?"]})
    bad = [i for i, s in zip(idx, status) if s == "mismatch"]
    if bad and facts["triangle_ops"] and _triangle_pairs(list(t.shape), idx, auto, central, ATOL + 1e-4):
        notes.append({"code": "triangle", "indices": bad, "ops": facts["triangle_ops"]})
        status = ["triangle" if s == "mismatch" else s for s in status]
        bad = []
    nonfinite = [(i, a) for i, a, s in zip(idx, auto, status) if s == "nonfinite"]
    if nonfinite:
        reasons: dict[str, list[int]] = {}
        for i, a in nonfinite:
            reasons.setdefault(_nonfinite_reason(a, facts), []).append(i)
        for code, at in reasons.items():
            notes.append({"code": f"nonfinite_{code}", "indices": at})
    domain = [i for i, s in zip(idx, status) if s == "domain"]
    if domain:
        notes.append({"code": "domain", "indices": domain})
    if bad:
        notes.append({"code": "mismatch", "indices": bad})
    if _low_precision(t.dtype):
        notes.append({"code": "low_precision", "dtype": str(t.dtype).removeprefix("torch.")})
    passed = all(s == "ok" for s in status)
    j = [finite_or_str(float(v)) for v in auto]
    return {
        "passed": passed,
        "explained": not passed and all(s in EXPLAINED for s in status),
        "unused": False,
        "checked": len(idx),
        "of": t.numel(),
        "indices": idx,
        "autograd": j,
        "numeric": [finite_or_str(v) for v in central],
        "left": [finite_or_str(v) for v in left],
        "right": [finite_or_str(v) for v in right],
        "steps": steps,
        "status": status,
        "notes": notes,
        "max_abs_error": finite_or_str(max(abs_errs)),
        "max_rel_error": finite_or_str(max(rel_errs)),
    }
