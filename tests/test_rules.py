"""Every local rule, computed from a step's saved tensors, against the gradients PyTorch's engine produced, and
the rule's words and formula against the op's real arguments. The ops run in torch directly; no number here is
typed in as an expected value."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from core import local_rules
from core.backward import BackwardRecorder, rule_for_step, steps_to_json, substitute

D = torch.float64


def leaf(*shape: int, dtype: torch.dtype = D, lo: float = 0.5) -> torch.Tensor:
    return (torch.rand(*shape, dtype=dtype) + lo).requires_grad_(True)


# (name, make) -> make() returns (output, leaves); the op under test is the output's grad_fn
CASES: list[tuple[str, Callable[[], tuple[torch.Tensor, list[torch.Tensor]]]]] = []


def case(name: str) -> Callable:
    def put(fn: Callable) -> Callable:
        CASES.append((name, fn))
        return fn

    return put


def _two(op: Callable, *shapes: tuple[int, ...]) -> Callable:
    def make():
        xs = [leaf(*s) for s in shapes]
        return op(*xs), xs

    return make


for _name, _op, _shapes in [
    ("add_broadcast", lambda x, y: x + y, [(2, 3), (3,)]),
    ("add_alpha", lambda x, y: torch.add(x, y, alpha=2.5), [(2, 3), (2, 3)]),
    ("sub_alpha", lambda x, y: torch.sub(x, y, alpha=3), [(2, 3), (1, 3)]),
    ("rsub_scalar", lambda x: 1 - x, [(3,)]),
    ("rsub_tensor", lambda x, y: torch.rsub(x, y), [(3,), (3,)]),
    ("mul", lambda x, y: x * y, [(2, 3), (2, 1)]),
    ("mul_scalar", lambda x: 3 * x, [(2,)]),
    ("div", lambda x, y: x / y, [(2, 3), (3,)]),
    ("neg", lambda x: -x, [(4,)]),
    ("pow_int", lambda x: x**3, [(2,)]),
    ("pow_tensor", lambda x, y: x**y, [(2, 3), (2, 3)]),
    ("pow_scalar_base", lambda y: 2**y, [(3,)]),
    ("exp", torch.exp, [(3,)]), ("log", torch.log, [(3,)]), ("sqrt", torch.sqrt, [(3,)]),
    ("abs", lambda x: (x - 1).abs(), [(4,)]), ("sin", torch.sin, [(3,)]), ("cos", torch.cos, [(3,)]),
    ("tanh", torch.tanh, [(3,)]), ("sigmoid", torch.sigmoid, [(3,)]), ("relu", lambda x: torch.relu(x - 1), [(5,)]),
    ("softmax", lambda x: x.softmax(0), [(3, 2)]), ("log_softmax", lambda x: x.log_softmax(1), [(2, 3)]),
    ("mm", lambda a, b: a @ b, [(2, 3), (3, 4)]), ("bmm", torch.bmm, [(2, 2, 3), (2, 3, 2)]),
    ("mv", torch.mv, [(2, 3), (3,)]), ("dot", torch.dot, [(3,), (3,)]),
    ("vec_matmul", lambda a, b: a @ b, [(4,), (4,)]),
    ("addmm_beta_alpha", lambda b, x, w: torch.addmm(b, x, w, beta=0.5, alpha=2.0), [(3,), (2, 4), (4, 3)]),
    ("linear", F.linear, [(2, 3), (4, 3), (4,)]),
    ("sum", torch.sum, [(2, 3)]), ("sum_dim", lambda x: x.sum(0), [(2, 3)]),
    ("sum_dims_keepdim", lambda x: x.sum((0, 2), keepdim=True), [(2, 3, 2)]),
    ("mean", torch.mean, [(2, 3)]), ("mean_dim", lambda x: x.mean(-1), [(2, 3)]),
    ("view", lambda x: x.view(6), [(2, 3)]), ("reshape", lambda x: x.reshape(3, 2), [(2, 3)]),
    ("expand", lambda x: x.expand(2, 3), [(3,)]), ("t", lambda x: x.t(), [(2, 3)]),
    ("transpose_3d", lambda x: x.transpose(0, 2), [(2, 1, 3)]),
    ("permute_3d", lambda x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("squeeze", lambda x: x.squeeze(1), [(2, 1, 3)]), ("unsqueeze", lambda x: x.unsqueeze(1), [(2, 3)]),
    ("select", lambda x: x[1], [(2, 3)]), ("slice_step", lambda x: x[:, ::2], [(2, 5)]),
    ("index_repeats", lambda x: x[torch.tensor([0, 2, 2])], [(3, 2)]),
    ("cat", lambda x, y: torch.cat([x, y], 1), [(2, 1), (2, 3)]),
    ("stack", lambda x, y: torch.stack([x, y], 1), [(2, 3), (2, 3)]),
    ("max_full", torch.max, [(2, 3)]), ("min_full", torch.min, [(2, 3)]),
    ("max_dim", lambda x: x.max(1).values, [(2, 3)]),
    ("min_dim_keepdim", lambda x: x.min(0, keepdim=True).values, [(3, 2)]),
    ("amax", lambda x: x.amax(1), [(2, 3)]),
    ("clamp", lambda x: x.clamp(0.8, 1.2), [(6,)]), ("clamp_min", lambda x: x.clamp(min=1.0), [(6,)]),
    ("clamp_max", lambda x: x.clamp(max=1.0), [(6,)]),
    ("mse_mean", lambda x, y: F.mse_loss(x, y), [(2, 3), (2, 3)]),
    ("mse_sum", lambda x, y: F.mse_loss(x, y, reduction="sum"), [(2, 3), (2, 3)]),
    ("mse_none", lambda x, y: F.mse_loss(x, y, reduction="none"), [(2, 3), (2, 3)]),
    ("where", lambda x, y: torch.where(x > 1, x, y), [(2, 3), (3,)]),
    ("clone", lambda x: x.clone(), [(3,)]),
]:  # fmt: skip
    case(_name)(_two(_op, *_shapes))


@case("nll_mean")
def _nll():
    x = leaf(3, 4)
    return F.nll_loss(x, torch.tensor([0, 3, 1])), [x]


@case("nll_weight_ignore")
def _nll_w():
    x = leaf(4, 3)
    return F.nll_loss(x, torch.tensor([0, 2, 1, 2]), weight=torch.tensor([1.0, 2.0, 0.5], dtype=D), ignore_index=1), [x]


@case("nll_sum_weight")
def _nll_sum():
    x = leaf(3, 3)
    w = torch.tensor([1.0, 2.0, 3.0], dtype=D)
    return F.nll_loss(x, torch.tensor([2, 0, 1]), weight=w, reduction="sum"), [x]


@case("nll_none")
def _nll_none():
    x = leaf(3, 3)
    return F.nll_loss(x, torch.tensor([2, 0, 1]), reduction="none"), [x]


@case("nll_2d_targets")
def _nll_2d():
    x = leaf(2, 3, 2, 2)
    return F.nll_loss(x, torch.tensor([[[0, 1], [2, 0]], [[1, 1], [0, 2]]])), [x]


@case("conv2d")
def _conv():
    x, w, b = leaf(2, 2, 5, 5), leaf(3, 2, 3, 3), leaf(3)
    return F.conv2d(x, w, b, stride=2, padding=1), [x, w, b]


@case("conv2d_dilation_nobias")
def _conv_d():
    x, w = leaf(1, 1, 6, 6), leaf(2, 1, 2, 2)
    return F.conv2d(x, w, dilation=2), [x, w]


@case("linear_constant_input")
def _linear_const():
    x, w, b = torch.rand(2, 3, dtype=D), leaf(4, 3), leaf(4)  # x needs no grad: addmm saves only mat1
    return F.linear(x, w, b), [w, b]


@case("mm_constant_weight")
def _mm_const():
    a = leaf(2, 3)
    return a @ torch.rand(3, 2, dtype=D), [a]


@case("conv2d_constant_input")
def _conv_const():
    w = leaf(2, 1, 3, 3)
    return F.conv2d(torch.rand(1, 1, 4, 4, dtype=D), w), [w]


@case("conv2d_constant_weight")
def _conv_const_w():
    x = leaf(1, 1, 4, 4)
    return F.conv2d(x, torch.rand(2, 1, 3, 3, dtype=D)), [x]


@case("max_pool2d")
def _pool():
    x = leaf(1, 2, 4, 4)
    return F.max_pool2d(x, 2), [x]


@case("max_pool2d_overlap")
def _pool_o():
    x = leaf(1, 1, 5, 5)
    return F.max_pool2d(x, 3, stride=1, padding=1), [x]


@case("batch_norm_train")
def _bn():
    x, w, b = leaf(4, 3), leaf(3), leaf(3)
    return F.batch_norm(x, torch.zeros(3, dtype=D), torch.ones(3, dtype=D), w, b, training=True), [x, w, b]


@case("batch_norm_2d_train")
def _bn2():
    x, w, b = leaf(2, 3, 2, 2), leaf(3), leaf(3)
    return F.batch_norm(x, None, None, w, b, training=True), [x, w, b]


@case("batch_norm_eval")
def _bn_eval():
    x, w, b = leaf(4, 3), leaf(3), leaf(3)
    rm, rv = torch.rand(3, dtype=D), torch.rand(3, dtype=D) + 0.5
    return F.batch_norm(x, rm, rv, w, b, training=False), [x, w, b]


@case("dropout")
def _dropout():
    x = leaf(3, 4)
    return F.dropout(x, 0.5, training=True), [x]


@case("native_dropout")
def _native_dropout():
    x = leaf(3, 4)
    return torch.native_dropout(x, 0.3, True)[0], [x]


@case("embedding")
def _emb():
    w = leaf(5, 2)
    return F.embedding(torch.tensor([[0, 2], [2, 4]]), w), [w]


@case("embedding_padding")
def _emb_pad():
    w = leaf(5, 2)
    return F.embedding(torch.tensor([0, 2, 2, 1]), w, padding_idx=2), [w]


@case("float32_mul")
def _f32():
    x, y = leaf(2, 3, dtype=torch.float32), leaf(2, 3, dtype=torch.float32)
    return x * y, [x, y]


@case("float32_conv")
def _f32_conv():
    x, w = leaf(1, 2, 4, 4, dtype=torch.float32), leaf(2, 2, 3, 3, dtype=torch.float32)
    return F.conv2d(x, w, padding=1), [x, w]


def record(out: torch.Tensor):
    rec = BackwardRecorder(out)
    g = torch.randn_like(out)
    out.backward(g, retain_graph=True)
    rec.remove()
    return rec, g


@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_rule_from_saved_tensors_matches_the_engine_and_torch(name, make):
    torch.manual_seed(hash(name) % 1000)
    out, leaves = make()
    rec, g = record(out)
    step = rec.steps[0]  # the op itself
    assert step.node is out.grad_fn
    shapes = [None if t is None else list(t.shape) for t in step.outgoing]
    terms = local_rules.local_terms(step.grad_fn, step.saved, step.incoming, shapes)
    assert terms is not None, f"no rule computed for {step.grad_fn}"
    # torch directly, with the same incoming gradient, for every input that is one of our leaves
    direct = torch.autograd.grad(out, leaves, g, retain_graph=True, allow_unused=True)
    by_leaf = {id(t): d for t, d in zip(leaves, direct, strict=True)}
    checked = 0
    for k, (fn, _) in enumerate(step.node.next_functions):
        engine = step.outgoing[k]
        if fn is None or engine is None:
            continue
        term = terms[k]
        assert term is not None, (name, k)
        rtol = 1e-10 if engine.dtype == D else 1e-4
        torch.testing.assert_close(term.value.to(D), engine.to(D), rtol=rtol, atol=rtol)
        if type(fn).__name__ == "AccumulateGrad" and id(fn.variable) in by_leaf:
            torch.testing.assert_close(term.value.to(D), by_leaf[id(fn.variable)].to(D), rtol=rtol, atol=rtol)
            checked += 1
        checked += 1
    assert checked > 0
    sub = substitute(step)
    assert sub is not None and sub["agrees"] and all(c["agrees"] for c in sub["inputs"])
    assert rule_for_step(step.grad_fn, step.saved) is not None, step.grad_fn


# --- the words and formulas say what the op computed -----------------------------------------------------------


def _rule(out: torch.Tensor) -> dict:
    rec, _ = record(out)
    s = rec.steps[0]
    return rule_for_step(s.grad_fn, s.saved)


def test_mse_rule_follows_the_reduction():
    x, y = leaf(2, 3), leaf(2, 3)
    mean, summed, none = (_rule(F.mse_loss(x, y, reduction=r)) for r in ("mean", "sum", "none"))
    assert "/ 6" in mean["formula"] and "'mean'" in mean["en"]
    assert "/" not in summed["formula"] and "'sum'" in summed["en"] and "'sum'" in summed["zh"]
    assert "grad_i" in none["formula"] and "'none'" in none["en"]


def test_nll_rule_names_weight_and_ignore_index():
    x = leaf(4, 3)
    r = _rule(F.nll_loss(x, torch.tensor([0, 2, 1, 2]), weight=torch.tensor([1.0, 2.0, 0.5], dtype=D), ignore_index=1))
    assert "w[t_i]" in r["formula"] and "t_i == 1" in r["formula"] and "ignore_index=1" in r["en"]
    assert "ignore_index=1" in r["zh"] and "权重" in r["zh"]
    plain = _rule(F.nll_loss(leaf(3, 3), torch.tensor([0, 1, 2])))
    assert "w[" not in plain["formula"] and "ignore_index" not in plain["en"] and plain["formula"].endswith("/ N")
    ce = _rule(F.cross_entropy(leaf(3, 3), torch.tensor([0, 1, 2]), ignore_index=0))
    assert "ignore_index=0" in ce["en"]


def test_addmm_rule_shows_beta_and_alpha():
    r = _rule(torch.addmm(leaf(3), leaf(2, 4), leaf(4, 3), beta=0.5, alpha=2.0))
    assert "db = 0.5 * grad" in r["formula"] and "dA = 2 * grad @ W.T" in r["formula"]
    assert "0.5" in r["zh"] and "2" in r["zh"]


def test_transpose_and_permute_rules_beyond_2d():
    assert _rule(leaf(2, 1, 3).transpose(0, 2))["formula"] == "dx = grad.transpose(0, 2)"
    dims = (2, 0, 1)
    x = leaf(2, 3, 4)
    r = _rule(x.permute(*dims))
    inv = tuple(torch.argsort(torch.tensor(dims)).tolist())  # the inverse permutation, by torch
    assert r["formula"] == f"dx = grad.permute{inv}"
    assert x.permute(*dims).permute(*inv).shape == x.shape


def test_mv_and_dot_have_vector_rules():
    assert "outer(grad, v)" in _rule(torch.mv(leaf(2, 3), leaf(3)))["formula"]
    assert _rule(torch.dot(leaf(3), leaf(3)))["formula"] == "da = grad * b; db = grad * a"


def test_max_with_dim_routes_to_one_index_full_max_shares_among_ties():
    x = torch.tensor([[1.0, 1.0], [2.0, 0.0]], dtype=D, requires_grad=True)
    full = x.max()
    per_row = x.max(1).values
    (g_full,) = torch.autograd.grad(full, x, retain_graph=True)
    (g_dim,) = torch.autograd.grad(per_row.sum(), x, retain_graph=True)
    assert g_full[1, 0] == 1.0  # one maximum: all of it (torch)
    y = torch.tensor([2.0, 2.0, 1.0], dtype=D, requires_grad=True)
    (g_tie,) = torch.autograd.grad(y.max(), y)
    assert g_tie[0] == g_tie[1] == 0.5 and g_tie[2] == 0  # ties share (torch)
    assert (g_dim[0] != 0).sum() == 1  # max(dim) with a tie in row 0: one index gets it (torch)
    r_full, r_dim = _rule(y.max()), _rule(x.max(1).values)
    assert "equal share" in r_full["en"] and "count" in r_full["formula"] and "平分" in r_full["zh"]
    assert "one index" in r_dim["en"] and "scatter_" in r_dim["formula"] and "即使" in r_dim["zh"]
    rec, _ = record(y.max())
    sub = substitute(rec.steps[0])
    assert sub["agrees"] and "/ 2" in sub["text"]


def test_new_rules_have_both_languages():
    from core.backward import RULES

    for key in (
        "conv2d",
        "max_pool2d",
        "batch_norm",
        "batch_norm_eval",
        "dropout",
        "embedding",
        "mv",
        "dot",
        "max_dim",
        "min_dim",
        "where",
    ):
        assert set(RULES[key]) == {"en", "zh", "formula"} and all(RULES[key].values())


# --- the rule with the numbers written in ------------------------------------------------------------------------


def test_substituted_text_for_3a_cubed():
    a = torch.tensor([2.0, 4.0], requires_grad=True)
    y = 3 * a**3
    rec = BackwardRecorder(y)
    y.backward(torch.ones_like(y))
    rec.remove()
    rows = steps_to_json(rec.steps, None)
    json.dumps(rows, allow_nan=False, ensure_ascii=False)
    pow_row = next(r for r in rows if r["grad_fn"] == "PowBackward0")
    sub = pow_row["substituted"]
    assert sub["agrees"]
    fmt = local_rules.fmt
    grad_in = rec.steps[[s.grad_fn for s in rec.steps].index("PowBackward0")].incoming[0]
    assert sub["text"] == (
        f"grad_x = grad · 3 · x^2 = {fmt(grad_in.double())} · 3 · {fmt(a.detach().double())}^2 = {fmt(a.grad.double())}"
    )
    assert fmt(a.grad.double()) == "[36, 144]"  # what torch computed, written as a student would
    mul_row = next(r for r in rows if r["grad_fn"] == "MulBackward0")
    assert mul_row["substituted"]["agrees"] and "· 3 =" in mul_row["substituted"]["text"]


def test_a_wrong_engine_gradient_is_flagged():
    a = torch.tensor([2.0, 4.0], dtype=D, requires_grad=True)
    y = (a.exp()).sum()
    rec = BackwardRecorder(y)
    y.backward()
    rec.remove()
    step = next(s for s in rec.steps if s.grad_fn == "ExpBackward0")
    step.outgoing = [step.outgoing[0] * 2]  # as if the engine had sent something else
    sub = substitute(step)
    assert not sub["agrees"] and "≠ engine" in sub["text"] and sub["inputs"][0]["max_diff"] > 0


def test_big_operands_are_checked_but_not_written_out():
    x = leaf(10, 10)
    y = (x * x).sum()
    rec = BackwardRecorder(y)
    y.backward()
    rec.remove()
    rows = steps_to_json(rec.steps, None)
    mul = next(r for r in rows if r["grad_fn"] == "MulBackward0")
    assert mul["substituted"]["agrees"] and mul["substituted"]["text"] is None
    sum_row = next(r for r in rows if r["grad_fn"] == "SumBackward0")
    assert sum_row["substituted"]["text"] is None  # the result has 100 elements


def test_nonfinite_steps_stay_json_safe():
    x = torch.tensor([0.0, 4.0], dtype=D, requires_grad=True)
    y = torch.where(x > 0, x.sqrt(), torch.zeros(2, dtype=D)).sum()
    rec = BackwardRecorder(y)
    y.backward()
    rec.remove()
    rows = steps_to_json(rec.steps, None)
    json.dumps(rows, allow_nan=False)
    sqrt = next(r for r in rows if r["grad_fn"] == "SqrtBackward0")
    # where sent 0 to sqrt's output at x = 0; the rule 0 / (2 · sqrt(0)) = 0 / 0 is NaN, exactly what torch got
    assert torch.isnan(x.grad[0]) and sqrt["substituted"]["agrees"] and "[nan, " in sqrt["substituted"]["text"]


def test_stepper_shows_the_substituted_rule_in_both_languages():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from tests.seed_programs import SEED_004

    a = torch.tensor([2.0, 4.0], requires_grad=True)  # seed 004's a, run by torch directly
    (3 * a**3).backward(torch.ones(2))
    page = str(Path(__file__).resolve().parents[1] / "pages" / "graph.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.run()
    assert "3*a**3 - b**2" in at.text_area(key="gx_code").value and "3*a**3 - b**2" in SEED_004
    seen = {}
    for k in range(1, at.slider(key="gx_step").value + 1):
        at.slider(key="gx_step").set_value(k).run()
        for c in at.code:
            seen[c.value] = (k, [m.value for m in at.caption])
    pow_a = [text for text in seen if text.startswith("grad_x = grad · 3 · x^2") and local_rules.fmt(a.grad) in text]
    assert pow_a, list(seen)
    k, captions = seen[pow_a[0]]
    assert any("gives exactly what PyTorch's engine sent" in c for c in captions)
    at.session_state["lang"] = "zh"
    at.session_state["gx_step"] = k
    at.run()
    assert any(c.value == pow_a[0] for c in at.code)
    assert any("代入本步数值的法则" in c.value for c in at.caption) and any("一致" in c.value for c in at.caption)


def test_pow_rule_shows_its_exponent_and_partial_substitution_is_marked():
    r = _rule(leaf(3) ** 3)
    assert r["formula"] == "d(x**3)/dx = grad * 3 * x**2" and "x**3" in r["zh"]
    b, x, w = leaf(3), leaf(2, 4), leaf(4, 3)
    out = torch.addmm(b, x, w)
    rec, _ = record(out)
    sub = substitute(rec.steps[0])
    assert sub["agrees"] and not sub["complete"]
    assert sub["text"].startswith("grad_b = grad summed to the bias shape") and len(sub["lines"]) == 1
    assert local_rules.fmt(b.grad) in sub["text"]  # the bias gradient torch stored
