"""Each op's local derivative rule, computed with the op's own saved tensors and arguments.

`local_terms(grad_fn_class, saved, incoming, shapes)` returns, for every input of the node (in next_functions
order), a `Term`: the gradient that input should receive by the rule, written out as a formula with names and
with numbers. The formulas are plain tensor arithmetic (no autograd, no backward kernels): comparing their result
with what the engine sent (core.backward.substitute) checks the rule against PyTorch, step by step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from core.numfmt import fmt_number

D = torch.float64
MAX_COMPUTED_ELEMENTS = 1 << 16  # per saved tensor: above this the rule is not recomputed (it costs a backward)
SUBSTITUTED_ELEMENTS = 6  # operands this small are written out with their numbers
RULE_DIGITS = 4  # significant digits of a number written into a rule (a formula to read, not a value table)


@dataclass
class Term:
    """What one input receives: `label = template(names) = template(numbers) = value`."""

    label: str  # e.g. "grad_x"
    template: str  # e.g. "{g} · {n} · {x}^{m}"
    names: dict[str, str]  # placeholder -> symbol, e.g. {"g": "grad", "x": "x", "n": "3", "m": "2"}
    values: dict[str, Any]  # placeholder -> tensor or number to write in the numeric version
    value: torch.Tensor  # the gradient the rule gives

    def symbolic(self) -> str:
        return self.template.format(**self.names)

    def numeric(self) -> str:
        return self.template.format(
            **{k: fmt(v) for k, v in self.values.items()}
            | {k: v for k, v in self.names.items() if k not in self.values}
        )

    def small(self) -> bool:
        sizes = [v.numel() for v in self.values.values() if isinstance(v, torch.Tensor)] + [self.value.numel()]
        return max(sizes) <= SUBSTITUTED_ELEMENTS


def fmt(v: Any) -> str:
    """Numbers as a student would write them in a formula: 36 not 36.0, RULE_DIGITS significant digits (through
    core.numfmt, so tiny and huge values read in scientific notation), nested brackets for tensors."""
    if isinstance(v, torch.Tensor):
        return fmt(v.detach().cpu().tolist())
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isnan(v) and not math.isinf(v) and v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return fmt_number(v, "float64", digits=RULE_DIGITS)  # the app's one look: 1e-45, not 0.000
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt(x) for x in v) + ")"
    return str(v)


def signed(v: int) -> int:
    """A saved int64 read back as unsigned (ignore_index=-100 shows as 2**64 - 100): its signed value."""
    return v - (1 << 64) if isinstance(v, int) and v >= 1 << 63 else v


def _d(t: Any) -> Any:
    return t.to(D) if isinstance(t, torch.Tensor) and t.is_floating_point() else t


def _sum_to(t: torch.Tensor, shape: list[int] | None) -> torch.Tensor:
    """Sum a gradient back over the dimensions that broadcasting added or stretched."""
    if shape is None or list(t.shape) == list(shape):
        return t
    return t.sum_to_size(shape) if len(shape) else t.sum()


def _dims(dim: Any, ndim: int) -> list[int]:
    dims = list(dim) if isinstance(dim, (list, tuple)) else [dim]
    return sorted(d % ndim for d in dims) if dims else list(range(ndim))


Rule = Callable[[dict[str, Any], torch.Tensor, list[Any]], list[Term | None]]
RULE_FNS: dict[str, Rule] = {}


def rule(*classes: str) -> Callable[[Rule], Rule]:
    def put(fn: Rule) -> Rule:
        for c in classes:
            RULE_FNS[c] = fn
        return fn

    return put


G = {"g": "grad"}


@rule("AddBackward0")
def _add(sv, g, shapes):
    a = sv.get("alpha", 1)
    second = Term("grad_y", "{g}" if a == 1 else "{a} · {g}", G | {"a": fmt(a)}, {"g": g}, _sum_to(a * g, shapes[1]))
    return [Term("grad_x", "{g}", G, {"g": g}, _sum_to(g, shapes[0])), second]


@rule("SubBackward0")
def _sub(sv, g, shapes):
    a = sv.get("alpha", 1)
    second = Term("grad_y", "-{g}" if a == 1 else "-{a} · {g}", G | {"a": fmt(a)}, {"g": g}, _sum_to(-a * g, shapes[1]))
    return [Term("grad_x", "{g}", G, {"g": g}, _sum_to(g, shapes[0])), second]


@rule("RsubBackward0")
def _rsub0(sv, g, shapes):  # rsub(x, y) = y - alpha * x
    a = sv.get("alpha", 1)
    return [
        Term("grad_x", "-{a} · {g}", G | {"a": fmt(a)}, {"g": g}, _sum_to(-a * g, shapes[0])),
        Term("grad_y", "{g}", G, {"g": g}, _sum_to(g, shapes[1])),
    ]


@rule("RsubBackward1")
def _rsub1(sv, g, shapes):  # c - alpha * x
    a = sv.get("alpha", 1)
    return [Term("grad_x", "-{g}" if a == 1 else "-{a} · {g}", G | {"a": fmt(a)}, {"g": g}, _sum_to(-a * g, shapes[0]))]


@rule("MulBackward0", "MulBackward1")
def _mul(sv, g, shapes):
    x, y = _d(sv.get("self")), _d(sv.get("other"))
    out: list[Term | None] = []
    out.append(
        None if y is None else Term("grad_x", "{g} · {y}", G | {"y": "y"}, {"g": g, "y": y}, _sum_to(g * y, shapes[0]))
    )
    if len(shapes) > 1:
        out.append(
            None
            if x is None
            else Term("grad_y", "{g} · {x}", G | {"x": "x"}, {"g": g, "x": x}, _sum_to(g * x, shapes[1]))
        )
    return out


@rule("DivBackward0", "DivBackward1")
def _div(sv, g, shapes):
    x, y = _d(sv.get("self")), _d(sv.get("other"))
    out: list[Term | None] = [
        None if y is None else Term("grad_x", "{g} / {y}", G | {"y": "y"}, {"g": g, "y": y}, _sum_to(g / y, shapes[0]))
    ]
    if len(shapes) > 1:
        out.append(
            None
            if x is None or y is None
            else Term(
                "grad_y",
                "-{g} · {x} / {y}²",
                G | {"x": "x", "y": "y"},
                {"g": g, "x": x, "y": y},
                _sum_to(-g * x / y**2, shapes[1]),
            )
        )
    return out


@rule("NegBackward0")
def _neg(sv, g, shapes):
    return [Term("grad_x", "-{g}", G, {"g": g}, -g)]


@rule("PowBackward0")
def _pow0(sv, g, shapes):
    x, n = _d(sv["self"]), sv["exponent"]
    n = n.item() if isinstance(n, torch.Tensor) else n
    value = g * n * x ** (n - 1) if n != 0 else torch.zeros_like(x)
    names = G | {"n": fmt(n), "m": fmt(n - 1), "x": "x"}
    tpl = "{g} · {n} · {x}" if n - 1 == 1 else "{g} · {n} · {x}^{m}"
    return [Term("grad_x", tpl, names, {"g": g, "x": x}, value)]


@rule("PowBackward1")
def _pow1(sv, g, shapes):
    x, y, r = _d(sv["self"]), _d(sv["exponent"]), _d(sv["result"])
    dx = torch.where(y == 0, torch.zeros_like(x), g * y * x ** (y - 1))
    dy = torch.where((x == 0) & (y >= 0), torch.zeros_like(r), g * r * torch.log(x))
    return [
        Term(
            "grad_x",
            "{g} · {y} · {x}^({y} - 1)",
            G | {"x": "x", "y": "y"},
            {"g": g, "x": x, "y": y},
            _sum_to(dx, shapes[0]),
        ),
        Term(
            "grad_y",
            "{g} · {r} · log({x})",
            G | {"x": "x", "r": "x**y"},
            {"g": g, "x": x, "r": r},
            _sum_to(dy, shapes[1]),
        ),
    ]


@rule("PowBackward2")
def _pow2(sv, g, shapes):
    base, r = sv["self"], _d(sv["result"])
    base = base.item() if isinstance(base, torch.Tensor) else base
    value = g * r * math.log(base) if base > 0 else g * r * float("nan") if base < 0 else torch.zeros_like(r)
    return [Term("grad_y", "{g} · {r} · log({c})", G | {"r": "c**y", "c": fmt(base)}, {"g": g, "r": r}, value)]


def _unary(label_tpl: str, key: str, sym: str, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Rule:
    def ev(sv, g, shapes):
        v = _d(sv[key])
        return [Term("grad_x", label_tpl, G | {"v": sym}, {"g": g, "v": v}, fn(g, v))]

    return ev


RULE_FNS.update({
    "ExpBackward0": _unary("{g} · {v}", "result", "exp(x)", lambda g, r: g * r),
    "LogBackward0": _unary("{g} / {v}", "self", "x", lambda g, x: g / x),
    "SqrtBackward0": _unary("{g} / (2 · {v})", "result", "sqrt(x)", lambda g, r: g / (2 * r)),
    "AbsBackward0": _unary("{g} · sign({v})", "self", "x", lambda g, x: g * torch.sign(x)),
    "SinBackward0": _unary("{g} · cos({v})", "self", "x", lambda g, x: g * torch.cos(x)),
    "CosBackward0": _unary("-{g} · sin({v})", "self", "x", lambda g, x: -g * torch.sin(x)),
    "TanhBackward0": _unary("{g} · (1 - {v}²)", "result", "tanh(x)", lambda g, t: g * (1 - t**2)),
    "SigmoidBackward0": _unary("{g} · {v} · (1 - {v})", "result", "s", lambda g, s: g * s * (1 - s)),
    "ReluBackward0": _unary("{g} · ({v} > 0)", "result", "relu(x)", lambda g, r: g * (r > 0)),
})  # fmt: skip


@rule("SoftmaxBackward0")
def _softmax(sv, g, shapes):
    s, d = _d(sv["result"]), sv["dim"]
    return [
        Term(
            "grad_x",
            "{s} · ({g} - sum({g} · {s}, dim={d}))",
            G | {"s": "s", "d": str(d)},
            {"g": g, "s": s},
            s * (g - (g * s).sum(d, keepdim=True)),
        )
    ]


@rule("LogSoftmaxBackward0")
def _log_softmax(sv, g, shapes):
    r, d = _d(sv["result"]), sv["dim"]
    s = r.exp()
    return [
        Term(
            "grad_x",
            "{g} - {s} · sum({g}, dim={d})",
            G | {"s": "softmax(x)", "d": str(d)},
            {"g": g, "s": s},
            g - s * g.sum(d, keepdim=True),
        )
    ]


@rule("MmBackward0")
def _mm(sv, g, shapes):
    a, b = _d(sv.get("self")), _d(sv.get("mat2"))  # each is saved only when the other input needs a gradient
    return [
        None if b is None else Term("grad_A", "{g} @ {bt}", G | {"bt": "B.T"}, {"g": g, "bt": b.t()}, g @ b.t()),
        None if a is None else Term("grad_B", "{at} @ {g}", G | {"at": "A.T"}, {"g": g, "at": a.t()}, a.t() @ g),
    ]


@rule("BmmBackward0")
def _bmm(sv, g, shapes):
    a, b = _d(sv.get("self")), _d(sv.get("mat2"))
    return [
        None if b is None else Term("grad_A", "{g} @ {bt}", G | {"bt": "B.mT"}, {"g": g, "bt": b.mT}, g @ b.mT),
        None if a is None else Term("grad_B", "{at} @ {g}", G | {"at": "A.mT"}, {"g": g, "at": a.mT}, a.mT @ g),
    ]


@rule("MvBackward0")
def _mv(sv, g, shapes):
    a, v = _d(sv.get("self")), _d(sv.get("vec"))
    da = None if v is None else Term("grad_A", "outer({g}, {v})", G | {"v": "v"}, {"g": g, "v": v}, torch.outer(g, v))
    return [
        da,
        None if a is None else Term("grad_v", "{at} @ {g}", G | {"at": "A.T"}, {"g": g, "at": a.t()}, a.t() @ g),
    ]


@rule("DotBackward0")
def _dot(sv, g, shapes):
    a, b = _d(sv.get("self")), _d(sv.get("tensor"))
    return [
        None if b is None else Term("grad_a", "{g} · {b}", G | {"b": "b"}, {"g": g, "b": b}, g * b),
        None if a is None else Term("grad_b", "{g} · {a}", G | {"a": "a"}, {"g": g, "a": a}, g * a),
    ]


@rule("AddmmBackward0")
def _addmm(sv, g, shapes):
    beta, alpha = sv.get("beta", 1), sv.get("alpha", 1)
    m1, m2 = _d(sv.get("mat1")), _d(sv.get("mat2"))  # each saved only when the other needs a gradient
    bn, an = ("" if beta == 1 else f"{fmt(beta)} · "), ("" if alpha == 1 else f"{fmt(alpha)} · ")
    bias = Term(
        "grad_b",
        bn + "{g}" + (" summed to the bias shape" if shapes[0] != list(g.shape) else ""),
        G,
        {"g": g},
        _sum_to(beta * g, shapes[0]),
    )
    da = (
        None
        if m2 is None
        else Term("grad_A", an + "{g} @ {wt}", G | {"wt": "W.T"}, {"g": g, "wt": m2.t()}, alpha * g @ m2.t())
    )
    dw = (
        None
        if m1 is None
        else Term("grad_W", an + "{at} @ {g}", G | {"at": "A.T"}, {"g": g, "at": m1.t()}, alpha * m1.t() @ g)
    )
    return [bias, da, dw]


@rule("SumBackward0")
def _sum0(sv, g, shapes):
    size = list(sv["self_sym_sizes"])
    return [Term("grad_x", "{g} copied to shape {s}", G | {"s": fmt(tuple(size))}, {"g": g}, g.expand(size))]


@rule("SumBackward1", "MeanBackward1")
def _sum1(sv, g, shapes):
    size = list(sv["self_sym_sizes"])
    dims = _dims(sv["dim"], len(size))
    gg = g
    if not sv.get("keepdim", False):
        for d in dims:
            gg = gg.unsqueeze(d)
    n = math.prod(size[d] for d in dims)
    mean = "self_sym_numel" in sv  # MeanBackward1 saves it, SumBackward1 does not
    value = gg.expand(size) / (n if mean else 1)
    tpl = "{g} copied along dim {d}" + (" / {n}" if mean else "")
    return [Term("grad_x", tpl, G | {"d": fmt(tuple(dims)), "n": str(n)}, {"g": g}, value)]


@rule("MeanBackward0")
def _mean0(sv, g, shapes):
    size, n = list(sv["self_sym_sizes"]), sv["self_sym_numel"]
    return [
        Term(
            "grad_x",
            "{g} / {n} copied to shape {s}",
            G | {"n": str(n), "s": fmt(tuple(size))},
            {"g": g},
            g.expand(size) / n,
        )
    ]


@rule(
    "ViewBackward0",
    "UnsafeViewBackward0",
    "ReshapeAliasBackward0",
    "SqueezeBackward0",
    "SqueezeBackward1",
    "SqueezeBackward2",
    "ExpandBackward0",
)
def _reshape(sv, g, shapes):
    size = list(sv["self_sym_sizes"])
    if math.prod(size) != g.numel():  # expand: sum over the copies
        return [Term("grad_x", "{g} summed back to shape {s}", G | {"s": fmt(tuple(size))}, {"g": g}, _sum_to(g, size))]
    return [Term("grad_x", "{g}.reshape{s}", G | {"s": fmt(tuple(size))}, {"g": g}, g.reshape(size))]


@rule("UnsqueezeBackward0")
def _unsqueeze(sv, g, shapes):
    return [Term("grad_x", "{g}.squeeze({d})", G | {"d": str(sv["dim"])}, {"g": g}, g.squeeze(sv["dim"]))]


@rule("CloneBackward0", "AliasBackward0", "ToCopyBackward0")
def _identity(sv, g, shapes):
    return [Term("grad_x", "{g}", G, {"g": g}, g)]


@rule("TBackward0")
def _t(sv, g, shapes):
    return [Term("grad_x", "{g}.T", G, {"g": g}, g.t() if g.dim() == 2 else g)]


@rule("TransposeBackward0")
def _transpose(sv, g, shapes):
    d0, d1 = sv["dim0"], sv["dim1"]
    return [Term("grad_x", "{g}.transpose({a}, {b})", G | {"a": str(d0), "b": str(d1)}, {"g": g}, g.transpose(d0, d1))]


def inverse_permutation(dims: Any) -> list[int]:
    n = len(dims)
    inv = [0] * n
    for i, d in enumerate(dims):
        inv[d % n] = i
    return inv


@rule("PermuteBackward0")
def _permute(sv, g, shapes):
    inv = inverse_permutation(sv["dims"])
    return [Term("grad_x", "{g}.permute{p}", G | {"p": fmt(tuple(inv))}, {"g": g}, g.permute(inv))]


@rule("SelectBackward0")
def _select(sv, g, shapes):
    size, d, i = list(sv["self_sym_sizes"]), sv["dim"], sv["index"]
    out = torch.zeros(size, dtype=g.dtype)
    out.select(d, i).copy_(g)
    return [
        Term(
            "grad_x",
            "zeros{s} with [{where}] = {g}",
            G | {"s": fmt(tuple(size)), "where": _at(d, str(i))},
            {"g": g},
            out,
        )
    ]


def _at(d: int, what: str) -> str:
    return ", ".join([":"] * d + [what])


@rule("SliceBackward0")
def _slice(sv, g, shapes):
    size, d = list(sv["self_sym_sizes"]), sv["dim"]
    start, end, step = sv["start"], sv["end"], sv["step"]
    start = 0 if start is None else start
    end = size[d] if end is None else min(end, size[d])
    out = torch.zeros(size, dtype=g.dtype)
    idx = [slice(None)] * d + [slice(start, end, step)]
    out[tuple(idx)] = g
    return [
        Term(
            "grad_x",
            "zeros{s} with [{where}] = {g}",
            G | {"s": fmt(tuple(size)), "where": _at(d, f"{start}:{end}" + (f":{step}" if step != 1 else ""))},
            {"g": g},
            out,
        )
    ]


@rule("IndexBackward0")
def _index(sv, g, shapes):
    size = list(sv["self_sym_sizes"])
    idx = tuple(sv["indices"])
    out = torch.zeros(size, dtype=g.dtype).index_put_(idx, g, accumulate=True)
    return [Term("grad_x", "zeros{s}; [index] += {g} (repeats add up)", G | {"s": fmt(tuple(size))}, {"g": g}, out)]


@rule("CatBackward0")
def _cat(sv, g, shapes):
    d = sv["dim"]
    sizes = [s[d % len(s)] if s else 0 for s in shapes]
    pieces = g.split(sizes, d)
    return [
        Term(
            f"grad_x{k}",
            "{g}.split({s}, dim={d})[{k}]",
            G | {"s": fmt(tuple(sizes)), "d": str(d), "k": str(k)},
            {"g": g},
            p,
        )
        for k, p in enumerate(pieces)
    ]


@rule("StackBackward0")
def _stack(sv, g, shapes):
    d = sv["dim"]
    return [
        Term(f"grad_x{k}", "{g}.unbind({d})[{k}]", G | {"d": str(d), "k": str(k)}, {"g": g}, p)
        for k, p in enumerate(g.unbind(d))
    ]


@rule("MaxBackward1", "MinBackward1", "AmaxBackward0", "AminBackward0")
def _max_full(sv, g, shapes):
    x, r = _d(sv["self"]), _d(sv["result"])
    if "dim" in sv:  # amax / amin over dims
        dims = _dims(sv["dim"], x.dim())
        rr, gg = r, g
        if not sv.get("keepdim", False):
            for d in dims:
                rr, gg = rr.unsqueeze(d), gg.unsqueeze(d)
        mask = (x == rr).to(D)
        return [
            Term(
                "grad_x",
                "{g} · ({x} == {r}) / count",
                G | {"x": "x", "r": "extreme"},
                {"g": g, "x": x, "r": r},
                gg * mask / mask.sum(dims, keepdim=True),
            )
        ]
    mask = (x == r).to(D)
    return [
        Term(
            "grad_x",
            "{g} · ({x} == {r}) / {n}",
            G | {"x": "x", "r": "extreme", "n": "ties"},
            {"g": g, "x": x, "r": r, "n": int(mask.sum().item())},
            g * mask / mask.sum(),
        )
    ]


@rule("MaxBackward0", "MinBackward0")
def _max_dim(sv, g, shapes):
    size, d, idx = list(sv["self_sym_sizes"]), sv["dim"], sv["indices"]
    gg, ii = g, idx
    if not sv.get("keepdim", False):
        gg, ii = g.unsqueeze(d), idx.unsqueeze(d)
    out = torch.zeros(size, dtype=g.dtype).scatter_(d, ii, gg)
    names = G | {"s": fmt(tuple(size)), "d": str(d), "i": "index"}
    return [Term("grad_x", "zeros{s}; [{i} along dim {d}] = {g}", names, {"g": g, "i": idx}, out)]


@rule("ClampBackward1", "ClampBackward0", "ClampMinBackward0", "ClampMaxBackward0")
def _clamp(sv, g, shapes):
    x = _d(sv["self"])
    lo, hi = _d(sv.get("min")), _d(sv.get("max"))
    mask = torch.ones_like(x, dtype=torch.bool)
    parts = []
    if lo is not None:
        mask &= x >= lo
        parts.append(f"{fmt(lo)} <= {{x}}")
    if hi is not None:
        mask &= x <= hi
        parts.append(f"{{x}} <= {fmt(hi)}")
    return [Term("grad_x", "{g} · (" + " and ".join(parts) + ")", G | {"x": "x"}, {"g": g, "x": x}, g * mask)]


@rule("MseLossBackward0")
def _mse(sv, g, shapes):
    x, y, red = _d(sv["self"]), _d(sv["target"]), sv["reduction"]
    n = x.numel()
    scale = {0: 1, 1: 1 / n, 2: 1}[red]
    d = 2 * (x - y) * g * scale
    tpl = {0: "{g} · 2 · ({x} - {y})", 1: "{g} · 2 · ({x} - {y}) / {n}", 2: "{g} · 2 · ({x} - {y})"}[red]
    names = G | {"x": "x", "y": "y", "n": str(n)}
    out = [Term("grad_x", tpl, names, {"g": g, "x": x, "y": y}, _sum_to(d, shapes[0]))]
    if len(shapes) > 1:
        out.append(Term("grad_y", "-(" + tpl + ")", names, {"g": g, "x": x, "y": y}, _sum_to(-d, shapes[1])))
    return out


@rule("NllLossBackward0", "NllLoss2DBackward0")
def _nll(sv, g, shapes):
    x, t, w, red = _d(sv["self"]), sv["target"], _d(sv.get("weight")), sv["reduction"]
    ignore = signed(sv["ignore_index"])
    x2 = x if x.dim() > 1 else x.unsqueeze(0)
    t2 = t.reshape(-1) if x.dim() > 1 else t.reshape(1)
    if x2.dim() > 2:  # (N, C, d1, ...) -> rows of C
        x2 = x2.movedim(1, -1).reshape(-1, x2.shape[1])
    c = x2.shape[-1]
    keep = t2 != ignore
    safe_t = torch.where(keep, t2, 0)
    wt = (w[safe_t] if w is not None else torch.ones(len(t2), dtype=D)) * keep
    if red == 0:
        coef = -wt * g.reshape(-1)
    elif red == 1:
        coef = -wt * g / wt.sum()
    else:
        coef = -wt * g
    out = torch.zeros_like(x2)
    out[torch.arange(len(t2)), safe_t] = coef
    if x.dim() > 2:
        out = out.reshape(x.shape[0], *x.shape[2:], c).movedim(-1, 1)
    out = out.reshape(x.shape)
    values: dict[str, Any] = {"g": g}
    names = dict(G)
    if red == 1:
        tpl = "-{w} · {g} / {n}" if w is not None else "-{g} / {n}"
        values["n"] = float(wt.sum())
        names["n"] = "sum_j w[t_j]" if w is not None else "N"
    else:
        tpl = "-{w} · {g}" if w is not None else "-{g}"
    if w is not None:
        values["w"] = wt
        names["w"] = "w[t_i]"
    ign = f"; 0 where t_i == {ignore}" if ignore >= 0 else ""
    return [Term("grad_x[i, t_i]", tpl + ign, names, values, out)]


@rule("ConvolutionBackward0")
def _conv(sv, g, shapes):
    x, w = _d(sv.get("input")), _d(sv.get("weight"))  # each may be unsaved when the other needs no gradient
    x_shape, w_shape = shapes[0] or (list(x.shape) if x is not None else None), shapes[1] or list(w.shape)
    if sv["transposed"] or sv["groups"] != 1 or g.dim() != 4 or x_shape is None:
        return [None] * len(shapes)
    stride, pad, dil = tuple(sv["stride"]), tuple(sv["padding"]), tuple(sv["dilation"])
    n, cout, kernel = g.shape[0], w_shape[0], tuple(w_shape[2:])
    gm = g.reshape(n, cout, -1)  # (N, Cout, L): one column per window position
    out: list[Term | None] = [None, None]
    if w is not None and shapes[0] is not None:
        dcols = torch.einsum("ok,nol->nkl", w.reshape(cout, -1), gm)
        dx = F.fold(dcols, tuple(x_shape[2:]), kernel, dilation=dil, padding=pad, stride=stride)
        out[0] = Term(
            "grad_input",
            "fold(W^T · {g}) (each input pixel sums grad · weight over the windows it was in)",
            G,
            {"g": g},
            dx,
        )
    if x is not None and shapes[1] is not None:
        cols = F.unfold(x, kernel, dilation=dil, padding=pad, stride=stride)  # (N, C*kh*kw, L)
        dw = torch.einsum("nol,nkl->ok", gm, cols).reshape(w_shape)
        out[1] = Term("grad_weight", "sum over windows of {g} · input patch (unfold)", G, {"g": g}, dw)
    if len(shapes) > 2:
        out.append(Term("grad_bias", "{g}.sum((0, 2, 3))", G, {"g": g}, g.sum((0, 2, 3))))
    return out


@rule("MaxPool2DWithIndicesBackward0")
def _max_pool(sv, g, shapes):
    x, idx = sv["self"], sv["result1"]
    flat = torch.zeros(*x.shape[:-2], x.shape[-2] * x.shape[-1], dtype=g.dtype)
    flat.scatter_add_(-1, idx.flatten(-2), g.flatten(-2))
    return [Term("grad_x", "zeros; [argmax of each window] += {g}", G, {"g": g}, flat.reshape(x.shape))]


@rule("NativeBatchNormBackward0")
def _batch_norm(sv, g, shapes):
    x, w, eps = _d(sv["input"]), _d(sv.get("weight")), sv["eps"]
    dims = [d for d in range(x.dim()) if d != 1]
    view = [1, x.shape[1]] + [1] * (x.dim() - 2)
    if sv["training"]:
        mean, invstd = _d(sv["result1"]).reshape(view), _d(sv["result2"]).reshape(view)
    else:
        mean = _d(sv["running_mean"]).reshape(view)
        invstd = (_d(sv["running_var"]) + eps).rsqrt().reshape(view)
    xhat = (x - mean) * invstd
    ww = w.reshape(view) if w is not None else torch.ones(view, dtype=D)
    m = math.prod(x.shape[d] for d in dims)
    if sv["training"]:
        dx = ww * invstd / m * (m * g - g.sum(dims, keepdim=True) - xhat * (g * xhat).sum(dims, keepdim=True))
        tpl = "w · invstd / m · (m · {g} - sum({g}) - x̂ · sum({g} · x̂))"
    else:
        dx = g * ww * invstd
        tpl = "{g} · w / sqrt(running_var + eps)"
    out: list[Term | None] = [Term("grad_x", tpl, G, {"g": g}, dx)]
    if len(shapes) > 1:
        out.append(Term("grad_weight", "sum({g} · x̂) per channel", G, {"g": g}, (g * xhat).sum(dims)))
    if len(shapes) > 2:
        out.append(Term("grad_bias", "sum({g}) per channel", G, {"g": g}, g.sum(dims)))
    return out


@rule("NativeDropoutBackward0")
def _dropout(sv, g, shapes):
    if "mask" in sv:
        mask, scale = sv["mask"], sv["scale"]
    else:  # native_dropout saves p and the mask (result1)
        mask, p = sv["result1"], sv["p"]
        scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    return [
        Term(
            "grad_x",
            "{g} · {m} · {s}",
            G | {"m": "mask", "s": fmt(scale)},
            {"g": g, "m": mask.to(D)},
            g * mask.to(D) * scale,
        )
    ]


@rule("EmbeddingBackward0")
def _embedding(sv, g, shapes):
    idx, num = sv["indices"].reshape(-1), sv["weight_sym_argsize_0"]
    pad = signed(sv["padding_idx"])
    rows = g.reshape(len(idx), -1)
    counts = torch.bincount(idx, minlength=num).to(D)
    if sv.get("scale_grad_by_freq"):
        rows = rows / counts[idx].unsqueeze(1)
    out = torch.zeros(num, rows.shape[1], dtype=D).index_add_(0, idx, rows)
    if 0 <= pad < num:
        out[pad] = 0
    tpl = "zeros; row[index] += {g} (repeated indices add up" + (f"; row {pad} stays 0" if 0 <= pad < num else "") + ")"
    return [Term("grad_weight", tpl, G | {"i": "indices"}, {"g": g, "i": sv["indices"]}, out)]


@rule("WhereBackward0")
def _where(sv, g, shapes):
    c = sv["condition"]
    out = [
        Term(
            "grad_x",
            "where({c}, {g}, 0)",
            G | {"c": "condition"},
            {"g": g, "c": c},
            _sum_to(torch.where(c, g, 0.0), shapes[0]),
        )
    ]
    if len(shapes) > 1:
        out.append(
            Term(
                "grad_y",
                "where({c}, 0, {g})",
                G | {"c": "condition"},
                {"g": g, "c": c},
                _sum_to(torch.where(c, 0.0, g), shapes[1]),
            )
        )
    return out


def local_terms(
    grad_fn: str, saved: dict[str, Any] | None, incoming: list[torch.Tensor | None], shapes: list[list[int] | None]
) -> list[Term | None] | None:
    """The rule's gradient for each input, from the saved values (None: no rule here, saved values freed or
    too big, or no gradient arrived)."""
    fn = RULE_FNS.get(grad_fn)
    if fn is None or saved is None or not incoming or incoming[0] is None:
        return None
    for v in saved.values():
        if isinstance(v, torch.Tensor) and v.numel() > MAX_COMPUTED_ELEMENTS:
            return None
    g = _d(incoming[0])
    if not g.is_floating_point() or g.numel() > MAX_COMPUTED_ELEMENTS:
        return None
    sv = {k: (v if not isinstance(v, torch.Tensor) else v.detach().cpu()) for k, v in saved.items()}
    try:
        with torch.no_grad():
            return fn(sv, g.cpu(), list(shapes))
    except Exception:  # noqa: BLE001  a rule we cannot recompute here must never break the steps
        return None
