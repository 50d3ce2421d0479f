"""The graph shows one consistent moment (issue #10), each case against PyTorch run directly in a fresh process.

- a leaf updated after forward (`a -= lr * a.grad`) shows its value at forward and its value now, and every op
  node's value is the one computed at forward;
- every node without its full value carries a summary (or says why it has no value);
- nodes made by a create_graph=True backward pass are marked, in the JSON and on the drawing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import torch

from core import render
from core.examples import GRAPH, by_key
from core.lessons import LESSONS
from core.sandbox import session
from tests.conftest import ROOT

TOL = 1e-6


def torch_fresh(program: str, report: str) -> Any:
    """Run `program` with plain PyTorch in a new process, then `report` (an expression) -> its JSON value."""
    script = "import json, torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
    script += program + f"\nprint(json.dumps({report}))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _close(got: Any, want: Any) -> bool:
    return torch.allclose(torch.tensor(got, dtype=torch.float64), torch.tensor(want, dtype=torch.float64), atol=TOL)


def _nodes(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in graph["nodes"]}


def _before_update(code: str) -> str:
    """The program up to its update (the `with torch.no_grad():` block and what follows are dropped)."""
    return code[: code.index("with torch.no_grad():")]


# The forward values of the line-fit step, recomputed from a and b as they were at forward.
FORWARD = """
_at = {"a": a.tolist(), "b": b.tolist(), "mul": (b * x).tolist(), "add": (a + b * x).tolist(),
       "sub": (y - (a + b * x)).tolist(), "pow": ((y - (a + b * x)) ** 2).tolist(), "mean": loss.item()}
"""


def _lesson_step(title: str) -> str:
    for lesson in LESSONS:
        for step in lesson.steps:
            if step.title.en == title:
                return step.code
    raise AssertionError(title)


@pytest.mark.parametrize(
    "code", [by_key(GRAPH, "linreg_step").code, _lesson_step("One training step by hand")], ids=["preset", "lesson"]
)
def test_training_step_graph_is_one_moment(code):
    r = session.execute(code)
    assert r["ok"], r.get("error")
    at_forward = torch_fresh(_before_update(code) + FORWARD, "_at")
    now = torch_fresh(code, '{"a": a.tolist(), "b": b.tolist()}')
    nodes = list(r["graph"]["nodes"])
    for nd in nodes:
        if nd["kind"] == "leaf":
            assert nd["changed_later"] is True, nd["name"]
            assert _close(nd["value"], at_forward[nd["name"]]) and _close(nd["now"], now[nd["name"]])
            assert not _close(nd["value"], nd["now"])
        else:
            assert nd["name"] in at_forward, nd["name"]
            assert _close(nd["value"], at_forward[nd["name"]]), nd["name"]
    ops = {nd["name"] for nd in nodes if nd["kind"] != "leaf"}
    assert {"mul", "add", "pow", "mean"} <= ops
    dot = render.to_dot(r["graph"])
    assert "a (changed later)" in dot and "b (changed later)" in dot
    assert "value at forward" in dot and "now [" in dot
    assert "之后被修改" in render.to_dot(r["graph"], lang="zh")


def test_unchanged_leaf_is_not_marked():
    r = session.execute("a = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (a * a).sum()\nloss.backward()\n")
    leaf = next(n for n in r["graph"]["nodes"] if n["kind"] == "leaf")
    assert "changed_later" not in leaf and "now" not in leaf and leaf["value"] == [1.0, 2.0]


def _has_value_or_summary(nd: dict[str, Any]) -> bool:
    return nd.get("value") is not None or bool(nd.get("summary"))


def test_big_unnamed_intermediate_carries_a_summary():
    code = "x = torch.randn(12000, requires_grad=True)\ny = (x * x).sum()\ny.backward()\n"
    r = session.execute(code)
    mul = next(n for n in r["graph"]["nodes"] if n["name"] == "mul")
    assert mul["shape"] == [12000] and mul["value"] is None and mul.get("label") is None
    want = torch_fresh(
        "torch.manual_seed(0)\n" + code + "s = (x * x).detach().double()\n",
        "[s.min().item(), s.max().item(), s.mean().item(), s.std().item()]",
    )
    got = mul["summary"]
    assert [got["min"], got["max"]] == pytest.approx(want[:2], rel=1e-6)
    assert [got["mean"], got["std"]] == pytest.approx(want[2:], rel=1e-9)
    assert all(_has_value_or_summary(n) for n in r["graph"]["nodes"])
    assert "in [" in render.to_dot(r["graph"]).split('"n2"')[1].split("];")[0]  # its box shows the range


def test_nodes_inside_library_calls_get_their_values():
    """nn.Linear's weight transpose and cross_entropy's log_softmax run inside library code, unseen by the guards:
    their values come from what a consumer saved (or the transposed leaf), equal to PyTorch's."""
    code = by_key(GRAPH, "mlp").code
    r = session.execute(code)
    nodes = r["graph"]["nodes"]
    assert all(_has_value_or_summary(n) for n in nodes), [n["name"] for n in nodes if not _has_value_or_summary(n)]
    want = torch_fresh(
        "torch.manual_seed(0)\n" + code,
        '{"log_softmax": F.log_softmax(logits, 1).tolist(), "t": sorted([w1.t().tolist(), w2.t().tolist()])}',
    )
    soft = next(n for n in nodes if n["name"] == "log_softmax")
    assert _close(soft["value"], want["log_softmax"])
    ts = sorted(n["value"] for n in nodes if n["name"] == "t")
    assert all(_close(g, w) for g, w in zip(ts, want["t"], strict=True))


def test_trimmed_answer_keeps_summaries():
    big = [[(i + j) / 7 for j in range(100)] for i in range(100)]  # ~18 characters a number
    nodes = [{"id": f"n{i}", "kind": "op", "name": "mul", "shape": [100, 100], "dtype": "float32", "value": big,
              "grad": big, "saved": {}} for i in range(40)]  # fmt: skip
    out = session.fit_answer({"ok": True, "graph": {"nodes": nodes, "edges": []}, "variables": {}, "stdout": ""})
    t = torch.tensor(big, dtype=torch.float64)
    for nd in out["graph"]["nodes"]:
        assert nd["value"] is None and nd["grad"] is None
        assert nd["summary"]["min"] == 0.0 and nd["summary"]["max"] == pytest.approx(198 / 7)
        assert nd["summary"]["mean"] == pytest.approx(t.mean().item()) and nd["grad_summary"]["std"] == pytest.approx(
            t.std().item()
        )


SECOND = (
    "x = torch.tensor(2.0, requires_grad=True)\ny = x**3\ng, = torch.autograd.grad(y, x, create_graph=True)\n"
    "g.backward()\n"
)


def test_create_graph_nodes_are_marked():
    r = session.execute(SECOND)
    assert r["ok"], r.get("error")
    marked = sorted(n["grad_fn"] for n in r["graph"]["nodes"] if n.get("by_backward"))
    plain = sorted(n["grad_fn"] for n in r["graph"]["nodes"] if not n.get("by_backward") and n["kind"] != "leaf")
    want = torch_fresh(
        SECOND
        + textwrap.dedent("""
        def walk(fn):
            seen, todo = set(), [fn]
            while todo:
                f = todo.pop()
                if f is not None and f not in seen:
                    seen.add(f)
                    todo.extend(n for n, _ in f.next_functions)
            return seen
        forward = walk(y.grad_fn)
        made = [type(f).__name__ for f in walk(g.grad_fn) - forward if type(f).__name__ != "AccumulateGrad"]
        """),
        '{"made": sorted(made), "forward": sorted(type(f).__name__ for f in forward if type(f).__name__ != '
        '"AccumulateGrad"), "grad": x.grad.item()}',
    )
    assert marked == want["made"] and len(marked) >= 2
    assert plain == want["forward"] == ["PowBackward0"]
    leaf = next(n for n in r["graph"]["nodes"] if n["kind"] == "leaf")
    assert leaf["grad"] == want["grad"] == 12.0  # d/dx 3x² at 2
    dot = render.to_dot(r["graph"])
    assert dot.count("made by backward") == len(marked) and 'style="filled,dashed"' in dot
    assert "由反向传播创建" in render.to_dot(r["graph"], lang="zh")


def test_plain_backward_marks_nothing():
    r = session.execute("x = torch.tensor(2.0, requires_grad=True)\ny = x**3\ny.backward()\n")
    assert not any(n.get("by_backward") for n in r["graph"]["nodes"])
