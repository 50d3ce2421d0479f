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
        "en": "max() over the whole tensor: every position equal to the maximum receives an equal share of the "
        "gradient (with k ties, grad / k each); all others get zero.",
        "zh": "对整个张量求 max()：每个等于最大值的位置平分梯度（k 个并列时各得 grad / k）；其余位置为零。",
        "formula": "dx = grad * (x == max(x)) / count(x == max(x))",
    },
    "min": {
        "en": "min() over the whole tensor: every position equal to the minimum receives an equal share of the "
        "gradient (with k ties, grad / k each); all others get zero.",
        "zh": "对整个张量求 min()：每个等于最小值的位置平分梯度（k 个并列时各得 grad / k）；其余位置为零。",
        "formula": "dx = grad * (x == min(x)) / count(x == min(x))",
    },
    "max_dim": {
        "en": "max(dim) returns an index for each slice: the whole gradient goes to that one index; every other "
        "position, even one tied with the maximum, gets zero.",
        "zh": "max(dim) 为每个切片返回一个下标：整个梯度都给那一个下标；其他位置（即使与最大值并列）都为零。",
        "formula": "dx = zeros_like(x); dx.scatter_(dim, indices, grad)",
    },
    "min_dim": {
        "en": "min(dim) returns an index for each slice: the whole gradient goes to that one index; every other "
        "position, even one tied with the minimum, gets zero.",
        "zh": "min(dim) 为每个切片返回一个下标：整个梯度都给那一个下标；其他位置（即使与最小值并列）都为零。",
        "formula": "dx = zeros_like(x); dx.scatter_(dim, indices, grad)",
    },
    "mv": {
        "en": "Matrix times vector: the matrix receives the outer product of the gradient and the vector; the "
        "vector receives the matrix transposed times the gradient.",
        "zh": "矩阵乘向量：矩阵得到梯度与向量的外积；向量得到矩阵的转置乘以梯度。",
        "formula": "dA = outer(grad, v); dv = A.T @ grad",
    },
    "dot": {
        "en": "Dot product of two vectors: each vector receives the (scalar) gradient times the other vector.",
        "zh": "两个向量的点积：每个向量得到（标量）梯度乘以另一个向量。",
        "formula": "da = grad * b; db = grad * a",
    },
    "conv2d": {
        "en": "Convolution: each weight receives the sum, over all windows, of the gradient times the input patch it "
        "touched; each input pixel receives the sum of gradient times weight over every window it was in (a "
        "transposed convolution); the bias receives the gradient summed over batch and positions.",
        "zh": "卷积：每个权重得到所有窗口上「梯度 × 它接触到的输入块」之和；"
        "每个输入像素得到它所在的每个窗口上「梯度 × 权重」"
        "之和（即转置卷积）；偏置得到在批次和位置上求和的梯度。",
        "formula": "dW = sum_windows grad * patch(x); dx = conv_transpose2d(grad, W); db = grad.sum((0, 2, 3))",
    },
    "max_pool2d": {
        "en": "Max pooling: each window's gradient goes to the one input position that held the window's maximum "
        "(saved as indices); positions in several windows add up.",
        "zh": "最大池化：每个窗口的梯度交给该窗口中取到最大值的那个输入位置（已保存为下标）；"
        "属于多个窗口的位置梯度相加。",
        "formula": "dx = zeros_like(x); dx.flat[indices] += grad",
    },
    "batch_norm": {
        "en": "Batch norm in training mode: x̂ = (x - mean) · invstd with the batch's own mean and variance, so every "
        "element's gradient also depends on the whole batch: dx = w · invstd / m · (m · grad - sum(grad) - "
        "x̂ · sum(grad · x̂)). The weight receives sum(grad · x̂), the bias sum(grad), per channel.",
        "zh": "训练模式下的批归一化：x̂ = (x - mean) · invstd，mean 和方差来自当前批次，"
        "所以每个元素的梯度也依赖整个批次："
        "dx = w · invstd / m · (m · grad - sum(grad) - x̂ · sum(grad · x̂))。权重得到 sum(grad · x̂)，偏置得到 sum(grad)，"
        "按通道计算。",
        "formula": "dx = w*invstd/m * (m*grad - grad.sum() - xhat*(grad*xhat).sum()); dw = (grad*xhat).sum(); "
        "db = grad.sum()",
    },
    "batch_norm_eval": {
        "en": "Batch norm in eval mode uses the running statistics, which are constants: each element's gradient is "
        "grad · w / sqrt(running_var + eps).",
        "zh": "评估模式下的批归一化使用滑动统计量，它们是常数：每个元素的梯度为 grad · w / sqrt(running_var + eps)。",
        "formula": "dx = grad * w / sqrt(running_var + eps); dw = (grad*xhat).sum(); db = grad.sum()",
    },
    "dropout": {
        "en": "Dropout: the gradient flows only through the elements that were kept, scaled by the same 1 / (1 - p) "
        "as in the forward pass; dropped elements get zero.",
        "zh": "Dropout：梯度只流过被保留的元素，并乘以与前向相同的 1 / (1 - p)；被丢弃的元素梯度为零。",
        "formula": "dx = grad * mask * scale, scale = 1 / (1 - p)",
    },
    "embedding": {
        "en": "Embedding lookup: each looked-up row of the weight receives the gradient of its output row; rows looked "
        "up several times add up, rows never looked up (and padding_idx) get zero.",
        "zh": "嵌入查表：权重中每个被查到的行得到对应输出行的梯度；被多次查到的行梯度相加，"
        "从未被查到的行（以及 padding_idx 行）为零。",
        "formula": "dW = zeros_like(W); dW.index_add_(0, indices, grad)",
    },
    "where": {
        "en": "torch.where: the gradient goes to the first input where the condition held and to the second where it "
        "did not (the other gets zero there, and zero times an infinite local derivative is NaN).",
        "zh": "torch.where：条件成立处梯度给第一个输入，不成立处给第二个输入"
        "（另一个在该处为零，而零乘以无穷大的局部导数是 NaN）。",
        "formula": "dx = where(cond, grad, 0); dy = where(cond, 0, grad)",
    },
    "clone": {
        "en": "A copy passes the gradient through unchanged.",
        "zh": "复制把梯度原样传回。",
        "formula": "dx = grad",
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


_MSE = {
    0: ("reduction='none': each element receives its own gradient times twice the difference.",
        "reduction='none'：每个元素得到它自己的梯度乘以两倍的差。", "dx_i = grad_i * 2 * (x_i - y_i)"),
    1: ("reduction='mean': twice the difference, times the gradient, divided by the number of elements ({n}).",
        "reduction='mean'：两倍的差乘以梯度，再除以元素个数（{n}）。", "dx = grad * 2 * (x - y) / {n}"),
    2: ("reduction='sum': twice the difference, times the gradient (no division).",
        "reduction='sum'：两倍的差乘以梯度（不做除法）。", "dx = grad * 2 * (x - y)"),
}  # fmt: skip


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
        en, zh, formula = _MSE[red]
        out = {k: v.format(n=n) for k, v in (("en", en), ("zh", zh), ("formula", formula))}
        out["en"] = "Mean squared error, " + out["en"]
        out["zh"] = "均方误差，" + out["zh"]
        out["formula"] += "; dy = -dx" if red is not None else ""
        return out
    if cls in ("NllLossBackward0", "NllLoss2DBackward0"):
        red, w, ignore = sv["reduction"], sv.get("weight"), signed(sv["ignore_index"])
        t = sv.get("target")
        ignored = bool((t == ignore).any()) if isinstance(t, torch.Tensor) else False
        wt = "w[t_i]" if w is not None else "1"
        if red == 1:
            den = "sum of w[t_j] over the rows not ignored" if w is not None else "the number of rows not ignored"
            den_zh = "未被忽略的行的 w[t_j] 之和" if w is not None else "未被忽略的行数"
            formula = f"dx[i, t_i] = -{wt} * grad / " + ("sum_j w[t_j]" if w is not None else "N")
        elif red == 2:
            den, den_zh, formula = "", "", f"dx[i, t_i] = -{wt} * grad"
        else:
            den, den_zh, formula = "", "", f"dx[i, t_i] = -{wt} * grad_i"
        en = (
            "Negative log-likelihood: each row's target class receives minus "
            + ("its class weight w[t_i] times " if w is not None else "")
            + "the gradient"
            + (f", divided by {den}" if den else "")
            + "; every other class gets zero."
        )
        zh = (
            "负对数似然：每行目标类别处得到 -"
            + ("该类权重 w[t_i] 乘以" if w is not None else "")
            + "梯度"
            + (f"，再除以{den_zh}" if den_zh else "")
            + "；其余类别为零。"
        )
        if ignore >= 0 or ignored:
            en += f" Rows whose target is ignore_index={ignore} get zero" + (
                " (this batch has some)." if ignored else "."
            )
            zh += f"目标为 ignore_index={ignore} 的行梯度为零" + ("（本批次中有这样的行）。" if ignored else "。")
            formula += f"; dx[i] = 0 where t_i == {ignore}"
        return {"en": en, "zh": zh, "formula": formula}
    if cls == "PowBackward0":
        n = sv.get("exponent")
        n = n.item() if isinstance(n, torch.Tensor) else n
        if not isinstance(n, (int, float)):
            return None
        return {
            "en": f"Power rule for x**{fmt(n)}: bring the exponent down and lower it by one.",
            "zh": f"x**{fmt(n)} 的幂法则：指数乘到前面，指数减一。",
            "formula": f"d(x**{fmt(n)})/dx = grad * {fmt(n)} * x**{fmt(n - 1)}",
        }
    if cls == "AddmmBackward0":
        beta, alpha = sv.get("beta", 1), sv.get("alpha", 1)
        if beta == 1 and alpha == 1:
            return None
        b, a = fmt(beta), fmt(alpha)
        return {
            "en": f"out = {b} · bias + {a} · (A @ W): the bias gets {b} times the gradient (summed over broadcast "
            f"rows), A and W get {a} times their matmul gradients.",
            "zh": f"out = {b} · bias + {a} · (A @ W)：偏置得到 {b} 倍的梯度（在广播的行上求和），"
            f"A 和 W 得到 {a} 倍的矩阵乘法梯度。",
            "formula": f"db = {b} * grad.sum(0); dA = {a} * grad @ W.T; dW = {a} * A.T @ grad",
        }
    if cls == "TransposeBackward0":
        d0, d1 = sv["dim0"], sv["dim1"]
        return {
            "en": f"transpose({d0}, {d1}) is undone by the same swap: the gradient's dims {d0} and {d1} are "
            f"swapped back.",
            "zh": f"transpose({d0}, {d1}) 用同样的交换还原：梯度的第 {d0} 维和第 {d1} 维被换回来。",
            "formula": f"dx = grad.transpose({d0}, {d1})",
        }
    if cls == "PermuteBackward0":
        dims = list(sv["dims"])
        inv = inverse_permutation(dims)
        return {
            "en": f"permute{tuple(dims)} is undone by the inverse permutation {tuple(inv)}.",
            "zh": f"permute{tuple(dims)} 用逆置换 {tuple(inv)} 还原。",
            "formula": f"dx = grad.permute{tuple(inv)}",
        }
    if cls == "NativeBatchNormBackward0" and not sv.get("training", True):
        return RULES["batch_norm_eval"]
    if cls in ("AddBackward0", "SubBackward0") and sv.get("alpha", 1) != 1:
        a = fmt(sv["alpha"])
        sign = "" if cls == "AddBackward0" else "-"
        return {
            "en": f"alpha={a}: the first input gets the gradient, the second {sign}{a} times it.",
            "zh": f"alpha={a}：第一个输入得到梯度，第二个得到它的 {sign}{a} 倍。",
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
            # copied, so holding it changes nothing the engine does; other gradients are held as they are
            incoming = bookkeeping_copies(grad_outputs) if cls == "AccumulateGrad" else _aliases(grad_outputs)
            step = Step(len(self.steps), node, op_name(cls), cls, incoming, saved=self.saved.get(node))
            self.steps.append(step)
            self._running.setdefault(k, []).append(step)
            self.grads[node] = step.incoming[0] if step.incoming else None

        return before

    def _after_hook(self, k: int) -> Any:
        def after(grad_inputs: tuple[torch.Tensor | None, ...], grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            waiting = self._running.get(k)
            if waiting:
                waiting.pop().outgoing = _aliases(grad_inputs)
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
        sub = substitute(s) if n < MAX_SUBSTITUTED_STEPS else None
        if sub is not None:
            row["substituted"] = sub
        out.append(row)
    return out


# --- The rule with the step's own numbers ---------------------------------------------------------------------


MAX_SUBSTITUTED_STEPS = 1000  # rule recomputed (~0.3 ms each) for the first steps only: the ones a student walks


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
    scale = max(1.0, float(g.abs().nan_to_num(0.0, 0.0, 0.0).max()))
    ok = torch.allclose(e, g, rtol=rtol, atol=rtol * scale, equal_nan=True)
    diff = float((e - g).abs().nan_to_num(0.0, 0.0, 0.0).max())  # over the elements where both are finite
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
