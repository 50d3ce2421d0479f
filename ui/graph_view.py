"""Draw a graph JSON (server-side SVG, browser fallback), one backward step, and one node's details."""

from __future__ import annotations

import html
from typing import Any

import streamlit as st

from core import render
from core.numfmt import fmt_number
from ui.common import lang, show_error, tr
from ui.tensor_view import show_values
from ui.text import code, esc


@st.cache_data(max_entries=64, show_spinner=False)
def _svg(dot: str) -> str | None:
    """`dot -Tsvg` under its timeout, cached per DOT text (None: dot missing or too slow)."""
    return render.to_svg(dot)


def graph_at_step(
    graph: dict[str, Any], steps: list[dict[str, Any]], k: int
) -> tuple[dict[str, Any], str | None, list[str]]:
    """The graph as it is after k backward steps: grads only where computed; the current node; the done nodes."""
    done = [s["node"] for s in steps[:k] if s.get("node")]
    current = steps[k - 1]["node"] if 0 < k <= len(steps) else None
    if k >= len(steps):
        return graph, current, done
    done_set = set(done)
    nodes = [n if n["id"] in done_set else {**n, "grad": None, "grad_summary": None} for n in graph["nodes"]]
    return {**graph, "nodes": nodes}, current, done


GRAPH_CSS = """<style>
.ae-graph { overflow: auto; max-height: 75vh; border: 1px solid #e5e7eb; border-radius: 6px; }
.ae-graph svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
.ae-graph-wrap:has(.ae-graph-tools) .ae-graph { cursor: grab; }
.ae-graph-wrap:has(.ae-graph-tools) .ae-graph g.node { cursor: pointer; }
.ae-graph-wrap:fullscreen { background: #fff; padding: 8px; }
.ae-graph-wrap:fullscreen .ae-graph { max-height: calc(100vh - 56px) !important; }
.ae-graph-tools { display: flex; gap: 4px; justify-content: flex-end; align-items: center; margin-bottom: 4px; }
.ae-graph-tools button { font: inherit; font-size: 0.85rem; padding: 1px 10px; border: 1px solid #9ca3af;
  border-radius: 4px; background: #fff; color: #111827; cursor: pointer; }
.ae-graph-tools span { font-size: 0.8rem; color: #4b5563; margin-right: auto; }
</style>"""


# Fitted by the SVG's own style too: the page's CSS may mount after the graph, and a graph must never overflow
# its column meanwhile (ui.bridge's zoom replaces these inline values).
FIT = '<svg style="max-width: 100%; height: auto; display: block; margin: 0 auto"'


def show_graph(
    graph: dict[str, Any],
    budget: int,
    current: str | None,
    done: list[str],
    expand: list[str],
    language: str,
    key: str,
    zoom: bool = False,
) -> None:
    """The graph within the node budget, fitted to its column (zoom, pan and full screen through ui.bridge);
    SVG laid out on the server, or by the browser when `dot` is absent."""
    dot = render.to_dot(graph, max_nodes=budget, step=current, done=done, expand=expand, lang=language)
    svg = _svg(dot)
    if svg is None:
        st.graphviz_chart(dot, width="stretch")
        return
    start = svg.find("<svg")
    tools = "".join(
        f'<button type="button" data-zoom="{how}" title="{html.escape(tr(tip))}">{text}</button>'
        for how, text, tip in (("fit", html.escape(tr("gx_fit")), "gx_fit"), ("out", "−", "gx_zoom_out"),
                               ("in", "+", "gx_zoom_in"), ("full", html.escape(tr("gx_full")), "gx_full"))
    )  # fmt: skip
    bar = f'<div class="ae-graph-tools"><span>{html.escape(tr("gx_drag"))}</span>{tools}</div>' if zoom else ""
    st.html(GRAPH_CSS)
    fitted = FIT + svg[start + len("<svg") :]
    st.markdown(
        f'<div class="ae-graph-wrap">{bar}<div class="ae-graph" data-graph="{key}">{fitted}</div></div>',
        unsafe_allow_html=True,
    )


def _values(
    title: str, value: Any, summary: dict[str, Any] | None, shape: list[int] | None, dtype: str, key: str
) -> None:
    st.caption(title)
    if value is None and not summary:
        st.write("—")
        return
    show_values(value, summary, shape or [], dtype or "float32", key=key)


def stepper(total: int, key: str) -> int:
    """Back / Next buttons and a slider over the backward steps 0..total (state under `key`); the step shown."""
    ss = st.session_state

    def move(delta: int) -> None:
        ss[key] = min(total, max(0, int(ss.get(key, total)) + delta))

    if key not in ss or not 0 <= int(ss[key]) <= total:
        ss[key] = total
    k = int(ss[key])
    b1, b2 = st.columns(2)
    b1.button(tr("gx_prev_btn"), key=f"{key}_prev", on_click=move, args=(-1,), help=tr("gx_prev"),
              icon=":material/chevron_left:", width="stretch", disabled=k == 0)  # fmt: skip
    b2.button(tr("gx_next_btn"), key=f"{key}_next", on_click=move, args=(1,), help=tr("gx_next"),
              icon=":material/chevron_right:", width="stretch", disabled=k == total)  # fmt: skip
    return int(st.slider(tr("gx_step"), 0, total, key=key))


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
        st.code(rule["formula"], language=None, wrap_lines=True)  # a narrow column (720p) wraps, never cuts
    else:
        st.caption(tr("gx_no_rule"))
    show_substituted(s.get("substituted"))
    dtype = next((n.get("dtype") for n in graph["nodes"] if n["id"] == s.get("node")), "float32") or "float32"
    for i, g in enumerate(s.get("incoming") or []):
        shape = (s.get("incoming_shapes") or [None] * (i + 1))[i]
        _values(tr("gx_incoming", i=i), g, None, shape, dtype, key=f"in_{k}_{i}")
    for i, g in enumerate(s.get("outgoing") or []):
        shape = (s.get("outgoing_shapes") or [None] * (i + 1))[i]
        _values(tr("gx_outgoing", i=i), g, None, shape, dtype, key=f"out_{k}_{i}")


def show_substituted(sub: dict[str, Any] | None) -> None:
    """The rule with this step's own numbers, and whether it gives what the engine sent."""
    if not sub:
        return
    if sub.get("text"):
        st.caption(tr("gx_substituted"))
        st.code(sub["text"], language=None, wrap_lines=True)
        if not sub.get("complete", True):
            st.caption(tr("gx_substituted_partial"))
    if sub.get("agrees"):
        st.caption("✅ " + tr("gx_rule_agrees"))
    else:
        bad = ", ".join(str(c["input"]) for c in sub.get("inputs", []) if not c["agrees"])
        st.warning(tr("gx_rule_differs", inputs=bad))


def show_node(graph: dict[str, Any], node_id: str, steps: list[dict[str, Any]]) -> None:
    """Full value, gradient and saved tensors of one node."""
    node = next(n for n in graph["nodes"] if n["id"] == node_id)
    fn = f"{code(node['grad_fn'])} · " if node.get("grad_fn") else ""
    st.markdown(
        f"**{esc(node.get('label') or node['name'])}** · {fn}{tr('gx_kind_' + node['kind'])} · "
        f"{esc(node.get('shape'))} {esc(node.get('dtype') or '')}"
    )
    if node["kind"] == "cut":
        st.info(tr("gx_input_note") if node.get("input") else tr("gx_cut_note", how=esc(node["name"])))
    if node.get("by_backward"):
        st.info(tr("gx_by_backward"))
    dtype = node.get("dtype") or "float32"
    changed = bool(node.get("changed_later"))
    title = tr("gx_value_at_forward") if changed else tr("gx_value")
    _values(title, node.get("value"), node.get("summary"), node.get("shape"), dtype, key=f"v_{node_id}")
    if node.get("value") is None and not node.get("summary") and node.get("value_note"):
        note = node["value_note"]
        st.caption(tr("gx_value_note_missing") if note.startswith("not recorded") else esc(note))
    if changed:
        st.warning(tr("gx_changed_later"))
        now, now_summary = node.get("now"), node.get("now_summary")
        _values(tr("gx_value_now"), now, now_summary, node.get("shape"), dtype, key=f"now_{node_id}")
    _values(tr("gx_grad"), node.get("grad"), node.get("grad_summary"), node.get("shape"), dtype, key=f"g_{node_id}")
    saved = node.get("saved")
    if saved:
        st.caption(tr("gx_saved"))
        for name, v in saved.items():
            if isinstance(v, dict) and "shape" in v:
                st.markdown(f"{code(name)} · {esc(v['shape'])} {esc(v.get('dtype', ''))}")
                show_values(
                    v.get("value"), v.get("summary"), v["shape"], v.get("dtype", "float32"), key=f"s_{node_id}_{name}"
                )
            else:
                st.markdown(f"{code(name)} = {code(v)}")
    elif saved is None and node["kind"] == "op":
        st.caption(tr("gx_saved_freed"))


# --- The gradient check ------------------------------------------------------------------------------------

MAX_NOTE_ELEMENTS = 4  # elements spelled out per note; the rest are counted


def _num(v: Any) -> str:
    """A reported number (floats, or 'inf' / 'nan' strings from JSON) as short text."""
    return fmt_number(v, "float64", digits=6) if isinstance(v, (int, float)) else str(v)


def _element(name: str, shape: list[int], flat: int) -> str:
    """x[1, 0] for flat index 2 of a 2 x 2 leaf (x for a 0-d one)."""
    if not shape:
        return name
    pos = []
    for n in reversed(shape):
        pos.append(flat % n)
        flat //= n
    return f"{name}[{', '.join(str(p) for p in reversed(pos))}]"


def note_lines(entry: dict[str, Any], language: str) -> list[str]:
    """Each note of one checked leaf as sentences in `language`, with the element's own numbers."""
    from core.i18n import t

    lines = []
    pos = {i: j for j, i in enumerate(entry.get("indices") or [])}
    for note in entry.get("notes") or []:
        code = note["code"]
        if code == "low_precision":
            lines.append(t("gx_note_low_precision", language, at=entry["name"], dtype=note["dtype"]))
            continue
        ops = ", ".join(note.get("ops") or [])
        if code == "triangle":
            at = ", ".join(_element(entry["name"], entry["shape"], i) for i in note["indices"][:MAX_NOTE_ELEMENTS])
            lines.append(t("gx_note_triangle", language, at=at, ops=ops))
            continue
        for i in note["indices"][:MAX_NOTE_ELEMENTS]:
            j = pos[i]
            lines.append(
                t(
                    f"gx_note_{code}",
                    language,
                    at=_element(entry["name"], entry["shape"], i),
                    ops=ops,
                    auto=_num(entry["autograd"][j]),
                    num=_num(entry["numeric"][j]),
                    left=_num(entry["left"][j]),
                    right=_num(entry["right"][j]),
                    h=_num(entry["steps"][j]),
                )
            )
        if len(note["indices"]) > MAX_NOTE_ELEMENTS:
            lines.append(t("gx_note_more", language, n=len(note["indices"]) - MAX_NOTE_ELEMENTS))
    return lines


def _leaf_verdict(e: dict[str, Any]) -> str:
    return "pass" if e["passed"] else ("explained" if e.get("explained") else "fail")


def show_check(check: dict[str, Any]) -> None:
    """The verdict, one row per leaf (with the precision it was checked in), every note, every element."""
    if not check.get("ok"):
        show_error(check["error"])
        return
    verdict = check.get("verdict") or ("pass" if check["passed"] else "fail")
    box = {"pass": st.success, "explained": st.warning, "fail": st.error}[verdict]
    box(tr({"pass": "gx_check_pass", "explained": "gx_check_explained", "fail": "gx_check_fail"}[verdict]))
    if isinstance(check.get("f"), str):  # 'inf' / 'nan': the function itself is not finite at this point
        st.warning(tr("gx_f_nonfinite", f=check["f"]))
    if check.get("promoted"):
        st.info(tr("gx_promoted", dtypes=", ".join(check["promoted"])))
    st.dataframe(
        [
            {
                tr("col_name"): e["name"],
                tr("col_shape"): str(e["shape"]),
                tr("gx_precision"): e["dtype"] + (" ⚠" if e.get("low_precision") else ""),
                tr("gx_checked"): f"{e.get('checked', 0)}/{e.get('of', e.get('checked', 0))}",
                tr("gx_max_abs"): _num(e.get("max_abs_error", "—")),
                tr("gx_max_rel"): _num(e.get("max_rel_error", "—")),
                tr("gx_status"): {"pass": "✅ ", "explained": "ℹ️ ", "fail": "❌ "}[_leaf_verdict(e)]
                + tr(f"gx_status_{_leaf_verdict(e)}"),
            }
            for e in check["leaves"]
        ],
        hide_index=True,
    )
    for e in check["leaves"]:
        for line in note_lines(e, lang()):
            (st.warning if _leaf_verdict(e) == "fail" else st.info)(line)
    with st.expander(tr("gx_details"), expanded=False):
        rows = []
        for e in check["leaves"]:
            for j, i in enumerate(e.get("indices") or []):
                rows.append(
                    {
                        tr("gx_col_element"): _element(e["name"], e["shape"], i),
                        "autograd": _num(e["autograd"][j]),
                        tr("gx_col_central"): _num(e["numeric"][j]),
                        tr("gx_col_left"): _num(e["left"][j]),
                        tr("gx_col_right"): _num(e["right"][j]),
                        tr("gx_col_step"): _num(e["steps"][j]),
                        tr("gx_status"): e["status"][j],
                    }
                )
        st.dataframe(rows, hide_index=True)
