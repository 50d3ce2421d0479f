"""core.render: DOT from graph JSON only, node budget with collapsed repeats, highlights, SVG via dot."""

from __future__ import annotations

import html
import json
import re
import shutil
import time

import pytest
import torch

from core import graph, render
from core.backward import BackwardRecorder
from core.limits import DEFAULT_NODE_BUDGET
from tests.conftest import mul_chain

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")


def boxes(dot: str) -> dict[str, str]:
    """{box id: its line plus the style of the block it is in} from our DOT output."""
    out, block = {}, ""
    for line in dot.splitlines():
        if line.strip().startswith("{ node ["):
            block = line
        elif line.strip() == "}":
            block = ""
        m = re.match(r'\s+"([^"]+)" \[label=<', line)
        if m:
            out[m.group(1)] = block + line
    return out


def seed004() -> tuple[graph.Graph, dict[str, torch.Tensor], BackwardRecorder]:
    a = torch.tensor([2.0, 4.0], requires_grad=True)
    b = torch.tensor([7.0, 5.0], requires_grad=True)
    E = 3 * a**3 - b**2
    with BackwardRecorder(E) as rec:
        E.backward(gradient=torch.tensor([1.0, 1.0]))
    names = {"a": a, "b": b, "E": E}
    return graph.build(E, names=names, grads=rec.grads, saved=rec.saved), names, rec


def mlp_graph(layers: int, width: int = 4) -> graph.Graph:
    torch.manual_seed(0)
    mods: list[torch.nn.Module] = []
    for _ in range(layers):
        mods += [torch.nn.Linear(width, width), torch.nn.ReLU()]
    model = torch.nn.Sequential(*mods)
    loss = model(torch.randn(3, width)).pow(2).mean()
    loss.backward(retain_graph=True)
    return graph.build(loss, names=dict(model.named_parameters()))


def test_every_kind_is_styled_apart_with_values_grads_and_shapes() -> None:
    g, names, _ = seed004()
    j = json.loads(json.dumps(g.to_json()))  # the UI only ever has JSON
    dot = render.to_dot(j)
    b = boxes(dot)
    assert set(b) == {n["id"] for n in j["nodes"]}
    kinds = {n["id"]: n["kind"] for n in j["nodes"]}
    for nid, kind in kinds.items():
        assert render.ATTRS[kind] in b[nid]
    assert len({render.ATTRS[k] for k in ("leaf", "op", "output")}) == 3
    a_box = b[g.id_of(names["a"])]
    assert "<B>a</B>" in a_box and "value [2.0, 4.0]" in a_box and "grad [36.0, 144.0]" in a_box
    assert "grad [-14.0, -10.0]" in b[g.id_of(names["b"])]
    assert "E = sub" in b[g.id_of(names["E"])]
    assert '[label="[2]"]' in dot  # shapes on edges
    assert dot == g.to_dot() or "digraph" in g.to_dot()


def test_graph_to_dot_matches_render_of_json() -> None:
    g, _, _ = seed004()
    assert boxes(g.to_dot()).keys() == boxes(render.to_dot(g.to_json())).keys()


def test_big_values_show_shape_and_min_max() -> None:
    x = torch.arange(12.0).reshape(3, 4).requires_grad_()
    y = (x * 2).sum()
    y.backward()
    g = graph.build(y, names={"x": x})
    for dot in (g.to_dot(), render.to_dot(g.to_json())):
        assert "value [3, 4] in [0.0, 11.0]" in boxes(dot)[g.id_of(x)]
        assert "grad [3, 4] in [2.0, 2.0]" in boxes(dot)[g.id_of(x)]


def test_step_and_done_are_highlighted() -> None:
    g, names, rec = seed004()
    j = g.to_json()
    ids = [n["id"] for n in j["nodes"]]
    dot = render.to_dot(j, step=ids[1], done=ids[:1])
    b = boxes(dot)
    assert render.STATE_ATTRS["step"] in b[ids[1]] and render.STATE_ATTRS["done"] in b[ids[0]]
    assert all(render.STATE_ATTRS["step"] not in b[i] and render.STATE_ATTRS["done"] not in b[i] for i in ids[2:])


def test_labels_are_escaped_and_zh_words() -> None:
    x = torch.ones(2, requires_grad=True)
    y = x * 2
    j = graph.build(y, names={'<b>&"x': x, "y<": y}).to_json()
    dot = render.to_dot(j, lang="zh")
    assert "&lt;b&gt;&amp;&quot;x" in dot and "y&lt; = mul" in dot and "值 [1.0, 1.0]" in dot
    assert '<b>&"x' not in dot


def test_a_50_layer_mlp_collapses_to_a_cluster_that_expands() -> None:
    g = mlp_graph(50)
    assert len(g) > DEFAULT_NODE_BUDGET
    j = g.to_json()
    plan = render.fit(j)
    assert len(plan.clusters) == 1
    ((cid, cluster),) = plan.clusters.items()
    assert cluster.reps >= 40 and {"addmm", "relu"} <= set(cluster.block)
    dot = render.to_dot(j)
    assert f"<B>x{cluster.reps}</B>" in dot and "addmm" in boxes(dot)[cid]
    assert len(boxes(dot)) <= 12
    opened = render.to_dot(j, expand=[cid])
    assert cid not in boxes(opened) and DEFAULT_NODE_BUDGET // 2 < len(boxes(opened)) <= DEFAULT_NODE_BUDGET
    assert "more nodes" in opened  # expanded beyond the budget: the far end is summarised
    assert g.to_dot().count("label=<") == len(boxes(dot))


def test_budget_keeps_the_nodes_nearest_the_outputs() -> None:
    x = torch.ones(3, requires_grad=True)
    y = x
    ops = [torch.sin, torch.exp, torch.tanh, torch.sigmoid, torch.cos]
    for i in range(60):  # no repeated block of length <= MAX_REPEAT_PERIOD... except by chance; vary it
        y = ops[(i * i + i // 3) % 5](y) * float(i % 3 + 1) if i % 7 else y + x
    j = graph.build(y, names={"x": x, "y": y}).to_json()
    dot = render.to_dot(j, max_nodes=20)
    b = boxes(dot)
    assert len(b) <= 20 and "n0" in b
    plan = render.fit(j, 20)
    assert plan.hidden > 0 and render.MORE_ID in b
    assert f"… {plan.hidden} more nodes" in dot
    kept = [int(i[1:]) for i in b if i.startswith("n")]
    assert len(kept) == len(plan.drawn_nodes())


def test_collapse_leaves_small_graphs_alone() -> None:
    g, _, _ = seed004()
    p = render.fit(g.to_json())
    assert not p.collapsed and p.drawn_nodes() == list(range(len(g)))


@pytest.mark.slow
def test_100k_chain_renders_within_the_budget_quickly() -> None:
    x, y = mul_chain(100_000)
    g = graph.build(y, names={"x": x, "y": y})
    t0 = time.perf_counter()
    dot = g.to_dot()
    j = g.to_json()
    dot_from_json = render.to_dot(j)
    elapsed = time.perf_counter() - t0
    graph.release(env := {"x": x, "y": y})  # see core.graph.release
    del x, y, env
    assert elapsed < 20
    for d in (dot, dot_from_json):
        b = boxes(d)
        assert len(b) <= DEFAULT_NODE_BUDGET and "x99998" in d and "n0" in b and "n100000" in b


@needs_dot
def test_svg_contains_the_numbers() -> None:
    g, _, _ = seed004()
    svg = render.to_svg(render.to_dot(g.to_json()))
    assert svg is not None and svg.lstrip().startswith(("<?xml", "<svg"))
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    for text in ("grad [36.0, 144.0]", "grad [-14.0, -10.0]", "E = sub", "value [2.0, 4.0]"):
        assert text in texts


@needs_dot
def test_budgeted_layout_is_fast() -> None:
    g = mlp_graph(100)
    (cid,) = render.fit(g.to_json()).clusters  # opened: ~200 boxes to lay out
    dot = g.to_dot(max_nodes=DEFAULT_NODE_BUDGET, expand=[cid])
    assert len(boxes(dot)) > DEFAULT_NODE_BUDGET // 2
    t0 = time.perf_counter()
    assert render.to_svg(dot) is not None
    assert time.perf_counter() - t0 < 5


def test_svg_falls_back_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    dot = render.to_dot(seed004()[0].to_json())
    if shutil.which("dot"):
        assert render.to_svg(dot, timeout=1e-6) is None  # timed out
        assert render.to_svg("digraph { this is not dot") is None
    monkeypatch.setattr(shutil, "which", lambda _: None)
    assert render.to_svg(dot) is None


def test_cut_nodes_and_edges_are_drawn_apart():
    graph = {
        "nodes": [
            {"id": "n0", "kind": "leaf", "name": "w", "shape": [2], "dtype": "float32", "value": [1.0, 2.0]},
            {
                "id": "cut_s",
                "kind": "cut",
                "name": "no_grad",
                "label": "scaled",
                "shape": [2],
                "dtype": "float32",
                "value": [10.0, 20.0],
                "grad": None,
            },
        ],
        "edges": [{"src": "n0", "dst": "cut_s", "shape": [2], "cut": "no_grad"}],
    }
    dot = render.to_dot(graph)
    assert "scaled" in dot and "constant, no grad" in dot
    assert "✂ no_grad" in dot and "style=dashed" in dot
