"""Step-through backward: the engine's real order, the gradients into and out of each node, and its rule."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch

from core import tensorjson
from core.graph import Graph, Node, op_name, reachable, read_saved
from core.i18n import LANGS, both
from core.i18n import t as text
from core.limits import MAX_GRAPH_JSON_ELEMENTS

# --- The rules: how each op turns the gradient of its output into gradients of its inputs --------------
# `grad` is the gradient arriving at the op's output; every formula gives what each input receives.
# When an input was broadcast, its gradient is summed back over the broadcast dimensions.
# Each rule's words are `rule.<name>` in the catalog (core/i18n), filled in below as "en" and "zh".

RULES: dict[str, dict[str, str]] = {
    "add": {
        "formula": "d(x+y)/dx = grad; d(x+y)/dy = grad",
    },
    "sub": {
        "formula": "d(x-y)/dx = grad; d(x-y)/dy = -grad",
    },
    "mul": {
        "formula": "d(x*y)/dx = grad * y; d(x*y)/dy = grad * x",
    },
    "div": {
        "formula": "d(x/y)/dx = grad / y; d(x/y)/dy = -grad * x / y**2",
    },
    "neg": {
        "formula": "d(-x)/dx = -grad",
    },
    "pow": {
        "formula": "d(x**n)/dx = grad * n * x**(n-1); d(x**y)/dy = grad * x**y * log(x)",
    },
    "exp": {
        "formula": "d(exp x)/dx = grad * exp(x)",
    },
    "log": {
        "formula": "d(log x)/dx = grad / x",
    },
    "sqrt": {
        "formula": "d(sqrt x)/dx = grad / (2 * sqrt(x))",
    },
    "abs": {
        "formula": "d|x|/dx = grad * sign(x)",
    },
    "sin": {
        "formula": "d(sin x)/dx = grad * cos(x)",
    },
    "cos": {
        "formula": "d(cos x)/dx = -grad * sin(x)",
    },
    "tanh": {
        "formula": "d(tanh x)/dx = grad * (1 - tanh(x)**2)",
    },
    "sigmoid": {
        "formula": "d(s(x))/dx = grad * s * (1 - s)",
    },
    "relu": {
        "formula": "d(relu x)/dx = grad * (x > 0)",
    },
    "softmax": {
        "formula": "dx = s * (grad - sum(grad * s, dim)), s = softmax(x)",
    },
    "log_softmax": {
        "formula": "dx = grad - softmax(x) * sum(grad, dim)",
    },
    "matmul": {
        "formula": "d(A@B)/dA = grad @ B.T; d(A@B)/dB = A.T @ grad",
    },
    "addmm": {
        "formula": "db = grad.sum(0); dA = grad @ W.T; dW = A.T @ grad",
    },
    "linear": {
        "formula": "dx = grad @ W; dW = grad.T @ x; db = grad.sum(0)",
    },
    "sum": {
        "formula": "d(sum x)/dx_i = grad",
    },
    "mean": {
        "formula": "d(mean x)/dx_i = grad / n",
    },
    "view": {
        "formula": "dx = grad.reshape(x.shape)",
    },
    "expand": {
        "formula": "dx = grad summed over the expanded dims",
    },
    "transpose": {
        "formula": "d(x.T)/dx: dx = grad.T",
    },
    "select": {
        "formula": "dx = zeros_like(x); dx[index] += grad",
    },
    "cat": {
        "formula": "dx_k = grad[slice of piece k]",
    },
    "max": {
        "formula": "dx = grad * (x == max(x)) / count(x == max(x))",
    },
    "min": {
        "formula": "dx = grad * (x == min(x)) / count(x == min(x))",
    },
    "max_dim": {
        "formula": "dx = zeros_like(x); dx.scatter_(dim, indices, grad)",
    },
    "min_dim": {
        "formula": "dx = zeros_like(x); dx.scatter_(dim, indices, grad)",
    },
    "mv": {
        "formula": "dA = outer(grad, v); dv = A.T @ grad",
    },
    "dot": {
        "formula": "da = grad * b; db = grad * a",
    },
    "conv2d": {
        "formula": "dW = sum_windows grad * patch(x); dx = conv_transpose2d(grad, W); db = grad.sum((0, 2, 3))",
    },
    "max_pool2d": {
        "formula": "dx = zeros_like(x); dx.flat[indices] += grad",
    },
    "batch_norm": {
        "formula": "dx = w*invstd/m * (m*grad - grad.sum() - xhat*(grad*xhat).sum()); dw = (grad*xhat).sum(); "
        "db = grad.sum()",
    },
    "batch_norm_eval": {
        "formula": "dx = grad * w / sqrt(running_var + eps); dw = (grad*xhat).sum(); db = grad.sum()",
    },
    "dropout": {
        "formula": "dx = grad * mask * scale, scale = 1 / (1 - p)",
    },
    "embedding": {
        "formula": "dW = zeros_like(W); dW.index_add_(0, indices, grad)",
    },
    "where": {
        "formula": "dx = where(cond, grad, 0); dy = where(cond, 0, grad)",
    },
    "clone": {
        "formula": "dx = grad",
    },
    "clamp": {
        "formula": "dx = grad * (min <= x <= max)",
    },
    "mse_loss": {
        "formula": "d mean((x-y)**2)/dx = grad * 2 * (x - y) / n",
    },
    "nll_loss": {
        "formula": "dx[i, target_i] = -grad / N",
    },
    "cross_entropy": {
        "formula": "d/dlogits = grad * (softmax(logits) - onehot(target)) / N",
    },
    "accumulate_grad": {
        "formula": "leaf.grad += grad",
    },
}
for _name, _rule in RULES.items():
    _rule.update(both(f"rule.{_name}"))

# grad_fn names (after MulBackward0 -> mul) that share a rule with another op
ALIASES: dict[str, str] = {
    "rsub": "sub",
    "square": "pow",
    "mm": "matmul",
    "bmm": "matmul",
    "reshape": "view",
    "unsafe_view": "view",
    "reshape_alias": "view",
    "squeeze": "view",
    "unsqueeze": "view",
    "t": "transpose",
    "permute": "transpose",
    "index": "select",
    "slice": "select",
    "stack": "cat",
    "clamp_min": "clamp",
    "clamp_max": "clamp",
    "cross_entropy_loss": "cross_entropy",
    "convolution": "conv2d",
    "native_batch_norm": "batch_norm",
    "native_dropout": "dropout",
    "nll_loss2d": "nll_loss",
    "amax": "max",
    "amin": "min",
    "alias": "clone",
    "to_copy": "clone",
}

# grad_fn classes whose rule is not the one of their op name (MaxBackward0 is max(dim), MaxBackward1 max())
CLASS_RULES: dict[str, str] = {
    "MaxBackward0": "max_dim", "MinBackward0": "min_dim", "ConvolutionBackward0": "conv2d",
    "MaxPool2DWithIndicesBackward0": "max_pool2d", "NativeBatchNormBackward0": "batch_norm",
    "NativeDropoutBackward0": "dropout", "EmbeddingBackward0": "embedding", "MvBackward0": "mv", "DotBackward0": "dot",
}  # fmt: skip


def rule_for(grad_fn_class: str) -> dict[str, str] | None:
    """The rule of a grad_fn class (PowBackward1 -> the pow rule); None when not described."""
    if grad_fn_class in CLASS_RULES:
        return RULES[CLASS_RULES[grad_fn_class]]
    name = op_name(grad_fn_class)
    return RULES.get(ALIASES.get(name, name))


_MSE = {  # reduction -> (catalog key, formula)
    0: ("rule.mse_none", "dx_i = grad_i * 2 * (x_i - y_i)"),
    1: ("rule.mse_mean", "dx = grad * 2 * (x - y) / {n}"),
    2: ("rule.mse_sum", "dx = grad * 2 * (x - y)"),
}


def rule_for_step(grad_fn_class: str, saved: dict[str, Any] | None) -> dict[str, str] | None:
    """The rule with this node's own arguments read from its saved attributes (reduction, weight, ignore_index,
    beta/alpha, dims...): what the op actually computed. Falls back to `rule_for` when nothing is saved."""
    base = rule_for(grad_fn_class)
    if base is None or not saved:
        return base
    try:
        special = _specialise(grad_fn_class, saved, base)
    except (KeyError, TypeError, ValueError, AttributeError):
        special = None
    return special or base


def _specialise(cls: str, sv: dict[str, Any], base: dict[str, str]) -> dict[str, str] | None:
    from core.local_rules import fmt, inverse_permutation, signed

    if cls == "MseLossBackward0":
        red = sv["reduction"]
        n = sv["self"].numel() if isinstance(sv.get("self"), torch.Tensor) else "n"
        key, formula = _MSE[red]
        out = {**both(key, n=n), "formula": formula.format(n=n)}
        out["formula"] += "; dy = -dx" if red is not None else ""
        return out
    if cls in ("NllLossBackward0", "NllLoss2DBackward0"):
        red, w, ignore = sv["reduction"], sv.get("weight"), signed(sv["ignore_index"])
        target = sv.get("target")
        ignored = bool((target == ignore).any()) if isinstance(target, torch.Tensor) else False
        wt = "w[t_i]" if w is not None else "1"
        if red == 1:
            den = "rule.nll_den_weights" if w is not None else "rule.nll_den_rows"
            formula = f"dx[i, t_i] = -{wt} * grad / " + ("sum_j w[t_j]" if w is not None else "N")
        elif red == 2:
            den, formula = "", f"dx[i, t_i] = -{wt} * grad"
        else:
            den, formula = "", f"dx[i, t_i] = -{wt} * grad_i"
        out = {}
        for lang in LANGS:
            weighted = text("rule.nll_weighted", lang) if w is not None else ""
            divided = text("rule.nll_divided", lang, den=text(den, lang)) if den else ""
            out[lang] = text("rule.nll_step", lang, weighted=weighted, divided=divided)
        if ignore >= 0 or ignored:
            extra = both("rule.nll_ignored_here" if ignored else "rule.nll_ignored", ignore=ignore)
            out = {lang: out[lang] + extra[lang] for lang in out}
            formula += f"; dx[i] = 0 where t_i == {ignore}"
        return {**out, "formula": formula}
    if cls == "PowBackward0":
        n = sv.get("exponent")
        n = n.item() if isinstance(n, torch.Tensor) else n
        if not isinstance(n, (int, float)):
            return None
        return {
            **both("rule.pow_n", n=fmt(n)),
            "formula": f"d(x**{fmt(n)})/dx = grad * {fmt(n)} * x**{fmt(n - 1)}",
        }
    if cls == "AddmmBackward0":
        beta, alpha = sv.get("beta", 1), sv.get("alpha", 1)
        if beta == 1 and alpha == 1:
            return None
        b, a = fmt(beta), fmt(alpha)
        return {
            **both("rule.addmm_scaled", b=b, a=a),
            "formula": f"db = {b} * grad.sum(0); dA = {a} * grad @ W.T; dW = {a} * A.T @ grad",
        }
    if cls == "TransposeBackward0":
        d0, d1 = sv["dim0"], sv["dim1"]
        return {
            **both("rule.transpose_dims", d0=d0, d1=d1),
            "formula": f"dx = grad.transpose({d0}, {d1})",
        }
    if cls == "PermuteBackward0":
        dims = list(sv["dims"])
        inv = inverse_permutation(dims)
        return {
            **both("rule.permute_dims", dims=tuple(dims), inv=tuple(inv)),
            "formula": f"dx = grad.permute{tuple(inv)}",
        }
    if cls == "NativeBatchNormBackward0" and not sv.get("training", True):
        return RULES["batch_norm_eval"]
    if cls in ("AddBackward0", "SubBackward0") and sv.get("alpha", 1) != 1:
        a = fmt(sv["alpha"])
        sign = "" if cls == "AddBackward0" else "-"
        return {
            **both("rule.alpha", a=a, sign=sign),
            "formula": f"dx = grad; dy = {sign}{a} * grad",
        }
    if cls == "SoftmaxBackward0" or cls == "LogSoftmaxBackward0":
        return {**base, "formula": base["formula"].replace("dim)", f"dim={sv['dim']})")}
    return None


# --- Recording what the engine does --------------------------------------------------------------------


def _copy(t: Any) -> Any:
    """A detached CPU copy of a tensor (later in-place changes don't reach it); other values as they are."""
    if isinstance(t, torch.Tensor):
        return t.detach().to("cpu", copy=True)
    if isinstance(t, (list, tuple)):
        return [_copy(x) for x in t]
    return t


_PYTHON_MODES = torch._C.DispatchKeySet(torch._C.DispatchKey.Python)  # dispatch modes; cheaper to skip than pop


def bookkeeping_copies(values: Iterable[Any]) -> list[Any]:
    """_copy of each value, unseen by any active torch mode (a tracer, a resource guard, a default device):
    these copies are our bookkeeping, not the user's ops."""
    if torch._C._len_torch_function_stack() == 0 and torch._C._len_torch_dispatch_stack() == 0:
        return [_copy(v) for v in values]
    with torch._C.DisableTorchFunction(), torch._C._ExcludeDispatchKeyGuard(_PYTHON_MODES):
        return [_copy(v) for v in values]


@dataclass
class Step:
    """One node run by the engine: the gradients it received and the gradients it sent to its inputs."""

    index: int
    node: Node
    name: str  # friendly op name, e.g. "mul"
    grad_fn: str  # class name, e.g. "MulBackward0"
    incoming: list[torch.Tensor | None]  # gradient w.r.t. each of the node's outputs
    outgoing: list[torch.Tensor | None] = field(default_factory=list)  # gradient sent to each input
    saved: dict[str, Any] | None = None  # the node's saved values, snapshot before backward (None: already freed)


def _aliases(grads: tuple[torch.Tensor | None, ...]) -> list[torch.Tensor | None]:
    """The engine's gradients, kept as they are (no copy, no op): the engine makes a new tensor for each, and
    only accumulates in place into a tensor nobody else holds; holding the tensor object itself keeps it from
    doing so. Under create_graph a gradient is differentiable: that one is stored as a detached copy."""
    if any(isinstance(g, torch.Tensor) and g.requires_grad for g in grads):
        return bookkeeping_copies(grads)
    return list(grads)


class BackwardRecorder:
    """Hooks every node reachable from the roots; create it before .backward() / autograd.grad()."""

    def __init__(self, roots: torch.Tensor | list[torch.Tensor], grad_outputs: Iterable[Any] = ()) -> None:
        self.steps: list[Step] = []
        self.saved: dict[Node, dict[str, Any] | None] = {}  # snapshot, since backward frees them
        self.grads: dict[Node, torch.Tensor | None] = {}  # gradient w.r.t. each node's (first) output
        self.outputs: dict[Node, torch.Tensor] = {}  # a node's forward output, as a consumer saved it (a copy)
        self._made: list[Node] = []  # grad_fns of differentiable gradients (create_graph=True)
        self._running: dict[int, list[Step]] = {}  # node position -> steps waiting for their post-hook
        self._held: set[int] = set()  # ids of the gradients steps hold as they are (alive in those steps)
        self._handles: list[Any] = []
        self._nodes = reachable(roots)
        extra = [g for g in grad_outputs if isinstance(g, torch.Tensor) and g.grad_fn is not None]
        self._before = set(self._nodes) | set(reachable(extra) if extra else ())  # what existed before the pass
        for k, node in enumerate(self._nodes):
            live = read_saved(node) if type(node).__name__ != "AccumulateGrad" else {}
            if live is None:
                self.saved[node] = None
            else:
                copies = dict(zip(live, bookkeeping_copies(live.values()), strict=True))
                self.saved[node] = copies
                for name, v in live.items():  # an input's value as saved at forward (torch checks its version)
                    if isinstance(v, torch.Tensor) and v.grad_fn is not None and v.output_nr == 0:
                        self.outputs.setdefault(v.grad_fn, copies[name])
            self._handles.append(node.register_prehook(self._before_hook(k)))
            self._handles.append(node.register_hook(self._after_hook(k)))

    # The hooks only read: they return None, so the gradients flow on unchanged.
    def _before_hook(self, k: int) -> Any:
        def before(grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            node = self._nodes[k]
            cls = type(node).__name__
            # a leaf's incoming gradient becomes its .grad (the engine steals it when nobody else holds it):
            # copied, so holding it changes nothing the engine does, unless a step before holds that very
            # tensor already (the engine cannot steal it then: the same numbers, held once); other gradients
            # are held as they are
            incoming = self._leaf_incoming(grad_outputs) if cls == "AccumulateGrad" else _aliases(grad_outputs)
            step = Step(len(self.steps), node, op_name(cls), cls, incoming, saved=self.saved.get(node))
            self.steps.append(step)
            self._running.setdefault(k, []).append(step)
            self.grads[node] = step.incoming[0] if step.incoming else None

        return before

    def _leaf_incoming(self, grads: tuple[torch.Tensor | None, ...]) -> list[torch.Tensor | None]:
        if all(g is None or id(g) in self._held and not g.requires_grad for g in grads):
            return list(grads)
        return bookkeeping_copies(grads)

    def _after_hook(self, k: int) -> Any:
        def after(grad_inputs: tuple[torch.Tensor | None, ...], grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            waiting = self._running.get(k)
            if waiting:
                sent = waiting.pop().outgoing = _aliases(grad_inputs)
                self._held.update(id(g) for g in sent if g is not None)
            self._made.extend(g.grad_fn for g in grad_inputs if isinstance(g, torch.Tensor) and g.grad_fn is not None)

        return after

    def created(self) -> set[Node]:
        """The nodes this pass made (create_graph=True): reachable from the differentiable gradients it sent,
        short of the nodes that existed before it (the forward graph and the given gradients' graphs)."""
        found: set[Node] = set()
        todo = [fn for fn in self._made if fn not in self._before]
        while todo:
            fn = todo.pop()
            if fn in found or fn in self._before or type(fn).__name__ == "AccumulateGrad":
                continue
            found.add(fn)
            todo.extend(nxt for nxt, _ in fn.next_functions if nxt is not None)
        return found

    def remove(self) -> None:
        """Take every hook off the graph (the recorded steps stay)."""
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def __del__(self) -> None:
        """Let go of the nodes outputs first (see core.graph.release): each drop then frees at most one node."""
        self._running, self.grads, self.saved, self.outputs = {}, {}, {}, {}
        self._made, self._before = [], set()
        nodes = getattr(self, "_nodes", [])
        for k in range(len(nodes)):
            nodes[k] = None
        steps = getattr(self, "steps", [])
        if sys.getrefcount(steps) <= 3:  # only we hold the steps; a list frees its last item first
            steps.reverse()

    def __enter__(self) -> BackwardRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _tensor_list(ts: list[torch.Tensor | None], budget: list[int]) -> tuple[list[Any], list[Any], list[Any] | None]:
    """(values, shapes, summaries): summaries only when some tensor is too big to list, or when the shared
    `budget` of listed numbers is spent."""
    vals: list[Any] = []
    for t in ts:
        if t is not None and t.numel() > budget[0]:
            vals.append(None)
            continue
        if t is not None:
            budget[0] -= t.numel()
        vals.append(tensorjson.values(t))
    shapes = [None if t is None else list(t.shape) for t in ts]
    big = [t is not None and v is None for t, v in zip(ts, vals, strict=True)]
    summaries = (
        [tensorjson.summary(t) if t is not None and b else None for t, b in zip(ts, big, strict=True)]
        if any(big)
        else None
    )
    return vals, shapes, summaries


def steps_to_json(
    steps: list[Step], graph: Graph | None, detail: bool = True, budget: list[int] | None = None
) -> list[dict[str, Any]]:
    """The recorded steps as JSON, each pointing at its graph node id (null when not in the graph).

    Without `detail` a step keeps its node, op, rule and gradient shapes only (an earlier backward pass of a
    long program: opening it re-runs the program with that pass recorded in full)."""
    out = []
    budget = [MAX_GRAPH_JSON_ELEMENTS] if budget is None else budget
    for n, s in enumerate(steps):
        if not detail:
            out.append({
                "index": s.index, "node": graph.id_of(s.node) if graph is not None else None, "name": s.name,
                "grad_fn": s.grad_fn, "incoming": None, "outgoing": None, "detail": False,
                "incoming_shapes": [None if t is None else list(t.shape) for t in s.incoming],
                "outgoing_shapes": [None if t is None else list(t.shape) for t in s.outgoing],
                "rule": rule_for_step(s.grad_fn, s.saved),
            })  # fmt: skip
            continue
        row: dict[str, Any] = {
            "index": s.index,
            "node": graph.id_of(s.node) if graph is not None else None,
            "name": s.name,
            "grad_fn": s.grad_fn,
        }
        for key, ts in (("incoming", s.incoming), ("outgoing", s.outgoing)):
            vals, shapes, summaries = _tensor_list(ts, budget)
            row[key] = vals
            row[f"{key}_shapes"] = shapes
            if summaries is not None:
                row[f"{key}_summary"] = summaries
        row["rule"] = rule_for_step(s.grad_fn, s.saved)
        sub = substitute(s) if n < MAX_SUBSTITUTED_STEPS and _elements(s) <= MAX_SUBSTITUTED_ELEMENTS else None
        if sub is not None:
            row["substituted"] = sub
        out.append(row)
    return out


# --- The rule with the step's own numbers ---------------------------------------------------------------------


MAX_SUBSTITUTED_STEPS = 1000  # rule recomputed (~0.3 ms each) for the first steps only: the ones a student walks
# A step is re-derived in float64 while its tensors hold at most this many numbers in all: a layer of a real model
# (a 512x784 weight's gradient) would cost tens of ms a step, for a check nobody reads number by number.
MAX_SUBSTITUTED_ELEMENTS = 100_000


def _elements(step: Step) -> int:
    saved = sum(t.numel() for t in (step.saved or {}).values() if isinstance(t, torch.Tensor))
    flowing = sum(t.numel() for t in (*step.incoming, *step.outgoing) if isinstance(t, torch.Tensor))
    return saved + flowing


def _tolerance(t: torch.Tensor) -> float:
    """How closely a gradient of this dtype should match the rule recomputed in float64."""
    return {torch.float64: 1e-9, torch.float32: 1e-4}.get(t.dtype, 1e-2)


def agreement(expected: torch.Tensor, engine: torch.Tensor) -> tuple[bool, float]:
    """(agrees, max abs difference) of the rule's gradient and the engine's, NaN matching NaN."""
    e = expected.detach().to("cpu", torch.float64)
    g = engine.detach().to("cpu", torch.float64)
    if list(e.shape) != list(g.shape):
        if e.numel() != g.numel():
            return False, float("inf")
        e = e.reshape(g.shape)
    if e.numel() == 0:
        return True, 0.0
    rtol = _tolerance(engine)
    d = torch.sub(e, g).abs_()
    size = g.abs()
    top, diff = float(size.max()), float(d.max())
    if math.isfinite(top) and math.isfinite(diff):
        # every number finite (a NaN or an infinity in either makes d's max NaN or inf): allclose's own test,
        # |e - g| <= atol + rtol * |g| with atol = rtol * max(1, max |g|), in place on the tensors at hand,
        # about 3x quicker than allclose and a second difference (a 784x64 layer: 0.2 ms, not 0.6)
        bound = size.mul_(rtol).add_(rtol * max(1.0, top))
        return bool(d.le(bound).all()), diff
    scale = max(1.0, float(g.abs().nan_to_num(0.0, 0.0, 0.0).max()))
    ok = torch.allclose(e, g, rtol=rtol, atol=rtol * scale, equal_nan=True)
    diff = float(d.nan_to_num(0.0, 0.0, 0.0).max())  # over the elements where both are finite
    return bool(ok), diff


def substitute(step: Step) -> dict[str, Any] | None:
    """The step's rule computed from its saved tensors and compared with what the engine sent each input:
    {"lines": [...], "text": ..., "agrees": bool, "inputs": [{"input", "agrees", "max_diff"}]}. `text` (the rule
    with the numbers written in) for the inputs whose operands have at most SUBSTITUTED_ELEMENTS elements each;
    "complete" says whether that is every input."""
    from core.local_rules import local_terms

    shapes = [None if t is None else list(t.shape) for t in step.outgoing]
    terms = local_terms(step.grad_fn, step.saved, step.incoming, shapes)
    if terms is None:
        return None
    lines: list[str] = []
    checks: list[dict[str, Any]] = []
    small = True
    for k, term in enumerate(terms):
        engine = step.outgoing[k] if k < len(step.outgoing) else None
        if term is None or engine is None:
            continue
        ok, diff = agreement(term.value, engine)
        checks.append({"input": k, "agrees": ok, "max_diff": tensorjson.finite_or_str(diff)})
        if term.small():
            mark = "" if ok else "   ≠ engine: " + _fmt(engine)
            lines.append(f"{term.label} = {term.symbolic()} = {term.numeric()} = {_fmt(term.value)}{mark}")
        else:
            small = False
    if not checks:
        return None
    return {
        "text": "\n".join(lines) if lines else None,
        "lines": lines,
        "complete": small,
        "agrees": all(c["agrees"] for c in checks),
        "inputs": checks,
    }


def _fmt(t: torch.Tensor) -> str:
    from core.local_rules import fmt

    return fmt(t.detach().to("cpu", torch.float64) if t.is_floating_point() else t)
