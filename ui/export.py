"""Download buttons for the exports (core/export.py): one function per page, each a single call from its page.

The files are built only when a button is clicked (Streamlit runs a callable `data` then, on another thread,
without the session): everything the file needs is read here, while the page runs. A program's prints come
from the run the page shows when it belongs to the editor's code; otherwise the program is run again (runs are
seeded, so it is the same run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from core import export, sandbox
from core.lessons import Lesson
from ui.common import device, session_id, tr

ss = st.session_state
PY_MIME = "text/x-python"
IPYNB_MIME = "application/x-ipynb+json"


def _builder(
    fmt: str, code: str, result: dict[str, Any] | None, dev: str, title: str, notes: Sequence[str], graph: bool
) -> Callable[[], str]:
    session = session_id()

    def build() -> str:
        answer = result
        if answer is None:  # no run of this code yet: run it now (seeded, so it is the run the page would show)
            answer = sandbox.run_program(code, device=dev, graph=graph, session=session)
        if fmt == "py":
            return export.program_py(code, answer, dev, title)
        return export.program_ipynb(code, answer, dev, title, notes)

    return build


def _program_buttons(
    key: str,
    code: str,
    result: dict[str, Any] | None,
    title: str,
    stem: str,
    notes: Sequence[str] = (),
    graph: bool = True,
) -> None:
    dev = device()
    for col, (fmt, mime) in zip(st.columns(2), (("py", PY_MIME), ("ipynb", IPYNB_MIME)), strict=True):
        col.download_button(
            tr(f"ex_download_{fmt}"),
            data=_builder(fmt, code, result, dev, title, notes, graph),
            file_name=f"{stem}.{fmt}",
            mime=mime,
            key=f"{key}_{fmt}",
            on_click="ignore",
            help=tr(f"ex_download_{fmt}_help"),
            icon=":material/download:",
            width="stretch",
            disabled=not code.strip(),
        )


def playground() -> None:
    """The Tensor Playground's program (and the run shown for it)."""
    code = ss.get("pg_code", "")
    result = ss.get("pg_result") if ss.get("pg_run_key") == (code, device()) else None
    _program_buttons("ex_pg", code, result, tr("ex_title_playground"), "playground", graph=False)


def graph() -> None:
    """The Graph Explorer's program (its result is always the editor's: an edit runs it)."""
    code = ss.get("gx_code", "")
    _program_buttons("ex_gx", code, ss.get("gx_result"), tr("ex_title_graph"), "graph_explorer")


def lesson(lesson: Lesson, k: int, lang: str, result: dict[str, Any] | None) -> None:
    """Step `k` of `lesson`: its code, with the step's explanation and question as markdown in the notebook."""
    step = lesson.steps[k]
    if not step.code:
        return
    title = f"{lesson.title.get(lang)} · {k + 1}. {step.title.get(lang)}"
    notes = [f"## {k + 1}. {step.title.get(lang)}\n\n{step.body.get(lang)}"]
    if step.quiz is not None:
        choices = "\n".join(f"- {c.get(lang)}" for c in step.quiz.choices)
        notes.append(f"**{tr('ls_quiz')}** · {step.quiz.question.get(lang)}\n\n{choices}")
    _program_buttons("ex_ls", step.code, result, title, f"{lesson.key}_step{k + 1}", notes, graph=step.graph)


def training(trainer: Any) -> None:
    """The Training Studio's run as a plain-PyTorch script (its loss curve from the same seed and settings)."""
    if not export.can_export_training(trainer.preset):
        st.caption(tr("ex_training_unavailable", preset=trainer.preset.name))
        return
    st.download_button(
        tr("ex_download_training"),
        data=lambda: export.training_py_for(trainer),  # at the click: the steps run by then
        file_name=f"train_{trainer.preset.name}.py",
        mime=PY_MIME,
        key="ex_tr_py",
        on_click="ignore",
        help=tr("ex_download_training_help"),
        icon=":material/download:",
    )
