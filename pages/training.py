"""Training Studio: pick a preset, play / pause / step training, watch the curves, replay any step's graph."""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from core.limits import DEFAULT_NODE_BUDGET, MAX_CHUNK_SECONDS, MAX_STEPS_PER_FRAME, PAGE_REFRESH_S
from core.numfmt import fmt_number
from core.training import admission, charts
from core.training.cli import CIFAR_ENV
from core.training.inspect import StepGraph, step_graph
from core.training.models import n_parameters
from core.training.presets import PRESETS, Preset, Setting
from core.training.trainer import Trainer, create
from ui import export as export_buttons
from ui import state, urls
from ui.common import device, ensure_shell, lang, sandboxed, session_id, tr, uploader_words
from ui.graph_view import graph_at_step, show_graph, show_node, show_step, stepper
from ui.text import message

SPEEDS = [1, 5, 25, 100, MAX_STEPS_PER_FRAME]  # steps per frame (one fragment run)
ss = st.session_state


# --- settings: widgets generated from the preset table, seeded once from the URL -------------------------------


def _key(p: Preset, s: Setting) -> str:
    return f"tr_w_{p.name}_{s.name}"


def _widget_value(s: Setting, value: Any) -> Any:
    return s.to_text(value) if s.type == "layers" else value


def _read_url() -> None:
    """A link, a lesson's hand-off or back/forward: the preset and its settings from the URL (bad values reported)."""
    names = {"preset", "lang"} | {s.name for p in PRESETS.values() for s in p.settings}
    if state.incoming("training", names) is None:
        return
    query = {k: v for k, v in st.query_params.to_dict().items() if urls.raw(k) is not None}  # too long: warned
    preset = urls.choice("preset", list(PRESETS))
    if preset is not None:
        ss.tr_preset = preset
    p = PRESETS[ss.get("tr_preset", next(iter(PRESETS)))]
    values, problems = p.parse(query)
    for s in p.settings:
        if s.name in query:
            ss[_key(p, s)] = _widget_value(s, values[s.name])
    ss.tr_url_problems = problems


def _keep(key: str) -> None:
    """A widget's value into its plain copy (on change): the copy is the truth."""
    ss[f"{key}_kept"] = ss[key]


def _widget(p: Preset, s: Setting, where: Any) -> Any:
    # A widget's label changes with the language, and Streamlit then makes it a new widget whose state starts
    # over: the value lives in a plain key, copied into the widget before it is drawn and back on change.
    key = _key(p, s)
    kept = f"{key}_kept"
    if kept not in ss:
        ss[kept] = ss.get(key, _widget_value(s, s.default))  # the URL may have seeded the widget's key
    ss[key] = ss[kept]
    label = tr(s.label_key)
    on = {"key": key, "on_change": _keep, "args": (key,)}
    if s.type == "choice":
        return where.selectbox(label, s.choices, format_func=lambda c: tr(f"tr_choice_{c}"), **on)
    if s.type == "bool":
        return where.checkbox(label, **on)
    if s.type == "int":
        return where.number_input(label, min_value=int(s.low), max_value=int(s.high), step=1, **on)
    if s.type == "float":
        return where.number_input(
            label, min_value=float(s.low), max_value=float(s.high), step=s.step, format="%g", **on
        )
    if s.type == "path":  # a server folder: only the one the operator configured, never typed in a browser
        ss[key] = os.environ.get(CIFAR_ENV, "")
        return where.text_input(label, key=key, disabled=True, help=tr("tr_folder_help", env=CIFAR_ENV))
    return where.text_input(label, **on)


def _settings(p: Preset) -> dict[str, Any]:
    with st.expander(tr("tr_settings"), expanded=False):
        cols = st.columns(3)
        raw = {s.name: _widget(p, s, cols[i % 3]) for i, s in enumerate(p.settings)}
    values, problems = p.parse(raw)
    for m in [*ss.pop("tr_url_problems", []), *problems]:
        st.warning(message(m, lang()))
    state.write("training", p.to_query(values))
    return values


def _trainer(p: Preset, values: dict[str, Any]) -> Trainer | None:
    """The session's trainer; a fresh one whenever a non-live setting or the device changes."""
    sig = (p.fingerprint(values), device())
    if ss.get("tr_sig") != sig:
        trainer, notes = create(p.name, values, device=device())
        ss.tr_trainer, ss.tr_notes, ss.tr_sig, ss.tr_playing = trainer, notes, sig, False
        ss.pop("tr_upload_msg", None)
    trainer = ss.tr_trainer
    if trainer is not None:
        trainer.set_step_limit(values["steps"])
    return trainer


# --- controls (callbacks run before the script, so the buttons below already show the new state) -------------


def _play() -> None:
    ss.tr_playing = True


def _pause() -> None:
    ss.tr_playing = False


def _step() -> None:
    ss.tr_playing = False
    ss.tr_trainer.advance(1)


def _reset() -> None:
    ss.tr_playing = False
    ss.tr_trainer.reset()


def _controls(trainer: Trainer) -> None:
    playing = bool(ss.get("tr_playing"))
    c = st.columns([1, 1, 1, 1, 3])
    c[0].button(tr("tr_play"), key="tr_play", on_click=_play, disabled=playing or trainer.finished, type="primary")
    c[1].button(tr("tr_pause"), key="tr_pause", on_click=_pause, disabled=not playing)
    c[2].button(tr("tr_step"), key="tr_step", on_click=_step, disabled=trainer.finished)
    c[3].button(tr("tr_reset"), key="tr_reset", on_click=_reset)
    if "tr_speed" not in ss:
        ss.tr_speed = 25
    c[4].select_slider(tr("tr_speed"), SPEEDS, key="tr_speed")


# --- the live part: one bounded chunk of training per run while playing ------------------------------------------


def _labels(title: str, **extra: str) -> dict[str, str]:
    return {"title": tr(title), "x": tr("tr_chart_x"), "train": tr("tr_train"), "test": tr("tr_test"), **extra}


def _pick_step() -> None:
    """A click on the loss curve (while paused) opens that step in the step inspector below."""
    points = ss.get("tr_loss_chart", {}).get("selection", {}).get("points", [])
    if points and not ss.get("tr_playing") and points[0].get("x") is not None:
        ss.tr_inspect_k = max(0, int(round(float(points[0]["x"]))))
        ss.tr_pick_rerun = True


def _live(trainer: Trainer) -> None:
    if ss.pop("tr_pick_rerun", False):
        st.rerun()  # the inspector lives outside this fragment
    if ss.get("tr_playing"):
        wait = st.empty()
        ran, _ = admission.run_chunk(
            session_id(),
            lambda: trainer.advance(ss.get("tr_speed", 25), MAX_CHUNK_SECONDS),
            on_wait=lambda place: wait.info(tr("tr_wait_slot", place=place), icon=":material/hourglass_top:"),
        )
        if ran:
            wait.empty()
        if trainer.finished:
            ss.tr_playing = False
            st.rerun()  # the whole page: buttons change and this fragment stops refreshing
    last = trainer.history.evals[-1]
    c = st.columns(4)
    c[0].metric(tr("tr_counter_step"), f"{trainer.step} / {trainer.step_limit}")
    c[1].metric(tr("tr_counter_epoch"), trainer.epoch)
    c[2].metric(tr("tr_counter_loss"), fmt_number(trainer.history.loss[-1], "float32") if trainer.history.loss else "-")
    if last.accuracy is not None:
        c[3].metric(tr("tr_counter_acc"), f"{last.accuracy:.1%}")
    if trainer.divergence is not None:
        st.error(message(trainer.divergence.message, lang()))
    elif trainer.finished:
        st.info(tr("tr_finished", steps=trainer.step_limit))
    left, right = st.columns(2)
    left.plotly_chart(
        charts.loss_figure(trainer, _labels("tr_chart_loss")),
        key="tr_loss_chart",
        on_select=_pick_step,
        selection_mode="points",
    )
    data = trainer.data
    if data.task == "regression":
        right.plotly_chart(charts.fit_figure(trainer, _labels("tr_chart_fit", model=tr("tr_model"))))
    elif data.input_shape == (2,):
        right.plotly_chart(charts.boundary_figure(trainer, _labels("tr_chart_boundary")))
    else:
        right.plotly_chart(charts.accuracy_figure(trainer, _labels("tr_chart_acc")))
    left, right = st.columns(2)
    left.plotly_chart(charts.norms_figure(trainer, _labels("tr_chart_norms")))
    if data.task == "classification" and data.input_shape == (2,):
        right.plotly_chart(charts.accuracy_figure(trainer, _labels("tr_chart_acc")))
    elif last.per_class is not None:
        right.plotly_chart(charts.per_class_figure(last.per_class, data.class_names, _labels("tr_chart_per_class")))
        st.plotly_chart(
            charts.confusion_figure(
                last.confusion,
                data.class_names,
                {"title": tr("tr_chart_confusion"), "x": tr("tr_predicted"), "y": tr("tr_true")},
            )
        )
    _predict(trainer)


def _predict(trainer: Trainer) -> None:
    data = trainer.data
    if data.task == "regression":
        x = st.number_input(tr("tr_predict"), value=float(trainer.preset.predict_x or 0.0), key="tr_predict_x")
        st.markdown(tr("tr_prediction", x=fmt_number(x), y=fmt_number(trainer.predict([x]), "float32")))
    elif data.input_shape == (2,):
        c = st.columns(2)
        x1 = c[0].number_input(tr("tr_predict") + " x1", value=0.5, key="tr_predict_x1")
        x2 = c[1].number_input(tr("tr_predict") + " x2", value=0.5, key="tr_predict_x2")
        st.markdown(
            tr(
                "tr_prediction_2d",
                x1=fmt_number(x1),
                x2=fmt_number(x2),
                p=fmt_number(trainer.predict([x1, x2])[1], "float32"),
            )
        )


# --- replay one step's graph (only while paused) ---------------------------------------------------------------------


def _inspector(trainer: Trainer) -> None:
    st.subheader(tr("tr_inspect"))
    if ss.get("tr_playing"):
        st.info(tr("tr_inspect_pause"))
        return
    if trainer.step == 0:
        st.info(tr("tr_inspect_none"))
        return
    last = trainer.step - 1
    if ss.get("tr_inspect_k") is None or ss.tr_inspect_k > last:
        ss.tr_inspect_k = last
    k = int(st.number_input(tr("tr_inspect_step"), min_value=0, max_value=last, step=1, key="tr_inspect_k"))
    cache_key = (id(trainer), trainer.generation, k)
    if ss.get("tr_view_key") != cache_key:
        ss.tr_view, ss.tr_view_key = step_graph(trainer, k), cache_key
        ss.pop("tr_gstep", None)  # a new step's graph opens at the end of its backward pass
    view = ss.tr_view
    if not isinstance(view, StepGraph):
        st.warning(message(view, lang()))
        return
    st.caption(
        tr(
            "tr_inspect_loss",
            step=k,
            loss=fmt_number(view.loss, "float32"),
            recorded=fmt_number(trainer.history.loss[k], "float32"),
            nodes=view.nodes,
        )
    )
    st.caption(tr("tr_inspect_help"))
    graph, steps = view.result["graph"], view.result.get("backward_steps") or []
    g_col, i_col = st.columns([3, 2], gap="large")
    with i_col:
        st.subheader(tr("gx_stepper"))
        shown_k = stepper(len(steps), "tr_gstep")
        shown, current, done = graph_at_step(graph, steps, shown_k)
        show_step(steps, shown_k, graph)
        st.subheader(tr("gx_inspector"))
        ids = [n["id"] for n in graph["nodes"]]
        labels = {
            n["id"]: f"{n['id']} · {n.get('label') or n['name']} ({n['grad_fn'] or tr('gx_kind_' + n['kind'])})"
            for n in graph["nodes"]
        }
        if ss.get("tr_node") not in labels:
            ss.pop("tr_node", None)
        node_id = st.selectbox(tr("gx_node"), ids, format_func=labels.get, key="tr_node")
        show_node(shown, node_id, steps)
    with g_col:
        show_graph(shown, DEFAULT_NODE_BUDGET, current, done, [], lang(), key="training")
        st.caption(tr("gx_legend"))


# --- weights in and out -------------------------------------------------------------------------------------------


def _weights(trainer: Trainer) -> None:
    st.subheader(tr("tr_weights"))
    c = st.columns(2)
    name = trainer.preset.name
    c[0].download_button(
        tr("tr_download_safetensors"),
        data=lambda: trainer.export("safetensors"),
        file_name=f"{name}.safetensors",
        mime="application/octet-stream",
        key="tr_dl_safetensors",
        on_click="ignore",
    )
    c[1].download_button(
        tr("tr_download_pt"),
        data=lambda: trainer.export("pt"),
        file_name=f"{name}.pt",
        mime="application/octet-stream",
        key="tr_dl_pt",
        on_click="ignore",
    )
    kinds = ["safetensors", "pt", "pth"]
    uploader_words(kinds)
    up = st.file_uploader(tr("tr_upload"), type=kinds, key="tr_upload")
    if up is not None and ss.get("tr_upload_id") != up.file_id:
        ss.tr_upload_id = up.file_id
        ss.tr_playing = False
        ss.tr_upload_msg = sandboxed(trainer.load_weights, up.getvalue(), up.name)
    msg = ss.get("tr_upload_msg")
    if msg is not None:
        (st.success if msg.key == "tr_w_loaded" else st.error)(message(msg, lang()))


# --- the page ------------------------------------------------------------------------------------------------------

ensure_shell()
st.title(tr("tr_title"))
st.caption(tr("tr_intro"))
_read_url()
if ss.get("tr_preset") not in PRESETS:  # the plain key is the truth (lessons set it); the widget mirrors it
    ss.tr_preset = next(iter(PRESETS))
ss.tr_preset_pick = ss.tr_preset


def _pick_preset() -> None:
    ss.tr_preset = ss.tr_preset_pick


preset = PRESETS[
    st.selectbox(
        tr("tr_preset_label"),
        list(PRESETS),
        key="tr_preset_pick",
        on_change=_pick_preset,
        format_func=lambda n: f"{n} — {tr(PRESETS[n].description_key)}",
    )
]
settings = _settings(preset)
trainer = _trainer(preset, settings)
notes = [message(m, lang()) for m in ss.get("tr_notes", [])]
if trainer is None:
    st.error(" ".join([tr("tr_no_trainer"), *notes]))
    st.stop()
for note in notes:
    st.info(note)
st.caption(
    tr(
        "tr_summary",
        n_train=len(trainer.data.train),
        n_test=len(trainer.data.test or []),
        params=n_parameters(trainer.model),
        batch=trainer.batch_size,
        device=trainer.device,
    )
)
_controls(trainer)
st.fragment(_live, run_every=PAGE_REFRESH_S if ss.get("tr_playing") else None)(trainer)
_inspector(trainer)
_weights(trainer)
export_buttons.training(trainer)
