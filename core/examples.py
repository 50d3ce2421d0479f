"""Example programs for the playground and the graph explorer, each with an English and a Chinese title."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One runnable snippet: a stable key, titles in both languages, the code, and an optional explanation."""

    key: str
    en: str
    zh: str
    code: str
    note_en: str = ""
    note_zh: str = ""

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def note(self, lang: str) -> str:
        return self.note_zh if lang == "zh" else self.note_en


PLAYGROUND: list[Example] = [
    Example(
        "create",
        "Creating tensors",
        "创建张量",
        """x = torch.empty(5, 3)        # memory as it was: values are whatever sat there
r = torch.rand(5, 3)         # uniform in [0, 1)
z = torch.zeros(5, 3, dtype=torch.long)
o = torch.ones(2, 2)
d = torch.tensor([5.5, 3])   # straight from data
print(r)
print(z.dtype, d.shape)
""",
    ),
    Example(
        "from_existing",
        "New tensors from existing ones",
        "由已有张量创建新张量",
        """x = torch.tensor([5.5, 3])
x = x.new_ones(5, 3, dtype=torch.double)   # same device, new size and dtype
print(x)
y = torch.randn_like(x, dtype=torch.float)  # same size, dtype overridden
print(y)
print(y.size())        # torch.Size is a tuple
rows, cols = y.size()
""",
    ),
    Example(
        "ranges",
        "Ranges, spacing and windows",
        "序列、等距点与窗函数",
        """a = torch.arange(0, 10, 2)
l = torch.linspace(0, 1, steps=5)
w = torch.hamming_window(8)
print(a, l, w, sep="\\n")
""",
    ),
    Example(
        "addition",
        "Four ways to add",
        "四种加法",
        """x = torch.rand(5, 3)
y = torch.rand(5, 3)
s1 = x + y
s2 = torch.add(x, y)
result = torch.empty(5, 3)
torch.add(x, y, out=result)    # write into an existing tensor
y.add_(x)                      # in place: the trailing _ changes y itself
print(torch.equal(s1, s2), torch.equal(s1, result), torch.equal(s1, y))
""",
    ),
    Example(
        "matmul",
        "Matrix multiplication",
        "矩阵乘法",
        """A = torch.rand(3, 4)
B = torch.rand(4, 2)
C = A @ B                 # same as torch.matmul(A, B)
D = torch.mm(A, B)
print(C.shape, torch.allclose(C, D))
""",
    ),
    Example(
        "linalg",
        "Eigenvalues, sorting",
        "特征值与排序",
        """M = torch.tensor([[2., 1.], [1., 3.]])
vals, vecs = torch.linalg.eig(M)   # complex in general
print(vals)
data = torch.tensor([3., 1., 4., 1., 5., 9., 2., 6.])
sorted_vals, order = torch.sort(data, descending=True)
print(sorted_vals, order)
""",
    ),
    Example(
        "indexing",
        "Indexing, slicing, joining",
        "索引、切片与拼接",
        """x = torch.arange(12).reshape(3, 4)
row = x[1]
col = x[:, 2]
block = x[1:, ::2]
joined = torch.cat((x, x), dim=0)
stacked = torch.stack((x, x))
print(block)
print(joined.shape, stacked.shape)
""",
    ),
    Example(
        "reshape",
        "view and reshape",
        "view 与 reshape",
        """x = torch.randn(4, 4)
y = x.view(16)
z = x.view(-1, 8)     # -1: inferred from the other sizes
t = x.t().reshape(2, 8)   # a transpose is not contiguous: reshape copies when it must
print(x.size(), y.size(), z.size(), t.is_contiguous())
""",
    ),
    Example(
        "reductions",
        "Reductions",
        "归约运算",
        """x = torch.tensor([[1., 2., 3.], [4., 5., 6.]])
total = x.sum()
per_col = x.sum(dim=0)
per_row_mean = x.mean(dim=1)
biggest, where = x.max(dim=1)
print(total.item(), per_col, per_row_mean, biggest, where)
""",
    ),
    Example(
        "autograd",
        "requires_grad and backward",
        "requires_grad 与反向传播",
        """a = torch.tensor([2., 4.], requires_grad=True)
b = torch.tensor([7., 5.], requires_grad=True)
E = 3*a**3 - b**2
E.backward(gradient=torch.tensor([1., 1.]))
print(a.grad)   # dE/da = 9a^2
print(b.grad)   # dE/db = -2b
""",
    ),
    Example(
        "no_grad",
        "no_grad: computing without a graph",
        "no_grad：不建计算图的计算",
        """w = torch.ones(3, requires_grad=True)
y = (w * 2).sum()
with torch.no_grad():
    z = (w * 2).sum()      # no graph recorded here
print(y.requires_grad, z.requires_grad)
""",
    ),
    Example(
        "device",
        "Devices: .to(device) and .cuda()",
        "设备：.to(device) 与 .cuda()",
        """device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
x = torch.ones(2, 2)
x = x.to(device)       # works everywhere
print(x.device)
y = x.cuda()           # fails with a clear message on a CPU-only server
""",
    ),
]


GRAPH: list[Example] = [
    Example(
        "seed004",
        "E = 3a³ − b² with backward(gradient=…)",
        "E = 3a³ − b²，带 gradient 参数的 backward",
        """a = torch.tensor([2., 4.], requires_grad=True)
b = torch.tensor([7., 5.], requires_grad=True)
E = 3*a**3 - b**2
external_gradient = torch.tensor([1., 1.])
E.backward(gradient=external_gradient)
print(a.grad)   # 9a^2  -> [36, 144]
print(b.grad)   # -2b   -> [-14, -10]
""",
        "E is a vector, so backward needs a vector to multiply the Jacobian with: `gradient=[1, 1]` asks for "
        "d(E₁+E₂)/da and d(E₁+E₂)/db.",
        "E 是向量，所以 backward 需要一个与雅可比矩阵相乘的向量：`gradient=[1, 1]` 求的是 d(E₁+E₂)/da 与 d(E₁+E₂)/db。",
    ),
    Example(
        "linreg_step",
        "One step of linear regression (a, b, MSE)",
        "线性回归的一步（a、b、均方误差）",
        """torch.manual_seed(42)
x = torch.rand(10, 1)
y = 1 + 2 * x + 0.1 * torch.randn(10, 1)   # the data: y = 1 + 2x + noise
a = torch.randn(1, requires_grad=True)
b = torch.randn(1, requires_grad=True)
yhat = a + b * x                 # forward pass
error = y - yhat
loss = (error ** 2).mean()       # MSE
loss.backward()                  # gradients of loss w.r.t. a and b
lr = 0.1
with torch.no_grad():            # the update itself is not part of the graph
    a -= lr * a.grad
    b -= lr * b.grad
""",
        "One training step by hand: forward, loss, backward, update. The update runs under no_grad, so it never "
        "shows in the graph.",
        "手动完成一步训练：前向、损失、反向、更新。更新在 no_grad 中进行，因此不会出现在计算图里。",
    ),
    Example(
        "mlp",
        "A small MLP with cross-entropy",
        "带交叉熵的小型多层感知机",
        """torch.manual_seed(0)
x = torch.randn(4, 3)
target = torch.tensor([0, 2, 1, 2])
layer1 = nn.Linear(3, 5)
layer2 = nn.Linear(5, 3)
h = torch.relu(layer1(x))
logits = layer2(h)
loss = F.cross_entropy(logits, target)
loss.backward()
w1 = layer1.weight
w2 = layer2.weight
""",
        "Each Linear layer is one AddmmBackward node (x @ Wᵀ + b); its weight's gradient arrives through TBackward.",
        "每个 Linear 层对应一个 AddmmBackward 节点（x @ Wᵀ + b）；权重的梯度经由 TBackward 传回。",
    ),
    Example(
        "dynamic",
        "A loop whose graph depends on the data",
        "计算图随数据变化的循环",
        """x = torch.tensor(1.5, requires_grad=True)
y = x
steps = 0
for i in range(6):
    if y.item() > 10:     # change x to 3.0 and run again: fewer steps, another graph
        break
    y = y * x + 1
    steps += 1
y.backward()
print(steps, x.grad)
""",
        "PyTorch builds the graph while the code runs: the number of multiply-add steps, and so the graph, "
        "depends on the value of x.",
        "PyTorch 在代码运行时构建计算图：乘加的次数（也就是计算图的形状）取决于 x 的值。",
    ),
    Example(
        "higher_order",
        "Second derivative with create_graph=True",
        "用 create_graph=True 求二阶导数",
        """x = torch.tensor([1., 2., 3.], requires_grad=True)
y = (x ** 3).sum()
g, = torch.autograd.grad(y, x, create_graph=True)   # g = 3x^2, itself differentiable
g.sum().backward()                                  # x.grad = 6x
print(g, x.grad)
""",
        "create_graph=True records the backward pass itself as a graph, so the gradient can be differentiated again.",
        "create_graph=True 会把反向传播本身也记录成计算图，因此梯度还可以再求导。",
    ),
    Example(
        "pitfall_twice",
        "Pitfall: backward twice without retain_graph",
        "陷阱：不带 retain_graph 两次 backward",
        """x = torch.tensor([1., 2.], requires_grad=True)
y = (x.exp() * x).sum()
y.backward()
y.backward()      # the saved values are gone
""",
        "The first backward frees what the graph saved; the second has nothing to read.",
        "第一次 backward 释放了计算图保存的值，第二次无从读取。",
    ),
    Example(
        "pitfall_accumulate",
        "Pitfall: gradients accumulate unless zeroed",
        "陷阱：梯度不清零就会累加",
        """w = torch.tensor([1., 2.], requires_grad=True)
loss = (w * 3).sum()
loss.backward(retain_graph=True)
print(w.grad)     # [3, 3]
loss.backward()
print(w.grad)     # [6, 6]: added to, not replaced
w.grad = None     # what optimizer.zero_grad() does
""",
        "backward adds into .grad. That is why training loops call optimizer.zero_grad() every step.",
        "backward 会把梯度加到 .grad 上，而不是替换。这就是训练循环每一步都要调用 optimizer.zero_grad() 的原因。",
    ),
    Example(
        "pitfall_nonleaf",
        "Pitfall: .grad is None on a non-leaf",
        "陷阱：非叶子张量的 .grad 为 None",
        """x = torch.tensor([1., 2.], requires_grad=True)
h = x * 2          # intermediate: its .grad is not kept
k = x * 3
k.retain_grad()    # ask autograd to keep this one
out = (h * k).sum()
out.backward()
print(h.grad)      # None
print(k.grad)      # kept because of retain_grad()
""",
        "Only leaves keep .grad by default; intermediates pass their gradient on and drop it, unless retain_grad().",
        "默认只有叶子张量保留 .grad；中间张量把梯度传下去后就丢弃，除非调用 retain_grad()。",
    ),
    Example(
        "pitfall_cut",
        "Pitfall: no_grad and detach cut the graph",
        "陷阱：no_grad 与 detach 会切断计算图",
        """w = torch.tensor([1., 2.], requires_grad=True)
with torch.no_grad():
    scaled = w * 10          # not recorded
d = (w * 2).detach()         # a copy with no history
total = (scaled + d + w).sum()
total.backward()
print(w.grad)                # only the direct path counts: [1, 1]
""",
        "Values computed under no_grad or taken with detach() are constants to autograd: no gradient flows "
        "through them.",
        "在 no_grad 中计算的值或经 detach() 得到的值，对自动求导来说都是常量：梯度不会经过它们。",
    ),
    Example(
        "pitfall_inplace",
        "Pitfall: changing a saved tensor in place",
        "陷阱：原地修改了被保存的张量",
        """x = torch.tensor([1., 2.], requires_grad=True)
y = x.sigmoid()      # sigmoid saves its output for backward
y.mul_(2)            # ...which is now changed in place (version 0 -> 1)
y.sum().backward()
""",
        "Backward checks the version counter of every saved tensor and refuses one that was modified.",
        "反向传播会检查每个被保存张量的版本计数器，拒绝使用已被修改过的张量。",
    ),
]


def by_key(examples: list[Example], key: str) -> Example | None:
    """The example with `key`, or None."""
    return next((e for e in examples if e.key == key), None)
