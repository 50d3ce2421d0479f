"""core.backward against PyTorch: the engine's real order, gradients in and out of each step, the rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from core import backward, graph
from core.backward import BackwardRecorder, rule_for, steps_to_json
from core.limits import MAX_JSON_ELEMENTS
from tests.conftest import grad_fns
from tests.test_graph_core import PROGRAMS, roots_of, tensors_of

D = torch.float64


def hook_order(roots: list[torch.Tensor]) -> tuple[list[Any], list[Any]]:
    """An independent recording: our own prehooks on every node, appending the node as it starts."""
    order: list[Any] = []
    handles = [fn.register_prehook(lambda grads, fn=fn: order.append(fn)) for fn in grad_fns(roots)]
    return order, handles


def run(program: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], BackwardRecorder, list[Any]]:
    torch.manual_seed(0)
    env = program()
    roots = roots_of(env)
    for t in tensors_of(env).values():
        if t.requires_grad and not t.is_leaf:
            t.retain_grad()
    rec = BackwardRecorder(roots)
    order, handles = hook_order(roots)
    torch.autograd.backward(roots, [torch.ones_like(r) for r in roots])
    rec.remove()
    for h in handles:
        h.remove()
    return env, rec, order


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_order_matches_hooks_and_grads_follow_the_chain_rule(program: Callable[[], dict[str, Any]]) -> None:
    env, rec, order = run(program)
    assert [s.node for s in rec.steps] == order  # the engine's real order
    assert [s.index for s in rec.steps] == list(range(len(order)))
    # Chain rule, checked against torch: what a node receives is the sum of what its consumers sent it.
    received: dict[tuple[Any, int], torch.Tensor] = {}  # (node, which output) -> summed gradient
    for s in rec.steps:
        for edge, g in zip(s.node.next_functions, s.outgoing, strict=True):
            if edge[0] is not None and g is not None:
                received[edge] = received[edge] + g if edge in received else g
    for s in rec.steps:
        for nr, g in enumerate(s.incoming):
            if (s.node, nr) in received:
                assert torch.allclose(g, received[s.node, nr], rtol=1e-12, atol=1e-12), s.grad_fn
    for name, t in tensors_of(env).items():
        if t.grad is None:
            continue
        fn = t.grad_fn if t.grad_fn is not None else next((s.node for s in rec.steps if _is_acc_of(s.node, t)), None)
        if fn is not None and (t.grad_fn is None or t.output_nr == 0) and fn in rec.grads:
            assert torch.equal(rec.grads[fn], t.grad), name


def _is_acc_of(node: Any, t: torch.Tensor) -> bool:
    return type(node).__name__ == "AccumulateGrad" and node.variable is t


def test_seed_004_steps() -> None:
    a = torch.tensor([2.0, 4.0], requires_grad=True)
    b = torch.tensor([7.0, 5.0], requires_grad=True)
    E = 3 * a**3 - b**2
    with BackwardRecorder(E) as rec:
        E.backward(gradient=torch.tensor([1.0, 1.0]))
    g = graph.build(E, names={"a": a, "b": b, "E": E}, grads=rec.grads, saved=rec.saved)
    steps = steps_to_json(rec.steps, g)
    json.dumps(steps, allow_nan=False)
    assert steps[0]["node"] == g.id_of(E) and steps[0]["incoming"] == [[1.0, 1.0]]
    assert steps[0]["outgoing"] == [[1.0, 1.0], [-1.0, -1.0]] and steps[0]["rule"]["formula"].startswith("d(x-y)")
    acc = {s["node"]: s for s in steps if s["grad_fn"] == "AccumulateGrad"}
    assert acc[g.id_of(a)]["incoming"] == [[36.0, 144.0]] and acc[g.id_of(b)]["incoming"] == [[-14.0, -10.0]]
    assert acc[g.id_of(a)]["rule"] == backward.RULES["accumulate_grad"]
    assert all(s["node"] is not None for s in steps) and sorted(s["index"] for s in steps) == list(range(len(steps)))


def test_engine_order_from_the_profiler() -> None:
    """A second independent witness: the profiler's autograd::engine events, in time order."""
    from torch.profiler import ProfilerActivity, profile

    x = torch.randn(3, 4, dtype=D, requires_grad=True)
    w = torch.randn(4, 2, dtype=D, requires_grad=True)
    y = torch.tanh(x @ w).exp().sum() + (x * x).mean()
    with BackwardRecorder(y) as rec, profile(activities=[ProfilerActivity.CPU]) as prof:
        y.backward()
    prefix = "autograd::engine::evaluate_function: "
    events = sorted((e for e in prof.events() if e.name.startswith(prefix)), key=lambda e: e.time_range.start)
    names = [e.name[len(prefix) :].replace("torch::autograd::", "") for e in events]
    assert names == [s.grad_fn for s in rec.steps]


def test_hooks_do_not_change_gradients() -> None:
    def grads(record: bool) -> list[torch.Tensor]:
        torch.manual_seed(3)
        x, w = torch.randn(5, 3, dtype=D, requires_grad=True), torch.randn(3, dtype=D, requires_grad=True)
        loss = F.mse_loss(torch.sigmoid(x @ w), torch.ones(5, dtype=D))
        if record:
            with BackwardRecorder(loss):
                loss.backward()
        else:
            loss.backward()
        return [x.grad, w.grad]

    assert all(torch.equal(a, b) for a, b in zip(grads(True), grads(False), strict=True))


def test_multiple_roots_and_inputs_subset() -> None:
    x = torch.tensor([1.0, 2.0], dtype=D, requires_grad=True)
    w = torch.tensor([3.0, 4.0], dtype=D, requires_grad=True)
    h = x * w
    l1, l2 = h.sum(), (h * h).sum()
    with BackwardRecorder([l1, l2]) as rec:
        torch.autograd.backward([l1, l2], inputs=[x])
    ran = [s.grad_fn for s in rec.steps]
    assert ran.count("AccumulateGrad") == 1  # only x's accumulator runs
    acc = next(s for s in rec.steps if s.grad_fn == "AccumulateGrad")
    assert acc.node.variable is x and torch.equal(acc.incoming[0], x.grad)
    assert w.grad is None
    assert torch.equal(x.grad, w.detach() + 2 * h.detach() * w.detach())


def test_retain_graph_records_each_pass() -> None:
    x = torch.tensor([1.0, -1.0], dtype=D, requires_grad=True)
    y = (x.exp() * x).sum()
    with BackwardRecorder(y) as rec:
        y.backward(retain_graph=True)
        first = [s.node for s in rec.steps]
        y.backward()
    assert [s.node for s in rec.steps] == first + first
    assert torch.equal(rec.steps[-1].incoming[0], rec.steps[len(first) - 1].incoming[0])
    g = graph.build(y, names={"x": x}, grads=rec.grads, saved=rec.saved)
    leaf = next(n for n in g.to_json()["nodes"] if n["kind"] == "leaf")
    assert leaf["grad"] == x.grad.tolist() == (2 * (x.exp() + x * x.exp())).tolist()


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_create_graph_stores_detached_copies() -> None:
    x = torch.tensor([0.5, 1.5], dtype=D, requires_grad=True)
    y = (x**3).sum()
    with BackwardRecorder(y) as rec:
        y.backward(create_graph=True)
    assert x.grad.grad_fn is not None  # the gradient is itself differentiable
    for s in rec.steps:
        assert all(g is None or (g.grad_fn is None and not g.requires_grad) for g in s.incoming + s.outgoing)
    acc = next(s for s in rec.steps if s.grad_fn == "AccumulateGrad")
    assert torch.equal(acc.incoming[0], x.grad.detach())
    (x.grad.sum()).backward()  # and the recorder did not break second order
    assert torch.allclose(x.grad, 3 * x.detach() ** 2 + 6 * x.detach())


def test_autograd_grad() -> None:
    x = torch.tensor([1.0, 2.0, 3.0], dtype=D, requires_grad=True)
    y = (torch.sin(x) * x).sum()
    with BackwardRecorder(y) as rec:
        (gx,) = torch.autograd.grad(y, x)
    assert x.grad is None
    assert "AccumulateGrad" not in [s.grad_fn for s in rec.steps]  # autograd.grad captures instead
    mul = next(s for s in rec.steps if s.grad_fn == "MulBackward0")
    assert torch.equal(mul.outgoing[1] + rec.steps[-1].outgoing[0], gx)  # d/dx via x and via sin(x)


def test_saved_snapshots_survive_backward() -> None:
    x = torch.tensor([2.0, 3.0], dtype=D, requires_grad=True)
    y = (x**2).sum()
    rec = BackwardRecorder(y)
    y.backward()
    rec.remove()
    pow_node = y.grad_fn.next_functions[0][0]
    with pytest.raises(RuntimeError):
        _ = pow_node._saved_self  # freed by torch
    assert torch.equal(rec.saved[pow_node]["self"], x.detach()) and rec.saved[pow_node]["exponent"] == 2
    with torch.no_grad():
        x.mul_(10)  # later changes to x do not reach the snapshot
    assert rec.saved[pow_node]["self"].tolist() == [2.0, 3.0]


def test_remove_stops_recording() -> None:
    x = torch.ones(2, requires_grad=True)
    y = (x * 2).sum()
    rec = BackwardRecorder(y)
    rec.remove()
    y.backward()
    assert rec.steps == []


def test_steps_json_summarises_big_tensors_and_unknown_nodes() -> None:
    x = torch.randn(MAX_JSON_ELEMENTS + 1, dtype=D, requires_grad=True)
    y = (x * 2).sum()
    with BackwardRecorder(y) as rec:
        y.backward()
    steps = steps_to_json(rec.steps, None)
    mul = next(s for s in steps if s["grad_fn"] == "MulBackward0")
    assert mul["node"] is None and mul["incoming"] == [None] and mul["incoming_summary"][0]["max"] == 1.0
    assert mul["outgoing_shapes"][0] == [MAX_JSON_ELEMENTS + 1]
    json.dumps(steps, allow_nan=False)


def _grad_fn_of(make: Callable[[torch.Tensor], torch.Tensor]) -> str:
    x = torch.rand(3, 4, dtype=D, requires_grad=True) + 0.5
    return type(make(x).grad_fn).__name__


RULED_OPS: list[Callable[[torch.Tensor], torch.Tensor]] = [
    lambda x: x + 1,
    lambda x: x - x,
    lambda x: 1 - x,
    lambda x: x * x,
    lambda x: x / x,
    lambda x: -x,
    lambda x: x**2,
    lambda x: x**x,
    lambda x: 2**x,
    lambda x: x.exp(),
    lambda x: x.log(),
    lambda x: x.sqrt(),
    lambda x: x.abs(),
    lambda x: x.sin(),
    lambda x: x.cos(),
    lambda x: x.tanh(),
    lambda x: x.sigmoid(),
    lambda x: x.relu(),
    lambda x: x.softmax(1),
    lambda x: x.log_softmax(1),
    lambda x: x @ x.t(),
    lambda x: torch.mv(x, x[0]),
    lambda x: F.linear(x, x, x[:, 0]),
    lambda x: x.sum(),
    lambda x: x.sum(0),
    lambda x: x.mean(),
    lambda x: x.mean(1),
    lambda x: x.view(12),
    lambda x: x.reshape(2, 6),
    lambda x: x.expand(2, 3, 4),
    lambda x: x.t(),
    lambda x: x.transpose(0, 1),
    lambda x: x.permute(1, 0),
    lambda x: x[0],
    lambda x: x[:, 1:],
    lambda x: x[[0, 1]],
    lambda x: torch.cat([x, x]),
    lambda x: torch.stack([x, x]),
    lambda x: x.max(),
    lambda x: x.max(1).values,
    lambda x: x.min(),
    lambda x: x.clamp(0.6, 0.9),
    lambda x: x.clamp(min=0.7),
    lambda x: x.clamp(max=0.7),
    lambda x: F.mse_loss(x, torch.zeros(3, 4, dtype=D)),
    lambda x: F.nll_loss(x, torch.tensor([0, 1, 2])),
    lambda x: x.unsqueeze(0),
    lambda x: x.squeeze(),
]


def test_rules_cover_the_listed_ops() -> None:
    names = {_grad_fn_of(make) for make in RULED_OPS}
    assert {"MulBackward0", "AddmmBackward0", "MseLossBackward0", "NllLossBackward0", "LogSoftmaxBackward0"} <= names
    missing = sorted(n for n in names if rule_for(n) is None)
    assert missing == []
    for key in ("cross_entropy", "linear", "matmul", "accumulate_grad"):
        assert set(backward.RULES[key]) == {"en", "zh", "formula"}
    assert rule_for("AccumulateGrad") == backward.RULES["accumulate_grad"]
    assert rule_for("PowBackward1") == backward.RULES["pow"]
    assert rule_for("CumsumBackward0") is None  # not described: the UI says so


def test_copies_are_invisible_to_active_torch_modes() -> None:
    """A tracer or resource guard (torch modes) must see the user's ops only, never our bookkeeping copies."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    class Log(TorchFunctionMode):
        def __init__(self, seen: list[str]) -> None:
            super().__init__()
            self.seen = seen

        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
            self.seen.append(f"f:{getattr(func, '__name__', func)}")
            return func(*args, **(kwargs or {}))

    class Guard(TorchDispatchMode):
        def __init__(self, seen: list[str]) -> None:
            super().__init__()
            self.seen = seen

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
            self.seen.append(f"d:{func}")
            return func(*args, **(kwargs or {}))

    def seen(record: bool) -> list[str]:
        out: list[str] = []
        x = torch.tensor([1.0, 2.0], dtype=D, requires_grad=True)
        with Log(out), Guard(out):
            y = (x * x).exp().sum()
            rec = BackwardRecorder(y) if record else None
            out.clear()
            y.backward()
        if rec is not None:
            assert len(rec.steps) == 4 and rec.steps[-1].incoming[0] is not None
        return out

    assert seen(record=True) == seen(record=False)


def test_steps_json_has_a_total_budget_of_listed_numbers(monkeypatch) -> None:
    import core.backward as cb

    monkeypatch.setattr(cb, "MAX_GRAPH_JSON_ELEMENTS", 300)
    x = torch.ones(100, requires_grad=True)
    y = x
    for _ in range(4):
        y = y * 2.0
    rec = cb.BackwardRecorder(y)
    y.backward(torch.ones(100))
    rec.remove()
    rows = cb.steps_to_json(rec.steps, None)
    listed = sum(len(v) for r in rows for k in ("incoming", "outgoing") for v in r[k] if v is not None)
    assert listed <= 300
    assert any(r.get("incoming_summary") or r.get("outgoing_summary") for r in rows)
