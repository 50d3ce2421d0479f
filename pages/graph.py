"""Graph Explorer: the autograd graph of a program with values and gradients, stepped in the engine's order."""

from __future__ import annotations

import streamlit as st

from core import render, sandbox
from core.examples import GRAPH, by_key
from core.limits import DEFAULT_NODE_BUDGET, MAX_SOURCE_CHARS
from core.pitfalls import explain
from ui import export as export_buttons
from ui import present, state
from ui.bridge import apply_event, bridge
from ui.common import device, ensure_shell, lang, sandboxed, show_error, tr
from ui.editor import code_area, error_line
from ui.graph_view import graph_at_step, show_check, show_graph, show_node, show_step

CODE_KEY = "gx_code"
RESULT_KEY = "gx_result"
STEP_KEY = "gx_step"
PICK_KEY = "gx_pick"  # the node the inspector shows: follows the step, or the box clicked last
PASS_KEY = "gx_detail_pass"  # the backward pass recorded in detail (None: the last one)
RUN_FOR = "gx_result_for"  # (code, device, pass) of the shown result: a result that no longer matches is re-run
PACES = [0.5, 1.0, 1.5, 2.0, 3.0, 5.0]


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
    st.session_state["gx_ran"] = code
    total = len(result.get("backward_steps") or [])
    st.session_state.pop("gx_check", None)
    st.session_state["gx_playing"] = False
    if keep_view and STEP_KEY in st.session_state:  # a link's step, node and opened boxes
        st.session_state[STEP_KEY] = min(total, max(0, int(st.session_state[STEP_KEY])))
        if st.session_state.get(PICK_KEY) is None:
            _follow()
        return
    st.session_state[STEP_KEY] = total
    st.session_state.pop("gx_expand", None)
    _follow()


def _steps() -> list[dict]:
    return (st.session_state.get(RESULT_KEY) or {}).get("backward_steps") or []


def _follow() -> None:
    """The inspector follows the step: it shows the node the engine is at (the output before backward)."""
    steps = _steps()
    k = st.session_state.get(STEP_KEY, len(steps))
    node = steps[k - 1].get("node") if 0 < k <= len(steps) else None
    nodes = ((st.session_state.get(RESULT_KEY) or {}).get("graph") or {}).get("nodes") or []
    st.session_state[PICK_KEY] = node or (nodes[0]["id"] if nodes else None)


def _move(delta: int) -> None:
    total = len(_steps())
    st.session_state[STEP_KEY] = min(total, max(0, st.session_state.get(STEP_KEY, 0) + delta))
    _follow()


def _on_bridge() -> None:
    """A key, a click on a box or an auto-play tick from ui.bridge."""
    result = st.session_state.get(RESULT_KEY) or {}
    ids = {n["id"] for n in (result.get("graph") or {}).get("nodes") or []}
    did = apply_event(st.session_state.get("gx_bridge"), st.session_state, len(_steps()), STEP_KEY, "gx_expand",
                      PICK_KEY, ids)  # fmt: skip
    if did == "step":
        _follow()


def _on_play() -> None:
    if st.session_state.get("gx_playing") and st.session_state.get(STEP_KEY, 0) >= len(_steps()):
        st.session_state[STEP_KEY] = 0  # play from the start
        _follow()


def _editor(budget_default: int) -> int:
    """Preset, program, Run and the node budget; returns the budget."""
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.selectbox(
            tr("gx_preset"),
            [e.key for e in GRAPH],
            key="gx_preset",
            format_func=lambda k: by_key(GRAPH, k).title(lang()),
            on_change=_load_preset,
        )
        code_area(
            tr("pg_editor"),
            CODE_KEY,
            error_line(st.session_state.get(RESULT_KEY), st.session_state.get("gx_ran") == st.session_state[CODE_KEY]),
            height=230,
            max_chars=MAX_SOURCE_CHARS,
            help=tr("pg_editor_help"),
            on_change=_run,
        )
        st.button(tr("gx_run"), type="primary", on_click=_run, key="gx_run")
        export_buttons.graph()
    with right:
        preset = by_key(GRAPH, st.session_state["gx_preset"])
        if preset is not None and preset.note(lang()) and st.session_state.get(CODE_KEY) == preset.code:
            st.info(preset.note(lang()), icon=":material/lightbulb:")
        return int(
            st.number_input(
                tr("gx_budget"),
                min_value=10,
                max_value=2000,
                step=10,
                key="gx_budget",
                help=tr("gx_budget_help"),
            )
        )


ensure_shell()
state.restore("graph")  # a no-op when the app shell already did (it runs first)
presenting = present.presenting()
if presenting:
    present.style()
if presenting:  # no title: the graph and the stepper get the screen
    presenting = present.toggle(tr("gx_present"), tr("gx_present_help"))
else:
    t_col, p_col = st.columns([3, 1], vertical_alignment="bottom")
    t_col.title(tr("gx_title"))
    with p_col:
        presenting = present.toggle(tr("gx_present"), tr("gx_present_help"))
    st.caption(tr("gx_intro"))

st.session_state.setdefault("gx_preset", GRAPH[0].key)
st.session_state.setdefault(CODE_KEY, GRAPH[0].code)
st.session_state.setdefault("gx_budget", DEFAULT_NODE_BUDGET)
if presenting:
    with st.expander(tr("gx_program_box"), expanded=False):
        budget = _editor(DEFAULT_NODE_BUDGET)
        share = state.share_slot()
else:
    budget = _editor(DEFAULT_NODE_BUDGET)
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
if result.get("stdout") and not presenting:
    with st.expander(tr("pg_output"), expanded=False):
        st.code(result["stdout"], language=None)

graph = result.get("graph")
if graph and graph.get("nodes"):
    steps = result.get("backward_steps") or []
    k = min(st.session_state.get(STEP_KEY, len(steps)), len(steps))
    plan = render.fit(graph, budget, st.session_state.get("gx_expand", []))
    options = {c: f"{c} (x{cl.reps})" for c, cl in plan.clusters.items()}
    options.update({b: tr("gx_module_box", name=m.name, cls=m.cls) for b, m in plan.modules.items()})
    options.update({b: tr("gx_opened_box", name=what) for b, what in plan.opened.items()})
    st.session_state["gx_expand"] = [c for c in st.session_state.get("gx_expand", []) if c in options]
    if options:
        st.multiselect(tr("gx_expand"), list(options), key="gx_expand", format_func=options.get)
    shown, current, done = graph_at_step(graph, steps, k)
    boxes = plan.box_of()
    bridge(
        "gx_bridge",
        keys=bool(steps),
        current=boxes.get(current) if current else None,
        playing=bool(st.session_state.get("gx_playing")) and k < len(steps),
        pace_ms=int(1000 * float(st.session_state.get("gx_pace", 1.5))),
        on_event=_on_bridge,
    )
    g_col, i_col = st.columns([3, 2], gap="large")
    with g_col:
        if not presenting:
            st.subheader(tr("gx_graph"))
        show_graph(shown, budget, current, done, st.session_state.get("gx_expand", []), lang(), key="main", zoom=True)
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
            st.slider(tr("gx_step"), 0, len(steps), key=STEP_KEY, on_change=_follow)
            a1, a2 = st.columns([1, 1], vertical_alignment="bottom")
            a1.toggle(tr("gx_play"), key="gx_playing", help=tr("gx_play_help"), on_change=_on_play)
            a2.selectbox(tr("gx_pace"), PACES, index=PACES.index(1.5), key="gx_pace")
            show_step(steps, k, graph)
        else:
            st.caption(tr("gx_no_backward"))
        st.subheader(tr("gx_inspector"))
        ids = [n["id"] for n in graph["nodes"]]
        labels = {
            n["id"]: f"{n['id']} · {n.get('label') or n['name']} ({n['grad_fn'] or tr('gx_kind_' + n['kind'])})"
            for n in graph["nodes"]
        }
        chosen = st.session_state.get(PICK_KEY)
        if chosen not in labels:
            chosen = current if current in labels else ids[0]
        st.session_state["gx_node"] = chosen  # the picker shows the node the panel shows
        node_id = st.selectbox(
            tr("gx_node"),
            ids,
            format_func=labels.get,
            key="gx_node",
            on_change=lambda: st.session_state.update({PICK_KEY: st.session_state["gx_node"]}),
        )
        show_node(shown, node_id, steps)

    if result.get("grad_graph"):
        with st.expander(tr("gx_higher"), expanded=True):
            st.caption(tr("gx_higher_help"))
            show_graph(result["grad_graph"], budget, None, [], [], lang(), key="higher", zoom=True)

    if not presenting:
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
