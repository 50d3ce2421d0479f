"""Draw a graph JSON (server-side SVG, browser fallback), one backward step, and one node's details."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core import render
from ui.common import lang, tr
from ui.tensor_view import show_values
from ui.text import code, esc


@st.cache_data(max_entries=64, show_spinner=False)
def _svg(dot: str) -> str | None:
    """`dot -Tsvg` under its timeout, cached per DOT text (None: dot missing or too slow)."""
    return render.to_svg(dot)


def graph_at_step(graph: dict[str, Any], steps: list[dict[str, Any]], k: int) -> tuple[dict[str, Any], str | None,
                                                                                         list[str]]:
    """The graph as it is after k backward steps: grads only where computed; the current node; the done nodes."""
    done = [s["node"] for s in steps[:k] if s.get("node")]
    current = steps[k - 1]["node"] if 0 < k <= len(steps) else None
    if k >= len(steps):
        return graph, current, done
    done_set = set(done)
    nodes = [n if n["id"] in done_set else {**n, "grad": None, "grad_summary": None} for n in graph["nodes"]]
    return {**graph, "nodes": nodes}, current, done


def show_graph(graph: dict[str, Any], budget: int, current: str | None, done: list[str], expand: list[str],
               language: str, key: str) -> None:
    """The graph within the node budget; SVG laid out on the server, or by the browser when `dot` is absent."""
    dot = render.to_dot(graph, max_nodes=budget, step=current, done=done, expand=expand, lang=language)
    svg = _svg(dot)
    if svg is None:
        st.graphviz_chart(dot, width="stretch")
        return
    start = svg.find("<svg")
    st.markdown(f'<div class="ae-graph" data-graph="{key}" style="overflow:auto;max-height:900px">{svg[start:]}</div>',
                unsafe_allow_html=True)


def _values(title: str, value: Any, summary: dict[str, Any] | None, shape: list[int] | None, dtype: str,
            key: str) -> None:
    st.caption(title)
    if value is None and not summary:
        st.write("—")
        return
    show_values(value, summary, shape or [], dtype or "float32", key=key)


def show_step(steps: list[dict[str, Any]], k: int, graph: dict[str, Any]) -> None:
    """What the engine did at step k: the node, its local rule, the gradients in and out."""
    if k == 0:
        st.info(tr("gx_before_backward"))
        return
    s = steps[k - 1]
    names = {n["id"]: n.get("label") or n["name"] for n in graph["nodes"]}
    where = names.get(s.get("node"), s["name"])
    st.markdown(tr("gx_step_head", k=k, n=len(steps), name=code(s["grad_fn"]), node=esc(where)))
    rule = s.get("rule")
    if rule:
        st.markdown(rule.get(lang()) or rule["en"])
        st.code(rule["formula"], language=None)
    else:
        st.caption(tr("gx_no_rule"))
    dtype = next((n.get("dtype") for n in graph["nodes"] if n["id"] == s.get("node")), "float32") or "float32"
    for i, g in enumerate(s.get("incoming") or []):
        shape = (s.get("incoming_shapes") or [None] * (i + 1))[i]
        _values(tr("gx_incoming", i=i), g, None, shape, dtype, key=f"in_{k}_{i}")
    for i, g in enumerate(s.get("outgoing") or []):
        shape = (s.get("outgoing_shapes") or [None] * (i + 1))[i]
        _values(tr("gx_outgoing", i=i), g, None, shape, dtype, key=f"out_{k}_{i}")


def show_node(graph: dict[str, Any], node_id: str, steps: list[dict[str, Any]]) -> None:
    """Full value, gradient and saved tensors of one node."""
    node = next(n for n in graph["nodes"] if n["id"] == node_id)
    fn = f"{code(node['grad_fn'])} · " if node.get("grad_fn") else ""
    st.markdown(f"**{esc(node.get('label') or node['name'])}** · {fn}{tr('gx_kind_' + node['kind'])} · "
                f"{esc(node.get('shape'))} {esc(node.get('dtype') or '')}")
    if node["kind"] == "cut":
        st.info(tr("gx_cut_note", how=esc(node["name"])))
    dtype = node.get("dtype") or "float32"
    _values(tr("gx_value"), node.get("value"), node.get("summary"), node.get("shape"), dtype, key=f"v_{node_id}")
    _values(tr("gx_grad"), node.get("grad"), node.get("grad_summary"), node.get("shape"), dtype, key=f"g_{node_id}")
    saved = node.get("saved")
    if saved:
        st.caption(tr("gx_saved"))
        for name, v in saved.items():
            if isinstance(v, dict) and "shape" in v:
                st.markdown(f"{code(name)} · {esc(v['shape'])} {esc(v.get('dtype', ''))}")
                show_values(v.get("value"), v.get("summary"), v["shape"], v.get("dtype", "float32"),
                            key=f"s_{node_id}_{name}")
            else:
                st.markdown(f"{code(name)} = {code(v)}")
    elif saved is None and node["kind"] == "op":
        st.caption(tr("gx_saved_freed"))
