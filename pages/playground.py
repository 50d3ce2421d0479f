"""Tensor Playground: type a program, see every variable's shape, dtype, device and value."""

from __future__ import annotations

import streamlit as st

from core import sandbox
from core.examples import PLAYGROUND, by_key
from core.limits import MAX_MATMUL_N, MAX_SOURCE_CHARS
from core.numfmt import fmt_number
from ui import export as export_buttons
from ui import state
from ui.common import device, ensure_shell, lang, sandboxed, show_error, tr
from ui.editor import code_area, error_line
from ui.tensor_view import show_values, variables_table
from ui.text import code as code_span
from ui.text import esc

CODE_KEY = "pg_code"
RESULT_KEY = "pg_result"


def _load_example() -> None:
    ex = by_key(PLAYGROUND, st.session_state["pg_example"])
    if ex is not None:
        st.session_state[CODE_KEY] = ex.code
        st.session_state.pop(RESULT_KEY, None)
        st.session_state.pop("pg_run_key", None)


def _run() -> None:
    """Run the editor's program (runs are seeded, so the same code on the same device gives the same result)."""
    code = st.session_state.get(CODE_KEY, "")
    run_key = (code, device())
    if st.session_state.get("pg_run_key") == run_key and RESULT_KEY in st.session_state:
        return  # Ctrl+Enter and the Run button in the same rerun: run once
    st.session_state["pg_run_key"] = run_key
    st.session_state[RESULT_KEY] = sandboxed(sandbox.run_program, code, device=device(), graph=False)


ensure_shell()
state.restore("playground")  # a no-op when the app shell already did (it runs first)
st.title(tr("pg_title"))
st.caption(tr("pg_intro"))

st.session_state.setdefault(CODE_KEY, PLAYGROUND[0].code)
titles = {e.key: e.title(lang()) for e in PLAYGROUND}  # read now: format_func may run outside the script run
st.selectbox(
    tr("pg_examples"),
    list(titles),
    key="pg_example",
    format_func=titles.__getitem__,
    on_change=_load_example,
)
code_area(
    tr("pg_editor"),
    CODE_KEY,
    error_line(
        st.session_state.get(RESULT_KEY), st.session_state.get("pg_run_key", ("",))[0] == st.session_state[CODE_KEY]
    ),
    height=260,
    max_chars=MAX_SOURCE_CHARS,
    help=tr("pg_editor_help"),
    on_change=_run,
)
c1, c2 = st.columns([1, 5])
c1.button(tr("run"), type="primary", on_click=_run, key="pg_run")
with c2:
    share = state.share_slot()
export_buttons.playground()

if state.arrived("playground") or (
    RESULT_KEY in st.session_state and st.session_state.get("pg_run_key") != (st.session_state[CODE_KEY], device())
):
    _run()  # a link or a lesson's hand-off runs on arrival; a result never outlives its program or device
result = st.session_state.get(RESULT_KEY)
if result is not None:
    if not result.get("ok"):
        show_error(result["error"])
    if result.get("stdout"):
        st.subheader(tr("pg_output"))
        st.code(result["stdout"], language=None)
    variables = result.get("variables") or {}
    if variables:
        st.subheader(tr("pg_variables"))
        variables_table(variables)
        for name, v in variables.items():
            if v.get("type") not in ("tensor", "ndarray") or "shape" not in v:
                continue
            title = f"**{esc(name)}** · {esc(v['shape'])} · {esc(v['dtype'])} · {esc(v.get('device', 'numpy'))}"
            if v.get("same_as"):  # one big tensor under several names: shown once, under its first name
                st.markdown(f"{title} · {esc(tr('pg_same_as', name=v['same_as']))}")
                continue
            if v.get("value") is not None and not v["shape"]:
                st.markdown(f"{title} = {code_span(fmt_number(v['value'], v['dtype']))}")
                continue
            with st.expander(title, expanded=len(variables) <= 4):
                show_values(v.get("value"), v.get("summary"), v["shape"], v["dtype"], key=f"pg_{name}")
                if v.get("grad") is not None or v.get("grad_summary"):
                    st.caption(esc(f"{name}.grad"))
                    show_values(v["grad"], v.get("grad_summary"), v["shape"], v["dtype"], key=f"pg_{name}_grad")
    if result.get("ok") and not variables and not result.get("stdout"):
        st.info(tr("pg_nothing"))

with st.expander(tr("pg_timing_title")):
    st.caption(tr("pg_timing_help"))
    st.session_state.setdefault("pg_timing_n", 1024)
    n = st.slider("N", min_value=64, max_value=MAX_MATMUL_N, step=64, key="pg_timing_n")
    if st.button(tr("pg_timing_run"), key="pg_timing_run"):
        with st.spinner(tr("pg_timing_running")):
            st.session_state["pg_timing"] = sandboxed(sandbox.matmul_timing, n, device())
    timing = st.session_state.get("pg_timing")
    if timing is not None:
        if not timing.get("ok"):
            show_error(timing["error"])
        else:
            c1, c2 = st.columns(2)
            c1.metric(
                tr("pg_timing_cpu", threads=timing["threads"]),
                f"{timing['cpu_ms']:.2f} ms",
                f"{timing['gflops_cpu']:.1f} GFLOP/s",
                delta_color="off",
            )
            if timing["gpu_ms"] is None:
                c2.info(tr("pg_timing_no_gpu"))
            else:
                c2.metric(
                    esc(timing["gpu_name"]),
                    f"{timing['gpu_ms']:.2f} ms",
                    f"{timing['gflops_gpu']:.1f} GFLOP/s",
                    delta_color="off",
                )
                st.success(tr("pg_timing_speedup", x=timing["cpu_ms"] / timing["gpu_ms"], n=timing["n"]))

state.save("playground", share)  # the address bar is a link to what is on screen
