"""Graph Explorer: the autograd graph of a program with values and gradients, stepped in the engine's order."""

from __future__ import annotations

import streamlit as st

from core import render, sandbox
from core.examples import GRAPH, by_key
from core.limits import DEFAULT_NODE_BUDGET, MAX_SOURCE_CHARS
from core.pitfalls import explain
from ui import export as export_buttons
from ui import state
from ui.common import device, ensure_shell, lang, sandboxed, show_error, tr
from ui.graph_view import graph_at_step, show_check, show_graph, show_node, show_step

CODE_KEY = "gx_code"
RESULT_KEY = "gx_result"
STEP_KEY = "gx_step"
PASS_KEY = "gx_detail_pass"  # the backward pass recorded in detail (None: the last one)
RUN_FOR = "gx_result_for"  # (code, device, pass) of the shown result: a result that no longer matches is re-run


def _load_preset() -> None:
    ex = by_key(GRAPH, st.session_state["gx_preset"])
    if ex is not None:
        st.session_state[CODE_KEY] = ex.code
        st.session_state.pop(PASS_KEY, None)
        _run()


def _wanted() -> tuple[str, str, int | None]:
    return st.session_state.get(CODE_KEY, ""), device(), st.session_state.get(PASS_KEY)


def _run(detail_pass: int | None = None, keep_view: bool = False) -> None:
    """Run the editor's program; a new run starts at the last backward step, unless a link chose the view."""
    if detail_pass is not None:
        st.session_state[PASS_KEY] = detail_pass
    elif not keep_view:
        st.session_state.pop(PASS_KEY, None)
    code, dev, pass_ = _wanted()
    result = sandboxed(sandbox.run_program, code, device=dev, graph=True, detail_pass=pass_)
    st.session_state[RESULT_KEY] = result
    st.session_state[RUN_FOR] = (code, dev, pass_)
    total = len(result.get("backward_steps") or [])
    if keep_view and STEP_KEY in st.session_state:
        st.session_state[STEP_KEY] = min(total, max(0, int(st.session_state[STEP_KEY])))
    else:
        st.session_state[STEP_KEY] = total
        st.session_state.pop("gx_expand", None)
        st.session_state.pop("gx_node", None)
    st.session_state.pop("gx_check", None)


def _move(delta: int) -> None:
    total = len(st.session_state[RESULT_KEY].get("backward_steps") or [])
    st.session_state[STEP_KEY] = min(total, max(0, st.session_state.get(STEP_KEY, 0) + delta))


ensure_shell()
state.restore("graph")  # a no-op when the app shell already did (it runs first)
st.title(tr("gx_title"))
st.caption(tr("gx_intro"))

st.session_state.setdefault("gx_preset", GRAPH[0].key)
st.session_state.setdefault(CODE_KEY, GRAPH[0].code)
st.session_state.setdefault("gx_budget", DEFAULT_NODE_BUDGET)
left, right = st.columns([3, 2], gap="large")
with left:
    st.selectbox(
        tr("gx_preset"),
        [e.key for e in GRAPH],
        key="gx_preset",
        format_func=lambda k: by_key(GRAPH, k).title(lang()),
        on_change=_load_preset,
    )
    st.text_area(
        tr("pg_editor"), key=CODE_KEY, height=230, max_chars=MAX_SOURCE_CHARS, help=tr("pg_editor_help"), on_change=_run
    )
    st.button(tr("gx_run"), type="primary", on_click=_run, key="gx_run")
    export_buttons.graph()
with right:
    preset = by_key(GRAPH, st.session_state["gx_preset"])
    if preset is not None and preset.note(lang()) and st.session_state.get(CODE_KEY) == preset.code:
        st.info(preset.note(lang()), icon=":material/lightbulb:")
    budget = st.number_input(
        tr("gx_budget"),
        min_value=10,
        max_value=2000,
        step=10,
        key="gx_budget",
        help=tr("gx_budget_help"),
    )

    share = state.share_slot()

arrived = state.arrived("graph")
if st.session_state.get(RESULT_KEY) is None or st.session_state.get(RUN_FOR) != _wanted():
    _run(keep_view=arrived)  # first visit, a link or hand-off, or a device change: the result follows the editor
result = st.session_state[RESULT_KEY]

if not result.get("ok"):
    show_error(result["error"])
    why = explain(result["error"].get("message", ""), lang())
    if why:
        st.warning(f"**{tr('gx_why')}** {why['text']}", icon=":material/school:")
if result.get("stdout"):
    with st.expander(tr("pg_output"), expanded=False):
        st.code(result["stdout"], language=None)

graph = result.get("graph")
if graph and graph.get("nodes"):
    steps = result.get("backward_steps") or []
    k = min(st.session_state.get(STEP_KEY, len(steps)), len(steps))
    plan = render.fit(graph, budget, st.session_state.get("gx_expand", []))
    if "gx_expand" in st.session_state:  # a link may name blocks this graph does not fold
        st.session_state["gx_expand"] = [c for c in st.session_state["gx_expand"] if c in plan.clusters]
    if plan.clusters:
        st.multiselect(
            tr("gx_expand"),
            list(plan.clusters),
            key="gx_expand",
            format_func=lambda c: f"{c} (x{plan.clusters[c].reps})",
        )
    shown, current, done = graph_at_step(graph, steps, k)
    g_col, i_col = st.columns([3, 2], gap="large")
    with g_col:
        st.subheader(tr("gx_graph"))
        show_graph(shown, budget, current, done, st.session_state.get("gx_expand", []), lang(), key="main")
        st.caption(tr("gx_legend"))
    with i_col:
        st.subheader(tr("gx_stepper"))
        passes = result.get("backward_passes") or []
        if len(passes) > 1 and any(not p.get("recorded") for p in passes):  # a long loop: open any pass
            st.caption(tr("gx_passes", n=len(passes)))
            p1, p2 = st.columns([1, 1], vertical_alignment="bottom")
            pick = p1.number_input(tr("gx_pass_pick"), 1, len(passes), value=len(passes), key="gx_pass")
            p2.button(
                tr("gx_pass_open"), key="gx_pass_open", help=tr("gx_pass_help"), on_click=_run, args=(int(pick) - 1,)
            )
        if steps:
            b1, b2 = st.columns(2)
            b1.button(
                tr("gx_prev_btn"),
                key="gx_prev",
                on_click=_move,
                args=(-1,),
                help=tr("gx_prev"),
                icon=":material/chevron_left:",
                width="stretch",
                disabled=k == 0,
            )
            b2.button(
                tr("gx_next_btn"),
                key="gx_next",
                on_click=_move,
                args=(1,),
                help=tr("gx_next"),
                icon=":material/chevron_right:",
                width="stretch",
                disabled=k == len(steps),
            )
            st.slider(tr("gx_step"), 0, len(steps), key=STEP_KEY)
            show_step(steps, k, graph)
        else:
            st.caption(tr("gx_no_backward"))
        st.subheader(tr("gx_inspector"))
        ids = [n["id"] for n in graph["nodes"]]
        labels = {
            n["id"]: f"{n['id']} · {n.get('label') or n['name']} ({n['grad_fn'] or tr('gx_kind_' + n['kind'])})"
            for n in graph["nodes"]
        }
        if st.session_state.get("gx_node") not in labels:  # a new program or a link's node id: the current step's
            st.session_state["gx_node"] = current if current in labels else ids[0]
        node_id = st.selectbox(tr("gx_node"), ids, format_func=labels.get, key="gx_node")
        show_node(shown, node_id, steps)

    if result.get("grad_graph"):
        with st.expander(tr("gx_higher"), expanded=True):
            st.caption(tr("gx_higher_help"))
            show_graph(result["grad_graph"], budget, None, [], [], lang(), key="higher")

    st.subheader(tr("gx_check"))
    st.caption(tr("gx_check_help"))
    if st.button(tr("gx_check_run"), key="gx_check_run"):
        with st.spinner(tr("gx_checking")):
            st.session_state["gx_check"] = sandboxed(
                sandbox.check_gradients, st.session_state.get(CODE_KEY, ""), device()
            )
    check = st.session_state.get("gx_check")
    if check is not None:
        show_check(check)
elif result.get("ok"):
    st.info(tr("gx_no_graph"))

state.save("graph", share)  # the address bar is a link to what is on screen
