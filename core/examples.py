"""Example programs for the playground and the graph explorer; titles and notes are in the catalog (core/i18n)."""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import has, t


@dataclass(frozen=True)
class Example:
    """One runnable snippet: a stable key and the code. Its title is `example.<key>.title` in the catalog, its
    optional explanation `example.<key>.note`."""

    key: str
    code: str

    def title(self, lang: str) -> str:
        return t(f"example.{self.key}.title", lang)

    def note(self, lang: str) -> str:
        key = f"example.{self.key}.note"
        return t(key, lang) if has(key) else ""

    @property
    def en(self) -> str:
        return self.title("en")

    @property
    def zh(self) -> str:
        return self.title("zh")

    @property
    def note_en(self) -> str:
        return self.note("en")

    @property
    def note_zh(self) -> str:
        return self.note("zh")


PLAYGROUND: list[Example] = [
    Example(
        "create",
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
        """a = torch.arange(0, 10, 2)
l = torch.linspace(0, 1, steps=5)
w = torch.hamming_window(8)
print(a, l, w, sep="\\n")
""",
    ),
    Example(
        "addition",
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
        """A = torch.rand(3, 4)
B = torch.rand(4, 2)
C = A @ B                 # same as torch.matmul(A, B)
D = torch.mm(A, B)
print(C.shape, torch.allclose(C, D))
""",
    ),
    Example(
        "linalg",
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
        """x = torch.randn(4, 4)
y = x.view(16)
z = x.view(-1, 8)     # -1: inferred from the other sizes
t = x.t().reshape(2, 8)   # a transpose is not contiguous: reshape copies when it must
print(x.size(), y.size(), z.size(), t.is_contiguous())
""",
    ),
    Example(
        "reductions",
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
        """w = torch.ones(3, requires_grad=True)
y = (w * 2).sum()
with torch.no_grad():
    z = (w * 2).sum()      # no graph recorded here
print(y.requires_grad, z.requires_grad)
""",
    ),
    Example(
        "device",
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
        """a = torch.tensor([2., 4.], requires_grad=True)
b = torch.tensor([7., 5.], requires_grad=True)
E = 3*a**3 - b**2
external_gradient = torch.tensor([1., 1.])
E.backward(gradient=external_gradient)
print(a.grad)   # 9a^2  -> [36, 144]
print(b.grad)   # -2b   -> [-14, -10]
""",
    ),
    Example(
        "linreg_step",
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
    ),
    Example(
        "mlp",
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
    ),
    Example(
        "dynamic",
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
    ),
    Example(
        "higher_order",
        """x = torch.tensor([1., 2., 3.], requires_grad=True)
y = (x ** 3).sum()
g, = torch.autograd.grad(y, x, create_graph=True)   # g = 3x^2, itself differentiable
g.sum().backward()                                  # x.grad = 6x
print(g, x.grad)
""",
    ),
    Example(
        "pitfall_twice",
        """x = torch.tensor([1., 2.], requires_grad=True)
y = (x.exp() * x).sum()
y.backward()
y.backward()      # the saved values are gone
""",
    ),
    Example(
        "pitfall_accumulate",
        """w = torch.tensor([1., 2.], requires_grad=True)
loss = (w * 3).sum()
loss.backward(retain_graph=True)
print(w.grad)     # [3, 3]
loss.backward()
print(w.grad)     # [6, 6]: added to, not replaced
w.grad = None     # what optimizer.zero_grad() does
""",
    ),
    Example(
        "pitfall_nonleaf",
        """x = torch.tensor([1., 2.], requires_grad=True)
h = x * 2          # intermediate: its .grad is not kept
k = x * 3
k.retain_grad()    # ask autograd to keep this one
out = (h * k).sum()
out.backward()
print(h.grad)      # None
print(k.grad)      # kept because of retain_grad()
""",
    ),
    Example(
        "pitfall_cut",
        """w = torch.tensor([1., 2.], requires_grad=True)
with torch.no_grad():
    scaled = w * 10          # not recorded
d = (w * 2).detach()         # a copy with no history
total = (scaled + d + w).sum()
total.backward()
print(w.grad)                # only the direct path counts: [1, 1]
""",
    ),
    Example(
        "pitfall_inplace",
        """x = torch.tensor([1., 2.], requires_grad=True)
y = x.sigmoid()      # sigmoid saves its output for backward
y.mul_(2)            # ...which is now changed in place (version 0 -> 1)
y.sum().backward()
""",
    ),
]


def by_key(examples: list[Example], key: str) -> Example | None:
    """The example with `key`, or None."""
    return next((e for e in examples if e.key == key), None)
