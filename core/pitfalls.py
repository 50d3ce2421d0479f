"""Plain-words explanations of the autograd errors students meet, matched on PyTorch's own messages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pitfall:
    """A known error: a fragment of torch's message and what it means, in English and Chinese."""

    key: str
    match: str
    en: str
    zh: str


PITFALLS: list[Pitfall] = [
    Pitfall(
        "backward_twice",
        "backward through the graph a second time",
        "The first backward() freed the intermediate values it saved (to save memory). A second backward() over the "
        "same graph has nothing left to read. Pass retain_graph=True to the first call if you really need two passes, "
        "or rebuild the graph by running the forward computation again.",
        "第一次 backward() 之后，计算图为节省内存已经释放了保存的中间值，第二次 backward() 就无从读取。"
        "如果确实需要两次反向传播，请在第一次调用时传入 retain_graph=True，或者重新执行一次前向计算来重建计算图。",
    ),
    Pitfall(
        "inplace_saved",
        "modified by an inplace operation",
        "A tensor that backward needs was changed in place after it was saved. Every tensor has a version counter; "
        "the saved copy remembers the version it saw, and backward refuses to use a tensor whose version moved on. "
        "Use an out-of-place operation (y = y + 1 instead of y += 1 or y.add_(1)), or clone() before changing it.",
        "反向传播需要的某个张量在被保存之后又被原地修改了。每个张量都有版本计数器，保存时记下了当时的版本，"
        "版本变化后 backward 就拒绝使用它。请改用非原地运算（用 y = y + 1 代替 y += 1 或 y.add_(1)），或在修改前先 clone()。",
    ),
    Pitfall(
        "no_grad_fn",
        "does not require grad and does not have a grad_fn",
        "The tensor you called backward() on is not connected to any leaf that requires grad: the graph was cut. "
        "This happens when it was computed under torch.no_grad(), came from .detach() or .item(), or when no input "
        "had requires_grad=True.",
        "调用 backward() 的张量与任何 requires_grad 的叶子张量都没有连接：计算图被切断了。"
        "常见原因：它是在 torch.no_grad() 中计算的，来自 .detach() 或 .item()，或者没有任何输入设置了 requires_grad=True。",
    ),
    Pitfall(
        "leaf_inplace",
        "a leaf Variable that requires grad is being used in an in-place operation",
        "You changed a leaf parameter in place while autograd was recording. Updates of parameters belong inside "
        "`with torch.no_grad():` (that is what optimizer.step() does for you).",
        "在自动求导记录期间原地修改了需要梯度的叶子张量。参数更新应放在 `with torch.no_grad():` 中进行"
        "（optimizer.step() 就是这样做的）。",
    ),
    Pitfall(
        "implicit_scalar",
        "grad can be implicitly created only for scalar outputs",
        "backward() without arguments only works on a single number. For a tensor output, either reduce it first "
        "(loss = y.sum() or y.mean()) or pass the vector to multiply with: y.backward(gradient=torch.ones_like(y)).",
        "不带参数的 backward() 只能用于标量。对于张量输出，要么先归约（loss = y.sum() 或 y.mean()），"
        "要么传入要相乘的向量：y.backward(gradient=torch.ones_like(y))。",
    ),
    Pitfall(
        "no_grad_tensor_output",
        "One of the differentiated Tensors appears to not have been used in the graph",
        "torch.autograd.grad was asked for the gradient of an input the output does not depend on. "
        "Pass allow_unused=True to get None for it instead of an error.",
        "torch.autograd.grad 被要求计算一个与输出无关的输入的梯度。传入 allow_unused=True 可以得到 None 而不是报错。",
    ),
]


def explain(message: str, lang: str = "en") -> dict[str, str] | None:
    """{'key', 'text'} for the first pitfall whose fragment appears in `message`, else None."""
    for p in PITFALLS:
        if p.match.lower() in message.lower():
            return {"key": p.key, "text": p.zh if lang == "zh" else p.en}
    return None
