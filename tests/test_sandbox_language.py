"""The user's language (DESIGN.md): every tensor example of seeds 002-004 runs in the sandbox and gives what
torch gives when run directly (values, dtypes, shapes, grads), plus the Python features the language keeps.

Most programs run in this process through `session.execute` (the interpreter, guard and tracer, without the
worker); a handful go through the worker pool. The sandbox seeds torch.manual_seed(DEFAULT_SEED) before every
run, so random examples are reproduced here by seeding the same way.
"""

from __future__ import annotations

import pytest
import torch

from core.sandbox import run_program
from core.sandbox.session import DEFAULT_SEED, execute
from tests.seed_programs import SEED_004


def run(source: str) -> dict:
    result = execute(source, "cpu", with_graph=False)
    assert result["ok"], result.get("error")
    return result


def fail(source: str) -> dict:
    result = execute(source, "cpu", with_graph=False)
    assert result["ok"] is False, result
    return result["error"]


def var(result: dict, name: str) -> dict:
    return result["variables"][name]


def same(entry: dict, t: torch.Tensor) -> None:
    """A sandbox variable equals tensor `t` run directly: shape, dtype, device, value (and grad)."""
    assert entry["type"] == "tensor"
    assert entry["shape"] == list(t.shape)
    assert entry["dtype"] == str(t.dtype).removeprefix("torch.")
    assert entry["device"] == "cpu"
    assert entry["requires_grad"] == t.requires_grad
    if t.is_complex():
        assert entry["value"] == torch.view_as_real(t.detach()).tolist()
    else:
        assert entry["value"] == t.detach().tolist()
    if t.is_leaf and t.grad is not None:
        assert entry["grad"] == t.grad.tolist()


def seeded() -> None:
    torch.manual_seed(DEFAULT_SEED)


# --- seed 002: tensors and the four additions ----------------------------------------------------------------
def test_empty_has_shape_and_dtype() -> None:
    r = run("from __future__ import print_function\nimport torch\nx = torch.empty(5, 3)\nprint(x)")
    assert var(r, "x")["shape"] == [5, 3] and var(r, "x")["dtype"] == "float32"
    assert r["stdout"].startswith("tensor(")


def test_rand_matches_torch_with_the_same_seed() -> None:
    r = run("x = torch.rand(5, 3)\nprint(x)")
    seeded()
    x = torch.rand(5, 3)
    same(var(r, "x"), x)
    assert r["stdout"] == f"{x}\n"


def test_zeros_long() -> None:
    r = run("x = torch.zeros(5, 3, dtype=torch.long)\nprint(x)")
    same(var(r, "x"), torch.zeros(5, 3, dtype=torch.long))
    assert r["stdout"] == f"{torch.zeros(5, 3, dtype=torch.long)}\n"


def test_tensor_from_data() -> None:
    r = run("x = torch.tensor([5.5, 3])\nprint(x)")
    same(var(r, "x"), torch.tensor([5.5, 3]))
    assert r["stdout"] == "tensor([5.5000, 3.0000])\n"


def test_new_ones_then_randn_like() -> None:
    src = (
        "x = torch.tensor([5.5, 3])\nx = x.new_ones(5, 3, dtype=torch.double)\nprint(x)\n"
        "x = torch.randn_like(x, dtype=torch.float)\nprint(x)\nprint(x.size())"
    )
    r = run(src)
    seeded()
    x = torch.tensor([5.5, 3]).new_ones(5, 3, dtype=torch.double)
    first = f"{x}\n"
    x = torch.randn_like(x, dtype=torch.float)
    same(var(r, "x"), x)
    assert r["stdout"] == first + f"{x}\ntorch.Size([5, 3])\n"


def test_the_four_additions_agree_with_torch() -> None:
    src = """x = torch.rand(5, 3)
y = torch.rand(5, 3)
s1 = x + y
s2 = torch.add(x, y)
result = torch.empty(5, 3)
torch.add(x, y, out=result)
y.add_(x)
print(s1)
print(result)
"""
    r = run(src)
    seeded()
    x, y = torch.rand(5, 3), torch.rand(5, 3)
    expected = x + y
    for name in ("s1", "s2", "result", "y"):
        same(var(r, name), expected)
    same(var(r, "x"), x)
    assert r["stdout"] == f"{expected}\n{expected}\n"


def test_size_and_shape() -> None:
    r = run("x = torch.ones(5, 3)\ns = x.size()\nt = x.shape\nn = x.size(1)\nrows, cols = x.shape\nprint(s[0], t)")
    assert var(r, "s") == {"type": "Size", "repr": "torch.Size([5, 3])"}
    assert var(r, "n")["value"] == 3 and var(r, "rows")["value"] == 5 and var(r, "cols")["value"] == 3
    assert r["stdout"] == "5 torch.Size([5, 3])\n"


def test_cuda_on_a_cpu_only_server_is_explained() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    err = fail("x = torch.ones(2)\nx = x.cuda()")
    assert err["kind"] == "runtime" and err["line"] == 2 and "no GPU" in err["message"]


def test_to_device_picks_cpu_when_there_is_no_gpu() -> None:
    src = 'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")\nx = torch.ones(2)\nx = x.to(device)'
    r = run(src)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert var(r, "device")["repr"] == expected
    assert var(r, "x")["value"] == [1.0, 1.0]


# --- seed 003: tensor operations --------------------------------------------------------------------------------
def test_data_tensor_print() -> None:
    r = run("data = [[9, 8], [7, 6]]\ndata_tensor = torch.tensor(data)\nprint(data_tensor)")
    same(var(r, "data_tensor"), torch.tensor([[9, 8], [7, 6]]))
    assert r["stdout"] == "tensor([[9, 8],\n        [7, 6]])\n"


def test_creation_like_functions() -> None:
    src = """A = torch.rand(2, 3)
Z = torch.zeros_like(A)
O = torch.ones_like(A)
R = torch.rand_like(A)
r = torch.arange(0, 10, 2)
l = torch.linspace(0, 1, steps=5)
shape, dtype, dev = A.shape, A.dtype, A.device
"""
    r = run(src)
    seeded()
    A = torch.rand(2, 3)
    same(var(r, "Z"), torch.zeros_like(A))
    same(var(r, "O"), torch.ones_like(A))
    same(var(r, "R"), torch.rand_like(A))
    same(var(r, "r"), torch.arange(0, 10, 2))
    same(var(r, "l"), torch.linspace(0, 1, steps=5))
    assert var(r, "shape")["repr"] == "torch.Size([2, 3])" and var(r, "dtype")["repr"] == "torch.float32"
    assert var(r, "dev")["repr"] == "cpu"


def test_matmul_and_at() -> None:
    r = run("A = torch.rand(3, 4)\nB = torch.rand(4, 2)\nC = A @ B\nD = torch.matmul(A, B)\nE = A.matmul(B)")
    seeded()
    A, B = torch.rand(3, 4), torch.rand(4, 2)
    for name in ("C", "D", "E"):
        same(var(r, name), A @ B)


def test_eigenvalues_and_eigenvectors() -> None:
    r = run("A = torch.rand(3, 3)\nL, V = torch.linalg.eig(A)\nres = torch.linalg.eig(A)\nw = res.eigenvalues")
    seeded()
    L, V = torch.linalg.eig(torch.rand(3, 3))
    same(var(r, "L"), L)
    same(var(r, "V"), V)
    same(var(r, "w"), L)
    assert var(r, "L")["dtype"] == "complex64"


def test_sort() -> None:
    r = run(
        "x = torch.rand(6)\nv, i = torch.sort(x)\nd = torch.sort(x, descending=True)\ndv = d.values\nm = x.sort()[1]"
    )
    seeded()
    x = torch.rand(6)
    v, i = torch.sort(x)
    same(var(r, "v"), v)
    same(var(r, "i"), i)
    same(var(r, "dv"), torch.sort(x, descending=True).values)
    same(var(r, "m"), i)


def test_indexing_slicing_and_assignment() -> None:
    src = """x = torch.arange(12.).reshape(3, 4)
a = x[0]
b = x[:, 1]
c = x[1:3, ::2]
d = x[x > 5]
e = x[-1, -1]
f = x[..., 0]
x[0, 0] = 100
x[1] += 1
"""
    r = run(src)
    x = torch.arange(12.0).reshape(3, 4)
    a, b, c, d, e, f = x[0], x[:, 1], x[1:3, ::2], x[x > 5], x[-1, -1], x[..., 0]
    x[0, 0] = 100
    x[1] += 1  # a, b, c, e and f are views: they see the assignments, as they do in torch
    for name, t in zip("abcdef", (a, b, c, d, e, f), strict=True):
        same(var(r, name), t)
    same(var(r, "x"), x)
    assert var(r, "a")["value"][0] == 100


def test_cat_and_stack() -> None:
    r = run(
        "x = torch.ones(2, 3)\ny = torch.zeros(2, 3)\nc0 = torch.cat([x, y])\nc1 = torch.cat((x, y), dim=1)\n"
        "s = torch.stack([x, y])"
    )
    x, y = torch.ones(2, 3), torch.zeros(2, 3)
    same(var(r, "c0"), torch.cat([x, y]))
    same(var(r, "c1"), torch.cat((x, y), dim=1))
    same(var(r, "s"), torch.stack([x, y]))


def test_hamming_window() -> None:
    r = run("w = torch.hamming_window(10)\nv = torch.hamming_window(5, periodic=False)")
    same(var(r, "w"), torch.hamming_window(10))
    same(var(r, "v"), torch.hamming_window(5, periodic=False))


def test_view_and_reshape() -> None:
    r = run(
        "x = torch.rand(4, 4)\ny = x.view(16)\nz = x.view(-1, 8)\nw = x.reshape(2, 8)\nt = x.t()\nu = x.unsqueeze(0)"
    )
    seeded()
    x = torch.rand(4, 4)
    same(var(r, "y"), x.view(16))
    same(var(r, "z"), x.view(-1, 8))
    same(var(r, "w"), x.reshape(2, 8))
    same(var(r, "t"), x.t())
    same(var(r, "u"), x.unsqueeze(0))


def test_reductions() -> None:
    src = """x = torch.rand(3, 4)
s = x.sum()
m = x.mean()
s0 = x.sum(dim=0, keepdim=True)
mx = x.max()
am = x.argmax()
mv, mi = torch.max(x, dim=1)
sd = x.std()
p = x.prod()
n = torch.norm(x)
"""
    r = run(src)
    seeded()
    x = torch.rand(3, 4)
    same(var(r, "s"), x.sum())
    same(var(r, "m"), x.mean())
    same(var(r, "s0"), x.sum(dim=0, keepdim=True))
    same(var(r, "mx"), x.max())
    same(var(r, "am"), x.argmax())
    mv, mi = torch.max(x, dim=1)
    same(var(r, "mv"), mv)
    same(var(r, "mi"), mi)
    same(var(r, "sd"), x.std())
    same(var(r, "p"), x.prod())
    same(var(r, "n"), torch.norm(x))


def test_elementwise_functions() -> None:
    r = run(
        "x = torch.linspace(-2, 2, 9)\na = torch.sigmoid(x)\nb = F.relu(x)\nc = x.exp()\n"
        "d = torch.clamp(x, min=-1, max=1)\ne = x.abs().sqrt()"
    )
    x = torch.linspace(-2, 2, 9)
    same(var(r, "a"), torch.sigmoid(x))
    same(var(r, "b"), torch.nn.functional.relu(x))
    same(var(r, "c"), x.exp())
    same(var(r, "d"), torch.clamp(x, min=-1, max=1))
    same(var(r, "e"), x.abs().sqrt())


# --- seed 004 and autograd ----------------------------------------------------------------------------------------
def test_seed_004_gradients() -> None:
    pytest.importorskip("core.backward")
    r = run(SEED_004)
    assert var(r, "a")["grad"] == [36.0, 144.0]
    assert var(r, "b")["grad"] == [-14.0, -10.0]
    assert var(r, "E")["value"] == [-25.0, 167.0] and var(r, "E")["grad_fn"] == "SubBackward0"
    assert r["stdout"] == "tensor([ 36., 144.])\ntensor([-14., -10.])\n"


def test_requires_grad_backward_and_grad_like_torch() -> None:
    pytest.importorskip("core.backward")
    src = """x = torch.ones(2, 2, requires_grad=True)
y = x + 2
z = y * y * 3
out = z.mean()
out.backward()
g = x.grad
"""
    r = run(src)
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    same(var(r, "x"), x)
    same(var(r, "out"), out)
    same(var(r, "g"), x.grad)
    assert var(r, "x")["grad"] == [[4.5, 4.5], [4.5, 4.5]]
    assert var(r, "z")["grad_fn"] == "MulBackward0" and var(r, "z")["is_leaf"] is False


def test_requires_grad_flag_and_retain_grad() -> None:
    pytest.importorskip("core.backward")
    src = """a = torch.rand(3)
a.requires_grad_()
h = a * 2
h.retain_grad()
loss = (h ** 2).sum()
loss.backward()
"""
    r = run(src)
    seeded()
    a = torch.rand(3).requires_grad_()
    h = a * 2
    h.retain_grad()
    (h**2).sum().backward()
    same(var(r, "a"), a)
    assert var(r, "h")["grad"] == h.grad.tolist()


def test_no_grad_and_detach() -> None:
    src = """x = torch.ones(2, requires_grad=True)
with torch.no_grad():
    y = x * 2
z = x * 2
w = z.detach()
with torch.enable_grad():
    v = x * 3
"""
    r = run(src)
    assert var(r, "y")["requires_grad"] is False and var(r, "z")["requires_grad"] is True
    assert var(r, "w")["requires_grad"] is False and var(r, "v")["requires_grad"] is True


def test_autograd_grad_and_optimizer_step() -> None:
    pytest.importorskip("core.backward")
    src = """w = torch.tensor([1.0, -2.0], requires_grad=True)
loss = (w ** 2).sum()
(g,) = torch.autograd.grad(loss, [w])
opt = optim.SGD([w], lr=0.1)
loss2 = (w ** 2).sum()
opt.zero_grad()
loss2.backward()
opt.step()
"""
    r = run(src)
    assert var(r, "g")["value"] == [2.0, -4.0]
    assert var(r, "w")["value"] == pytest.approx([0.8, -1.6])


def test_small_model_forward_matches_torch() -> None:
    src = "model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))\nx = torch.rand(2, 3)\ny = model(x)"
    r = run(src)
    seeded()
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    same(var(r, "y"), model(torch.rand(2, 3)))
    assert var(r, "model")["type"] == "module" and var(r, "model")["parameters"] == 21


# --- Python features of the language ----------------------------------------------------------------------------
def test_tuple_unpacking_and_augmented_assignment() -> None:
    r = run(
        "a, b = 1, 2\n(c, d) = [3, 4]\na += 10\nb *= 3\nx = torch.ones(2)\nx += 1\nx *= 2\n"
        "q, r2 = both = (7 // 2, 7 % 2)"
    )
    assert [var(r, n)["value"] for n in ("a", "b", "c", "d", "q", "r2")] == [11, 6, 3, 4, 3, 1]
    assert var(r, "x")["value"] == [4.0, 4.0]


def test_if_else_and_comparisons() -> None:
    src = """x = torch.tensor([1.0, 5.0])
if x.sum() > 3:
    big = True
else:
    big = False
small = 1 if x.max() < 2 else 0
between = 0 < 1 < 2
mask = x > 2
"""
    r = run(src)
    assert var(r, "big")["value"] is True and var(r, "small")["value"] == 0 and var(r, "between")["value"] is True
    assert var(r, "mask")["value"] == [False, True]


def test_for_loops_break_continue() -> None:
    src = """total = 0
for i in range(10):
    if i == 2:
        continue
    if i == 5:
        break
    total += i
items = []
for v in [3, 4]:
    items.append(v * 2)
rows = 0
for row in torch.ones(3, 2):
    rows += row.sum().item()
pairs = 0
for k, v in enumerate([10, 20]):
    pairs += k * v
for a, b in zip([1, 2], [3, 4]):
    pairs += a * b
"""
    r = run(src)
    assert var(r, "total")["value"] == 0 + 1 + 3 + 4
    assert var(r, "items")["repr"] == "[6, 8]"
    assert var(r, "rows")["value"] == 6.0
    assert var(r, "pairs")["value"] == 20 + 3 + 8


def test_dynamic_graph_with_control_flow() -> None:
    pytest.importorskip("core.backward")
    src = """x = torch.tensor(2.0, requires_grad=True)
y = x
for i in range(3):
    if i % 2 == 0:
        y = y * x
    else:
        y = y + x
y.backward()
"""
    r = run(src)
    x = torch.tensor(2.0, requires_grad=True)
    y = x
    for i in range(3):
        y = y * x if i % 2 == 0 else y + x
    y.backward()
    same(var(r, "y"), y)
    assert var(r, "x")["grad"] == x.grad.item()


def test_fstrings_and_print() -> None:
    src = """loss = torch.tensor(0.123456)
print(f"loss = {loss:.4f}")
print(f"{3.14159:.2f} {42:>5} {'a'!r} {[1, 2]}")
print("a", 1, 2.5, sep="-", end="!\\n")
print([1, 2.5, "s", (1,), (), [[]], None, True])
t = torch.tensor(1.5)
print(f"{t}")
"""
    r = run(src)
    expected = (
        "loss = 0.1235\n"
        f"{3.14159:.2f} {42:>5} {'a'!r} {[1, 2]}\n"
        "a-1-2.5!\n"
        f"{[1, 2.5, 's', (1,), (), [[]], None, True]}\n"
        "1.5\n"
    )
    assert r["stdout"] == expected


def test_lists_print_like_python() -> None:
    r = run("a = [1, 2]\na.append(a)\nprint(a)\ns = str([1, 'x', (2, 3)])\nt = str((4,))")
    a: list = [1, 2]
    a.append(a)
    assert r["stdout"] == f"{a}\n"
    assert var(r, "s")["value"] == str([1, "x", (2, 3)]) and var(r, "t")["value"] == "(4,)"


def test_builtins_keep_their_meaning() -> None:
    src = """l = [3, 1, 2]
a = sorted(l)
b = sorted(l, reverse=True)
c = list(reversed(l))
d = sum(l)
e = min(l)
f = max(3, 7)
g = len(l)
h = round(2.567, 2)
i = round(1234, -2)
j = list(range(3))
k = tuple(l)
m = abs(-3)
n = sum(torch.ones(3))
o = l.index(2)
p = l.index(2, 1)
"""
    r = run(src)
    got = {n: var(r, n).get("value", var(r, n).get("repr")) for n in "abcdefghijkmo p".replace(" ", "")}
    assert got == {
        "a": "[1, 2, 3]", "b": "[3, 2, 1]", "c": "[2, 1, 3]", "d": 6, "e": 1, "f": 7, "g": 3, "h": 2.57,
        "i": 1200, "j": "[0, 1, 2]", "k": "(3, 1, 2)", "m": 3, "o": 2, "p": 2,
    }  # fmt: skip
    assert var(r, "n")["value"] == 3.0


def test_imports_accepted() -> None:
    src = """from __future__ import print_function
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.nn import Linear
layer = Linear(2, 1)
y = F.relu(torch.ones(2))
"""
    r = run(src)
    assert var(r, "y")["value"] == [1.0, 1.0]


def test_chinese_variable_names() -> None:
    r = run("张量 = torch.ones(2)\n结果 = 张量 * 2\nprint(结果)")
    assert var(r, "结果")["value"] == [2.0, 2.0] and "张量" in r["variables"]
    assert r["stdout"] == "tensor([2., 2.])\n"


@pytest.mark.parametrize(
    ("source", "kind", "line"),
    [
        ("x = torch.ones(2)\ny = torch.ones(3)\n\nz = x + y", "runtime", 4),
        ("x = 1\nfor i in range(2):\n    y = undefined_name", "runtime", 3),
        ("x = 1\ny = 2\nasync def f():\n    pass", "refused", 3),
        ("x = 1\ny = (\n", "syntax", 2),
        ("x = 1\nfor i in range(2):\n    y = torch.ones(10**9)", "limit", 3),
        ("x = 1\n\ny = open('f')", "refused", 3),
        ("x = torch.ones(2, 2)\ny = x.view(3)", "runtime", 2),
    ],
)
def test_errors_name_the_right_line(source: str, kind: str, line: int) -> None:
    err = fail(source)
    assert (err["kind"], err["line"]) == (kind, line), err
    assert "Traceback" not in err["message"]


def test_output_before_a_runtime_error_is_kept() -> None:
    r = execute("x = torch.ones(2)\nprint('before')\ny = x @ torch.ones(3)", "cpu", with_graph=False)
    assert r["ok"] is False and r["error"]["line"] == 3
    assert r["stdout"] == "before\n" and r["variables"]["x"]["value"] == [1.0, 1.0]


# --- the same programs through the worker pool ------------------------------------------------------------------
def test_seed_004_through_the_pool_with_graph() -> None:
    r = run_program(SEED_004)
    if not r["ok"] and "core.backward" in r["error"]["message"]:
        pytest.skip("core.backward has not landed")
    assert r["ok"], r
    assert r["variables"]["a"]["grad"] == [36.0, 144.0] and r["variables"]["b"]["grad"] == [-14.0, -10.0]
    assert r["graph"]["nodes"] and r["graph"]["edges"] and r["backward_order"]
    assert r["stdout"] == "tensor([ 36., 144.])\ntensor([-14., -10.])\n"


@pytest.mark.parametrize(
    "source",
    [
        "x = torch.rand(5, 3)\ny = torch.rand(5, 3)\ny.add_(x)\nprint(y)",
        "x = torch.tensor([5.5, 3])\nx = x.new_ones(5, 3, dtype=torch.double)\n"
        "x = torch.randn_like(x, dtype=torch.float)",
        "A = torch.rand(3, 3)\nL, V = torch.linalg.eig(A)\nv, i = torch.sort(A[0])\nw = torch.hamming_window(4)",
    ],
    ids=["seed-002-add", "seed-002-like", "seed-003-ops"],
)
def test_pool_gives_what_the_process_gives(source: str) -> None:
    remote = run_program(source, graph=False)
    local = execute(source, "cpu", with_graph=False)
    assert remote["ok"] and local["ok"], (remote, local)
    assert remote["variables"] == local["variables"] and remote["stdout"] == local["stdout"]
