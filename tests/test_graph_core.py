"""core.graph against PyTorch itself: every node's value and grad in the JSON equals torch (float64)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from core import graph
from core.backward import BackwardRecorder
from core.limits import DEFAULT_NODE_BUDGET, MAX_JSON_ELEMENTS
from tests.conftest import grad_fns, mul_chain

D = torch.float64


class Capture(TorchFunctionMode):
    """Every tensor an op returns, by its grad_fn: a clone for `values`, the live one (retaining grad) to check."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[Any, torch.Tensor] = {}
        self.live: dict[Any, torch.Tensor] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor) and t.grad_fn is not None and t.output_nr == 0:
                if t.grad_fn not in self.values:
                    self.values[t.grad_fn] = t.detach().clone()
                    self.live[t.grad_fn] = t
                    t.retain_grad()
        return out


def leaf(*values: Any) -> torch.Tensor:
    return torch.tensor(values if len(values) > 1 else values[0], dtype=D, requires_grad=True)


def rand(*shape: int, grad: bool = True) -> torch.Tensor:
    return torch.randn(*shape, dtype=D).requires_grad_(grad)


# Each program returns its locals: `out` (or `outs`) are the roots, every tensor is a named variable.
def p_seed004() -> dict[str, Any]:
    a = torch.tensor([2.0, 4.0], dtype=D, requires_grad=True)
    b = torch.tensor([7.0, 5.0], dtype=D, requires_grad=True)
    out = 3 * a**3 - b**2
    return locals()


def p_arith() -> dict[str, Any]:
    x, y = rand(3), rand(3)
    s = x + y
    d = x - y
    m = s * d
    out = m / (y * y + 1)
    return locals()


def p_broadcast() -> dict[str, Any]:
    col, row = rand(3, 1), rand(4)
    out = col * row + row
    return locals()


def p_scalars() -> dict[str, Any]:
    x = rand(5)
    out = (x * 2 + 1 - x / 3) * 0.5 - 1 + 2 / (x * x + 1)
    return locals()


def p_neg_abs() -> dict[str, Any]:
    x = leaf([-1.5, 0.5, 2.0])
    out = -x.abs() + (-x)
    return locals()


def p_pow() -> dict[str, Any]:
    x, e = leaf([0.5, 1.5, 2.0]), leaf([1.0, 2.0, 0.5])
    out = x**3 + x**e + 2**x
    return locals()


def p_exp_log_sqrt() -> dict[str, Any]:
    x = leaf([0.5, 1.5, 2.0])
    out = torch.exp(x) + torch.log(x) + x.sqrt()
    return locals()


def p_trig() -> dict[str, Any]:
    x = rand(4)
    out = torch.sin(x) * torch.cos(x) + torch.tanh(x)
    return locals()


def p_activations() -> dict[str, Any]:
    x = leaf([-2.0, -0.5, 0.5, 3.0])
    out = torch.sigmoid(x) + torch.relu(x) + F.leaky_relu(x, 0.1) + F.gelu(x)
    return locals()


def p_softmax() -> dict[str, Any]:
    x = rand(2, 5)
    sm = torch.softmax(x, dim=1)
    ls = torch.log_softmax(x, dim=1)
    out = (sm * ls).sum()
    return locals()


def p_matmul() -> dict[str, Any]:
    A, B, v = rand(3, 4), rand(4, 2), rand(2)
    AB = A @ B
    out = torch.mm(AB, B.t()).sum() + (AB @ v).sum() + torch.mv(AB, v).mean()
    return locals()


def p_bmm() -> dict[str, Any]:
    X, W = rand(2, 3, 4), rand(4, 5)
    out = torch.matmul(X, W).sum() + torch.bmm(X, X.transpose(1, 2)).mean()
    return locals()


def p_linear() -> dict[str, Any]:
    x, W, b = rand(5, 3), rand(4, 3), rand(4)
    y = F.linear(x, W, b)
    z = F.linear(x, W)
    out = (y * z).sum()
    return locals()


def p_reductions() -> dict[str, Any]:
    x = rand(3, 4)
    s0 = x.sum(0)
    m1 = x.mean(1, keepdim=True)
    out = s0.sum() * x.mean() + (m1 * x).sum()
    return locals()


def p_shapes() -> dict[str, Any]:
    x = rand(2, 3, 4)
    v = x.view(6, 4)
    r = x.reshape(4, 6)
    f = x.flatten()
    p = x.permute(2, 0, 1)
    t = v.t()
    tr = x.transpose(0, 2)
    u = f.unsqueeze(0).squeeze(0)
    out = v.sum() + (r * 2).sum() + (f * f).sum() + p[0].sum() + t.sum() + tr.sum() + u.mean()
    return locals()


def p_expand() -> dict[str, Any]:
    x = rand(3, 1)
    e = x.expand(3, 4)
    out = (e * torch.arange(12, dtype=D).view(3, 4)).sum()
    return locals()


def p_indexing() -> dict[str, Any]:
    x = rand(4, 3)
    first = x[0]
    cols = x[:, 1:]
    picked = x[[0, 2, 2]]
    pos = x[x > 0]
    out = first.sum() + (cols * cols).sum() + picked.sum() + pos.sum() + x[1, 2]
    return locals()


def p_cat_stack() -> dict[str, Any]:
    a, b = rand(2, 3), rand(1, 3)
    c = torch.cat([a, b])
    s = torch.stack([a[0], b[0]])
    out = (c * c).sum() + s.sum()
    return locals()


def p_max_min() -> dict[str, Any]:
    x = leaf([[1.0, 5.0, 2.0], [7.0, 0.5, 3.0]])
    mx = x.max()
    mn = x.min()
    row = x.max(dim=1).values
    out = mx - mn + row.sum() + torch.maximum(x, x.t().reshape(2, 3)).sum()
    return locals()


def p_clamp() -> dict[str, Any]:
    x = leaf([-2.0, -0.5, 0.25, 1.5])
    out = x.clamp(-1, 1).sum() + x.clamp(min=0).sum() + torch.clamp(x, max=0.5).sum()
    return locals()


def p_where() -> dict[str, Any]:
    x = leaf([-2.0, -0.5, 0.25, 1.5])
    out = torch.where(x > 0, x * x, -x).sum() + x.norm()
    return locals()


def p_mse() -> dict[str, Any]:
    pred, target = rand(6), torch.randn(6, dtype=D)
    out = F.mse_loss(pred, target)
    return locals()


def p_cross_entropy() -> dict[str, Any]:
    logits, target = rand(4, 3), torch.tensor([0, 2, 1, 2])
    out = F.cross_entropy(logits, target)
    return locals()


def p_nll() -> dict[str, Any]:
    logits, target = rand(4, 3), torch.tensor([0, 2, 1, 2])
    logp = F.log_softmax(logits, dim=1)
    out = F.nll_loss(logp, target)
    return locals()


def p_bce() -> dict[str, Any]:
    z, y = rand(5), torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=D)
    p = torch.sigmoid(z)
    out = F.binary_cross_entropy(p, y)
    return locals()


def p_mlp() -> dict[str, Any]:
    torch.manual_seed(1)
    l1 = torch.nn.Linear(3, 8, dtype=D)
    l2 = torch.nn.Linear(8, 1, dtype=D)
    W1, b1, W2, b2 = l1.weight, l1.bias, l2.weight, l2.bias
    x, y = torch.randn(10, 3, dtype=D), torch.randn(10, 1, dtype=D)
    h = torch.relu(l1(x))
    pred = l2(h)
    out = F.mse_loss(pred, y)
    return locals()


def p_loop() -> dict[str, Any]:
    w, b = leaf(0.9), leaf(0.1)
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(4):
        y = y * w + b
    out = y.sum()
    return locals()


def p_branch() -> dict[str, Any]:
    x = leaf([1.0, -2.0, 3.0])
    y = x.sum()
    z = x * 2 if y > 0 else x * -3  # the graph depends on the data
    out = z.pow(2).sum()
    return locals()


def p_shared_leaf() -> dict[str, Any]:
    x = leaf([1.0, 2.0, 3.0])
    out = (x * x * x + x).sum()
    return locals()


def p_two_roots() -> dict[str, Any]:
    x, w = rand(3), rand(3)
    h = x * w
    outs = [h.sum(), (h * h).mean()]
    return locals()


def p_split_unbind() -> dict[str, Any]:
    x = rand(4, 2)
    first, second = x.split(2)
    out = first.sum() * 2 + second.pow(2).sum() + x.unbind(1)[1].sum()
    return locals()


def p_inplace_clone() -> dict[str, Any]:
    x = rand(3)
    y = x.clone()
    y.mul_(2)
    out = (y + 1).sum()
    return locals()


PROGRAMS: list[Callable[[], dict[str, Any]]] = [
    p_seed004,
    p_arith,
    p_broadcast,
    p_scalars,
    p_neg_abs,
    p_pow,
    p_exp_log_sqrt,
    p_trig,
    p_activations,
    p_softmax,
    p_matmul,
    p_bmm,
    p_linear,
    p_reductions,
    p_shapes,
    p_expand,
    p_indexing,
    p_cat_stack,
    p_max_min,
    p_clamp,
    p_where,
    p_mse,
    p_cross_entropy,
    p_nll,
    p_bce,
    p_mlp,
    p_loop,
    p_branch,
    p_shared_leaf,
    p_two_roots,
    p_split_unbind,
    p_inplace_clone,
]


def roots_of(env: dict[str, Any]) -> list[torch.Tensor]:
    return list(env["outs"]) if "outs" in env else [env["out"]]


def tensors_of(env: dict[str, Any]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in env.items() if isinstance(v, torch.Tensor)}


def run(program: Callable[[], dict[str, Any]], **backward: Any) -> dict[str, Any]:
    """Run a program under capture, record and run its backward, build the graph: everything to compare."""
    torch.manual_seed(0)
    with Capture() as cap:
        env = program()
    roots = roots_of(env)
    rec = BackwardRecorder(roots)
    torch.autograd.backward(roots, [torch.ones_like(r) for r in roots], **backward)
    rec.remove()
    g = graph.build(roots, names=tensors_of(env), values=cap.values, grads=rec.grads, saved=rec.saved)
    return {"env": env, "roots": roots, "cap": cap, "rec": rec, "graph": g, "json": g.to_json()}


def as_list(t: torch.Tensor | None) -> Any:
    return None if t is None else t.detach().tolist()


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_every_node_value_and_grad_equals_torch(program: Callable[[], dict[str, Any]]) -> None:
    r = run(program)
    g, j, cap = r["graph"], r["json"], r["cap"]
    nodes = {n["id"]: n for n in j["nodes"]}
    assert len(nodes) == len(j["nodes"]) == len(g)
    checked = 0
    for fn, live in cap.live.items():  # every op output torch produced, with its retained grad
        nid = g.id_of(fn)
        if nid is None or live.grad_fn is not fn:
            continue  # an op whose result no root depends on, or a tensor changed in place later on
        node = nodes[nid]
        assert node["value"] == as_list(live), nid
        assert node["grad"] == as_list(live.grad), nid
        assert node["shape"] == list(live.shape)
        checked += 1
    for name, t in tensors_of(r["env"]).items():  # the user's variables: leaves by name, results by their op
        nid = g.id_of(t)
        if nid is None:  # no root depends on it (constants, or a value used only by control flow)
            continue
        node = nodes[nid]
        if t.grad_fn is None:
            assert node["kind"] == "leaf" and node["grad_fn"] == "AccumulateGrad"
            assert node["value"] == as_list(t) and node["grad"] == as_list(t.grad), name
            checked += 1
        elif t.output_nr == 0:
            assert node["value"] == as_list(t), name
    assert checked >= 2
    json.dumps(j, allow_nan=False)  # strict JSON


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_structure_mirrors_next_functions(program: Callable[[], dict[str, Any]]) -> None:
    r = run(program)
    g, j = r["graph"], r["json"]
    ids = [n["id"] for n in j["nodes"]]
    assert ids == [f"n{i}" for i in range(len(ids))]
    expected_edges = []
    for n in j["nodes"]:
        assert n["kind"] in ("leaf", "op", "output")
        assert n["grad_fn"] and n["name"]
    found = grad_fns(r["roots"])  # an independent walk over torch's own structure
    for fn in found:
        expected_edges += [(g.id_of(nxt), g.id_of(fn)) for nxt, _ in fn.next_functions if nxt is not None]
    assert len(found) == len(g)
    assert sorted(expected_edges) == sorted((e["src"], e["dst"]) for e in j["edges"])
    for t in r["roots"]:
        assert next(n for n in j["nodes"] if n["id"] == g.id_of(t))["kind"] == "output"


def test_seed_004_leaves_show_their_gradients() -> None:
    a = torch.tensor([2.0, 4.0], requires_grad=True)
    b = torch.tensor([7.0, 5.0], requires_grad=True)
    E = 3 * a**3 - b**2
    rec = BackwardRecorder(E)
    E.backward(gradient=torch.tensor([1.0, 1.0]))
    rec.remove()
    assert a.grad.tolist() == [36.0, 144.0] and b.grad.tolist() == [-14.0, -10.0]
    g = graph.build(E, names={"a": a, "b": b, "E": E}, grads=rec.grads, saved=rec.saved)
    nodes = {n["id"]: n for n in g.to_json()["nodes"]}
    na, nb, ne = nodes[g.id_of(a)], nodes[g.id_of(b)], nodes[g.id_of(E)]
    assert (na["kind"], na["name"], na["label"]) == ("leaf", "a", "a")
    assert (na["value"], na["grad"]) == ([2.0, 4.0], [36.0, 144.0])
    assert (nb["kind"], nb["name"], nb["grad"]) == ("leaf", "b", [-14.0, -10.0])
    assert (ne["kind"], ne["label"], ne["name"], ne["grad_fn"]) == ("output", "E", "sub", "SubBackward0")
    assert ne["value"] == (3 * a**3 - b**2).tolist() and ne["grad"] == [1.0, 1.0]
    pow_a = next(n for n in nodes.values() if n["name"] == "pow" and n["saved"]["exponent"] == 3)
    assert pow_a["saved"]["self"]["value"] == [2.0, 4.0]  # snapshot taken before backward freed it


def test_leaf_labels_unnamed_leaves_and_ignored_roots() -> None:
    x, w = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    const = torch.ones(2)
    y = x * w
    g = graph.build([y, const], names={"x": x, "y": y})
    nodes = g.to_json()["nodes"]
    assert [n["name"] for n in nodes if n["kind"] == "leaf"] == ["x", "leaf0"]
    assert g.id_of(const) is None and len(g) == 3
    assert nodes[0]["label"] == "y" and nodes[0]["kind"] == "output"
    only_leaf = graph.build(x, names={"x": x})
    assert len(only_leaf) == 1 and only_leaf.to_json()["nodes"][0]["kind"] == "leaf"


def test_leaf_root_and_its_accumulator_are_one_node() -> None:
    x = torch.ones(2, requires_grad=True)
    y = x * 3
    g = graph.build([x, y], names={"x": x})
    assert len(g) == 2
    assert g.id_of(x) == g.id_of(y.grad_fn.next_functions[0][0])


def test_values_fall_back_to_named_tensors_and_grads_to_retained() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    out = h.sum()
    out.backward()
    g = graph.build(out, names={"x": x, "h": h, "out": out})
    nodes = {n["id"]: n for n in g.to_json()["nodes"]}
    assert nodes[g.id_of(h)]["value"] == [3.0, 6.0] and nodes[g.id_of(h)]["grad"] == [1.0, 1.0]
    assert nodes[g.id_of(out)]["value"] == 9.0
    assert nodes[g.id_of(x)]["grad"] == [3.0, 3.0]


def test_saved_read_live_before_backward_and_noted_after() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    before = graph.build(y).to_json()
    mul = next(n for n in before["nodes"] if n["name"] == "mul")
    assert mul["saved"]["self"]["value"] == [1.0, 2.0] and mul["saved"]["other"]["shape"] == [2]
    y.backward()
    after = graph.build(y).to_json()
    mul = next(n for n in after["nodes"] if n["name"] == "mul")
    assert mul["saved"] is None and "freed" in mul["saved_note"]


def test_big_tensors_are_summarised() -> None:
    x = torch.randn(MAX_JSON_ELEMENTS + 1, dtype=D, requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    n = graph.build(y, names={"x": x}).to_json()["nodes"]
    big = next(v for v in n if v["kind"] == "leaf")
    assert big["value"] is None and big["grad"] is None
    assert big["summary"]["max"] == pytest.approx(x.max().item())
    assert big["grad_summary"] == {"min": 2.0, "max": 2.0, "mean": 2.0, "std": 0.0}


def test_values_dict_wins_and_nan_stays_json() -> None:
    x = torch.tensor([1.0, float("nan")], requires_grad=True)
    y = x * 2
    g = graph.build(y, values={y.grad_fn: torch.tensor([5.0, float("inf")])})
    node = g.to_json()["nodes"][0]
    assert node["value"] == [5.0, "inf"]
    json.dumps(g.to_json(), allow_nan=False)


def test_op_names() -> None:
    assert graph.op_name("MulBackward0") == "mul"
    assert graph.op_name("MseLossBackward0") == "mse_loss"
    assert graph.op_name("LogSoftmaxBackward0") == "log_softmax"
    assert graph.op_name("PowBackward1") == "pow"
    assert graph.op_name("TBackward0") == "t"
    assert graph.op_name("AccumulateGrad") == "accumulate_grad"


@pytest.mark.slow
def test_100k_op_chain_builds_iteratively() -> None:
    x, y = mul_chain(100_000)
    t0 = time.perf_counter()
    g = graph.build(y, names={"x": x, "y": y})
    assert time.perf_counter() - t0 < 10
    assert len(g) == 100_001
    assert g.id_of(y) == "n0" and g.id_of(x) == "n100000"
    dot = g.to_dot()
    assert dot.count("label=<") <= DEFAULT_NODE_BUDGET and "x99998" in dot
    graph.release(env := {"x": x, "y": y})  # torch frees a walked chain recursively: drop it on a deep stack
    del x, y
    assert not env and len(g) == 100_001


@pytest.mark.slow
def test_release_frees_a_deep_walked_chain_without_crashing() -> None:
    env = {"y": torch.ones(1, requires_grad=True)}
    for _ in range(60_000):
        env["y"] = env["y"] * 1.0
    graph.reachable(env["y"])  # a walk makes torch's later free recursive
    graph.release(env)
    assert env == {}
