"""Lessons: guided steps built on seeds 000–004; read, run here, answer, then open the step in a full tool."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from core import lessons, sandbox
from core.lessons import Catalog, Lesson, Step
from core.limits import DEFAULT_NODE_BUDGET
from core.numfmt import fmt_tensor
from ui import export as export_buttons
from ui import state
from ui.common import PAGE_FILES, device, ensure_shell, lang, sandboxed, show_error, tr
from ui.graph_view import show_graph
from ui.tensor_view import variables_table
from ui.text import code, esc

ss = st.session_state
LESSON_KEY = "ls_lesson"  # the current lesson's key; kept apart from the picker's widget state, which Streamlit
PICK_KEY = "ls_pick"  # drops whenever another page runs (a trip to the Graph Explorer must not lose the lesson)
STEP_KEY = "ls_step"  # 0-based step index in the current lesson
RESULTS_KEY = "ls_results"  # "lesson:step" -> the sandbox result of that step's snippet
# A wide graph (an MLP's) is scaled down to the page's width instead of scrolling sideways.
GRAPH_CSS = '<style>.ae-graph[data-graph="lesson"] svg {max-width: 100%; height: auto;}</style>'


def _catalog() -> Catalog:
    """The lesson files as they are now (re-read only when one was added, changed or removed)."""
    return state.lesson_catalog()


def _problems(catalog: Catalog) -> None:
    """Files that could not be loaded: named, with the line and the problem, in the reader's language."""
    if not catalog.problems:
        return
    with st.container(border=True):
        st.warning(tr("ls_err_heading"), icon=":material/warning:")
        for problem in catalog.problems:
            st.error(esc(problem.text(lang()), limit=1_000))


def _current() -> tuple[Lesson, int]:
    catalog = _catalog()
    lesson = catalog.by_key(ss.get(LESSON_KEY)) or catalog.lessons[0]
    return lesson, min(max(0, ss.get(STEP_KEY, 0)), len(lesson.steps) - 1)


def _slot(lesson: Lesson, k: int) -> str:
    return f"{lesson.key}:{k}"


# --- callbacks (they run before the script, so the page below already shows the new state) ------------------------


def _pick() -> None:
    ss[LESSON_KEY] = ss[PICK_KEY]
    ss[STEP_KEY] = 0


def _move(delta: int) -> None:
    lesson, k = _current()
    ss[STEP_KEY] = min(len(lesson.steps) - 1, max(0, k + delta))


def _next_lesson() -> None:
    lesson, _ = _current()
    keys = [ls.key for ls in _catalog().lessons]
    ss[LESSON_KEY] = keys[min(keys.index(lesson.key) + 1, len(keys) - 1)]
    ss[STEP_KEY] = 0


def _run() -> None:
    lesson, k = _current()
    step = lesson.steps[k]
    ss.setdefault(RESULTS_KEY, {})[_slot(lesson, k)] = sandboxed(
        sandbox.run_program, step.code, device=device(), graph=step.graph
    )


def _open(step: Step) -> None:
    """Hand the step to its target page by the link that page reads (st.switch_page ends this run, so it may not
    run inside a callback); the page runs the snippet on arrival."""
    target = step.target
    assert target is not None
    values = {"preset": target.preset} if target.page == "training" else {"code": step.code}
    st.switch_page(PAGE_FILES[target.page], query_params=state.link(target.page, **values))


# --- the parts of a step ------------------------------------------------------------------------------------------


def _buttons(lesson: Lesson, k: int, step: Step) -> None:
    c1, c2 = st.columns([1, 2])
    c1.button(tr("ls_run"), key="ls_run", type="primary", on_click=_run, icon=":material/play_arrow:", width="stretch")
    target = step.target
    if target is None:
        return
    help_text = (
        tr("ls_open_help_training", preset=target.preset) if target.page == "training" else tr("ls_open_help_code")
    )
    if c2.button(tr(f"ls_open_{target.page}"), key="ls_open", help=help_text, icon=":material/open_in_new:"):
        _open(step)


def _result(result: dict[str, Any] | None) -> None:
    st.subheader(tr("ls_result"))
    if result is None:
        st.info(tr("ls_result_hint"), icon=":material/play_circle:")
        return
    if not result.get("ok"):
        show_error(result["error"])
    if result.get("stdout"):
        st.caption(tr("ls_output"))
        st.code(result["stdout"], language=None)
    variables = result.get("variables") or {}
    if variables:
        st.caption(tr("ls_variables"))
        variables_table(variables)


def _graph(result: dict[str, Any] | None, step: Step) -> None:
    """The run's autograd graph, across the page: an MLP's graph is too wide for the result column."""
    graph = (result or {}).get("graph")
    if not step.graph or not graph or not graph.get("nodes"):
        return
    st.subheader(tr("ls_graph"))
    st.caption(tr("ls_graph_caption"))
    st.html(GRAPH_CSS)
    show_graph(graph, DEFAULT_NODE_BUDGET, None, [], [], lang(), key="lesson")


def _quiz(lesson: Lesson, k: int, step: Step, result: dict[str, Any] | None) -> None:
    quiz = step.quiz
    if quiz is None:
        return
    with st.container(border=True):
        st.markdown(f"**{tr('ls_quiz')}** · {quiz.question.get(lang())}")
        choice = st.radio(
            tr("ls_quiz"),
            list(range(len(quiz.choices))),
            index=None,
            format_func=lambda i: quiz.choices[i].get(lang()),
            key=f"ls_quiz_{lesson.key}_{k}",
            label_visibility="collapsed",
        )
        if choice is None:
            return
        if choice != quiz.answer:
            st.warning(
                tr("ls_quiz_wrong_run" if quiz.check and result is None else "ls_quiz_wrong"), icon=":material/help:"
            )
            return
        st.success(tr("ls_quiz_right", why=quiz.why.get(lang())), icon=":material/check_circle:")
        check = quiz.check
        if check is not None and result is not None and result.get("ok") and lessons.agrees(check, result):
            place = check.name if check.field == "value" else f"{check.name}.{check.field}"
            value = lessons.observed(result, check)
            st.caption(
                tr(
                    "ls_quiz_agrees",
                    place=code(place),
                    value=code(_shown(value, check, result)),
                )
            )


def _shown(value: Any, check: Any, result: dict[str, Any]) -> str:
    """A quiz's observed value as the rest of the app shows it (numbers through core.numfmt, in their dtype)."""
    if isinstance(value, str):
        return value
    if check.field in ("value", "grad"):
        dtype = ((result.get("variables") or {}).get(check.name) or {}).get("dtype")
        return fmt_tensor(value, dtype)
    return json.dumps(value)


def _nav(lesson: Lesson, k: int) -> None:
    last = k == len(lesson.steps) - 1
    st.divider()
    c1, c2 = st.columns(2)
    c1.button(
        tr("ls_prev"),
        key="ls_prev",
        on_click=_move,
        args=(-1,),
        disabled=k == 0,
        icon=":material/chevron_left:",
        width="stretch",
    )
    if not last:
        c2.button(
            tr("ls_next"), key="ls_next", on_click=_move, args=(1,), icon=":material/chevron_right:", width="stretch"
        )
        return
    if lesson.key != _catalog().lessons[-1].key:
        c2.button(
            tr("ls_next_lesson"),
            key="ls_next_lesson",
            on_click=_next_lesson,
            icon=":material/skip_next:",
            width="stretch",
            type="primary",
        )
        st.success(tr("ls_done"), icon=":material/celebration:")
    else:
        st.success(tr("ls_all_done"), icon=":material/celebration:")


# --- the page ------------------------------------------------------------------------------------------------------

ensure_shell()
state.restore("lessons")  # a no-op when the app shell already did (it runs first)
st.title(tr("ls_title"))
st.caption(tr("ls_intro"))
CATALOG = _catalog()
_problems(CATALOG)
if not CATALOG.lessons:
    st.stop()
lesson, k = _current()
ss[LESSON_KEY], ss[STEP_KEY], ss[PICK_KEY] = lesson.key, k, lesson.key
titles = {ls.key: tr("ls_lesson_label", n=n, title=ls.title.get(lang())) for n, ls in enumerate(CATALOG.lessons, 1)}
st.selectbox(tr("ls_pick"), list(titles), key=PICK_KEY, on_change=_pick, format_func=titles.get)
step = lesson.steps[k]
st.caption(lesson.summary.get(lang()))
st.progress((k + 1) / len(lesson.steps), text=tr("ls_progress", k=k + 1, n=len(lesson.steps)))
share = state.share_slot()

result = ss.get(RESULTS_KEY, {}).get(_slot(lesson, k))
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(tr("ls_step_head", k=k + 1, title=step.title.get(lang())))
    st.markdown(step.body.get(lang()))
    if step.code:
        st.code(step.code, language="python", wrap_lines=True)
        _buttons(lesson, k, step)
        export_buttons.lesson(lesson, k, lang(), result)
with right:
    if step.code:
        _result(result)
_graph(result, step)
left, _ = st.columns([3, 2], gap="large")
with left:
    _quiz(lesson, k, step, result)
    _nav(lesson, k)

state.save("lessons", share)  # the address bar is a link to what is on screen
