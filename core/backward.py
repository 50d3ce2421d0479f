"""Step-through backward: the engine's real order, the gradients into and out of each node, and its rule."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch

from core import tensorjson
from core.graph import Graph, Node, op_name, reachable, read_saved
from core.limits import MAX_GRAPH_JSON_ELEMENTS

# --- The rules: how each op turns the gradient of its output into gradients of its inputs --------------
# `grad` is the gradient arriving at the op's output; every formula gives what each input receives.
# When an input was broadcast, its gradient is summed back over the broadcast dimensions.

RULES: dict[str, dict[str, str]] = {
    "add": {
        "en": "Addition passes the gradient through unchanged to both inputs.",
        "zh": "加法把梯度原样传给两个输入。",
        "formula": "d(x+y)/dx = grad; d(x+y)/dy = grad",
    },
    "sub": {
        "en": "Subtraction passes the gradient to the first input and its negative to the second.",
        "zh": "减法把梯度传给第一个输入，把它的相反数传给第二个输入。",
        "formula": "d(x-y)/dx = grad; d(x-y)/dy = -grad",
    },
    "mul": {
        "en": "Each factor receives the gradient times the other factor.",
        "zh": "每个因子得到的梯度 = 传入的梯度 × 另一个因子。",
        "formula": "d(x*y)/dx = grad * y; d(x*y)/dy = grad * x",
    },
    "div": {
        "en": "The numerator receives grad / y; the denominator receives -grad * x / y².",
        "zh": "分子得到 grad / y；分母得到 -grad * x / y²。",
        "formula": "d(x/y)/dx = grad / y; d(x/y)/dy = -grad * x / y**2",
    },
    "neg": {
        "en": "Negation flips the sign of the gradient.",
        "zh": "取负把梯度变号。",
        "formula": "d(-x)/dx = -grad",
    },
    "pow": {
        "en": "Power rule: bring the exponent down and lower it by one.",
        "zh": "幂法则：指数乘到前面，指数减一。",
        "formula": "d(x**n)/dx = grad * n * x**(n-1); d(x**y)/dy = grad * x**y * log(x)",
    },
    "exp": {
        "en": "The exponential is its own derivative.",
        "zh": "指数函数的导数就是它自己。",
        "formula": "d(exp x)/dx = grad * exp(x)",
    },
    "log": {
        "en": "The gradient is divided by the input.",
        "zh": "梯度除以输入。",
        "formula": "d(log x)/dx = grad / x",
    },
    "sqrt": {
        "en": "The gradient is divided by twice the square root.",
        "zh": "梯度除以两倍的平方根。",
        "formula": "d(sqrt x)/dx = grad / (2 * sqrt(x))",
    },
    "abs": {
        "en": "The gradient keeps its sign where x > 0 and flips it where x < 0.",
        "zh": "x > 0 处梯度不变，x < 0 处梯度变号。",
        "formula": "d|x|/dx = grad * sign(x)",
    },
    "sin": {
        "en": "The derivative of sine is cosine.",
        "zh": "正弦的导数是余弦。",
        "formula": "d(sin x)/dx = grad * cos(x)",
    },
    "cos": {
        "en": "The derivative of cosine is minus sine.",
        "zh": "余弦的导数是负的正弦。",
        "formula": "d(cos x)/dx = -grad * sin(x)",
    },
    "tanh": {
        "en": "tanh' = 1 - tanh², computed from the saved output.",
        "zh": "tanh' = 1 - tanh²，用保存的输出计算。",
        "formula": "d(tanh x)/dx = grad * (1 - tanh(x)**2)",
    },
    "sigmoid": {
        "en": "sigmoid' = s * (1 - s), computed from the saved output s.",
        "zh": "sigmoid' = s * (1 - s)，s 是保存的输出。",
        "formula": "d(s(x))/dx = grad * s * (1 - s)",
    },
    "relu": {
        "en": "The gradient passes where the input was positive and is zero elsewhere.",
        "zh": "输入为正的位置梯度通过，其余位置为零。",
        "formula": "d(relu x)/dx = grad * (x > 0)",
    },
    "softmax": {
        "en": "Each output depends on all inputs: subtract the gradient's average weighted by the softmax.",
        "zh": "每个输出依赖所有输入：减去按 softmax 加权的梯度平均。",
        "formula": "dx = s * (grad - sum(grad * s, dim)), s = softmax(x)",
    },
    "log_softmax": {
        "en": "The gradient minus softmax times the gradient's sum along the dimension.",
        "zh": "梯度减去 softmax 乘以该维上梯度之和。",
        "formula": "dx = grad - softmax(x) * sum(grad, dim)",
    },
    "matmul": {
        "en": "Each matrix receives the gradient multiplied by the other matrix, transposed.",
        "zh": "每个矩阵得到：梯度乘以另一个矩阵的转置。",
        "formula": "d(A@B)/dA = grad @ B.T; d(A@B)/dB = A.T @ grad",
    },
    "addmm": {
        "en": "out = b + A @ W: the bias gets the gradient summed over rows, A and W as in matmul.",
        "zh": "out = b + A @ W：偏置得到按行求和的梯度，A 和 W 同矩阵乘法。",
        "formula": "db = grad.sum(0); dA = grad @ W.T; dW = A.T @ grad",
    },
    "linear": {
        "en": "y = x @ W.T + b: x gets grad @ W, W gets grad.T @ x, b gets grad summed over the batch.",
        "zh": "y = x @ W.T + b：x 得到 grad @ W，W 得到 grad.T @ x，b 得到按批求和的梯度。",
        "formula": "dx = grad @ W; dW = grad.T @ x; db = grad.sum(0)",
    },
    "sum": {
        "en": "Every summed element receives the same gradient.",
        "zh": "每个被求和的元素得到相同的梯度。",
        "formula": "d(sum x)/dx_i = grad",
    },
    "mean": {
        "en": "Every element receives the gradient divided by how many were averaged.",
        "zh": "每个元素得到梯度除以参与平均的个数。",
        "formula": "d(mean x)/dx_i = grad / n",
    },
    "view": {
        "en": "Reshaping moves no numbers: the gradient is reshaped back to the input's shape.",
        "zh": "改变形状不改变数值：梯度被变回输入的形状。",
        "formula": "dx = grad.reshape(x.shape)",
    },
    "expand": {
        "en": "An expanded (broadcast) input receives the gradient summed over the copies.",
        "zh": "被扩展（广播）的输入得到各个副本梯度之和。",
        "formula": "dx = grad summed over the expanded dims",
    },
    "transpose": {
        "en": "The gradient is transposed back.",
        "zh": "梯度被转置回去。",
        "formula": "d(x.T)/dx: dx = grad.T",
    },
    "select": {
        "en": "Indexing: the picked positions receive the gradient, all others zero (repeats add up).",
        "zh": "索引：被选中的位置得到梯度，其余为零（重复的位置相加）。",
        "formula": "dx = zeros_like(x); dx[index] += grad",
    },
    "cat": {
        "en": "The gradient is cut back into the pieces that were concatenated.",
        "zh": "梯度被切回拼接前的各段。",
        "formula": "dx_k = grad[slice of piece k]",
    },
    "max": {
        "en": "Only the position(s) holding the maximum receive the gradient (ties share it).",
        "zh": "只有最大值所在的位置得到梯度（并列时平分）。",
        "formula": "dx = grad at argmax(x), 0 elsewhere",
    },
    "min": {
        "en": "Only the position(s) holding the minimum receive the gradient (ties share it).",
        "zh": "只有最小值所在的位置得到梯度（并列时平分）。",
        "formula": "dx = grad at argmin(x), 0 elsewhere",
    },
    "clamp": {
        "en": "The gradient passes where the input was inside [min, max] and is zero where it was clipped.",
        "zh": "输入在 [min, max] 内的位置梯度通过，被截断的位置为零。",
        "formula": "dx = grad * (min <= x <= max)",
    },
    "mse_loss": {
        "en": "Mean squared error: twice the difference, divided by the number of elements.",
        "zh": "均方误差：两倍的差，除以元素个数。",
        "formula": "d mean((x-y)**2)/dx = grad * 2 * (x - y) / n",
    },
    "nll_loss": {
        "en": "Negative log-likelihood: -grad / N at each row's target class, zero elsewhere.",
        "zh": "负对数似然：每行目标类别处为 -grad / N，其余为零。",
        "formula": "dx[i, target_i] = -grad / N",
    },
    "cross_entropy": {
        "en": "log_softmax then nll_loss; together: softmax minus the one-hot target, over N.",
        "zh": "先 log_softmax 再 nll_loss；合起来：softmax 减去独热目标，再除以 N。",
        "formula": "d/dlogits = grad * (softmax(logits) - onehot(target)) / N",
    },
    "accumulate_grad": {
        "en": "A leaf stores the gradient in .grad, adding to what is already there.",
        "zh": "叶子把梯度存入 .grad，与已有的值相加。",
        "formula": "leaf.grad += grad",
    },
}

# grad_fn names (after MulBackward0 -> mul) that share a rule with another op
ALIASES: dict[str, str] = {
    "rsub": "sub",
    "square": "pow",
    "mm": "matmul",
    "mv": "matmul",
    "bmm": "matmul",
    "dot": "matmul",
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
}


def rule_for(grad_fn_class: str) -> dict[str, str] | None:
    """The rule of a grad_fn class (PowBackward1 -> the pow rule); None when not described."""
    name = op_name(grad_fn_class)
    return RULES.get(ALIASES.get(name, name))


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


class BackwardRecorder:
    """Hooks every node reachable from the roots; create it before .backward() / autograd.grad()."""

    def __init__(self, roots: torch.Tensor | list[torch.Tensor]) -> None:
        self.steps: list[Step] = []
        self.saved: dict[Node, dict[str, Any] | None] = {}  # snapshot, since backward frees them
        self.grads: dict[Node, torch.Tensor | None] = {}  # gradient w.r.t. each node's (first) output
        self._running: dict[int, list[Step]] = {}  # node position -> steps waiting for their post-hook
        self._handles: list[Any] = []
        self._nodes = reachable(roots)
        for k, node in enumerate(self._nodes):
            live = read_saved(node) if type(node).__name__ != "AccumulateGrad" else {}
            copies = None if live is None else bookkeeping_copies(live.values())
            self.saved[node] = None if live is None else dict(zip(live, copies, strict=True))
            self._handles.append(node.register_prehook(self._before_hook(k)))
            self._handles.append(node.register_hook(self._after_hook(k)))

    # The hooks only read: they return None, so the gradients flow on unchanged.
    def _before_hook(self, k: int) -> Any:
        def before(grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            node = self._nodes[k]
            cls = type(node).__name__
            step = Step(len(self.steps), node, op_name(cls), cls, bookkeeping_copies(grad_outputs))
            self.steps.append(step)
            self._running.setdefault(k, []).append(step)
            self.grads[node] = step.incoming[0] if step.incoming else None

        return before

    def _after_hook(self, k: int) -> Any:
        def after(grad_inputs: tuple[torch.Tensor | None, ...], grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            waiting = self._running.get(k)
            if waiting:
                waiting.pop().outgoing = bookkeeping_copies(grad_inputs)

        return after

    def remove(self) -> None:
        """Take every hook off the graph (the recorded steps stay)."""
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def __del__(self) -> None:
        """Let go of the nodes outputs first (see core.graph.release): each drop then frees at most one node."""
        self._running, self.grads, self.saved = {}, {}, {}
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
    vals = []
    for t in ts:
        if t is not None and t.numel() > budget[0]:
            vals.append(None)
            continue
        if t is not None:
            budget[0] -= t.numel()
        vals.append(tensorjson.values(t))
    shapes = [None if t is None else list(t.shape) for t in ts]
    big = [t is not None and v is None for t, v in zip(ts, vals, strict=True)]
    summaries = [tensorjson.summary(t) if b else None for t, b in zip(ts, big, strict=True)] if any(big) else None
    return vals, shapes, summaries


def steps_to_json(steps: list[Step], graph: Graph | None) -> list[dict[str, Any]]:
    """The recorded steps as JSON, each pointing at its graph node id (null when not in the graph)."""
    out = []
    budget = [MAX_GRAPH_JSON_ELEMENTS]
    for s in steps:
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
        row["rule"] = rule_for(s.grad_fn)
        out.append(row)
    return out
