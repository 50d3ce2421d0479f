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


def by_key(examples: list[Example], key: str) -> Example | None:
    """The example with `key`, or None."""
    return next((e for e in examples if e.key == key), None)
