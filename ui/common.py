"""Session-wide settings (language, device, session id), the shared error box and the sandbox-call wrapper."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import streamlit as st

from core.i18n import t
from core.sandbox.errors import error_text
from ui.text import esc

NAV = [  # the app's pages: (file, title key, icon, url path); the first is the default page
    ("pages/playground.py", "nav_playground", ":material/science:", "playground"),
    ("pages/lessons.py", "nav_lessons", ":material/school:", "lessons"),
    ("pages/graph.py", "nav_graph", ":material/account_tree:", "graph"),
    ("pages/training.py", "nav_training", ":material/monitoring:", "training"),
]
PAGE_FILES = {url: path for path, _, _, url in NAV}


def lang() -> str:
    """The UI language picked in the sidebar ('en' or 'zh')."""
    return st.session_state.get("lang", "en")


def device() -> str:
    """The device picked in the sidebar ('cpu', 'cuda:0', ...)."""
    return st.session_state.get("device", "cpu")


@st.cache_resource(show_spinner=False)
def devices() -> list[dict[str, str]]:
    """Devices a worker can see, as [{name, label}] ("cpu" first); the server process itself never touches CUDA."""
    from core import sandbox

    return sandbox.devices()


def tr(key: str, **fmt: object) -> str:
    """`t(key)` in the current language."""
    return t(key, lang(), **fmt)


def session_id() -> str:
    """This browser session's id: the worker pool queues one request per session and serves them round-robin."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is not None and ctx.session_id:
            return str(ctx.session_id)
    except ImportError:  # pragma: no cover - an older Streamlit layout
        pass
    return st.session_state.setdefault("_session_id", uuid.uuid4().hex)


def sandboxed(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`call(*args, session=..., on_wait=..., **kwargs)` for a core.sandbox function (or anything queued by the pool):
    while the run waits for a free worker, the page shows "waiting for a free worker: place N"."""
    slot = st.empty()

    def on_wait(place: int) -> None:
        slot.info(tr("queue_waiting", place=place), icon=":material/hourglass_top:")

    try:
        return call(*args, session=session_id(), on_wait=on_wait, **kwargs)
    finally:
        slot.empty()


def show_error(error: dict[str, Any]) -> None:
    """The error box for a sandbox error object {kind, message, line, key?, args?, detail?}: the message in the
    user's language (its catalog key), shown as plain text; Python's own English words below when translated."""
    kind = tr(f"error_kind_{error.get('kind', 'runtime')}")
    line = error.get("line")
    where = f" ({tr('error_line', line=line)})" if isinstance(line, int) and not isinstance(line, bool) else ""
    code = error.get("code")
    if code in ("busy", "replaced"):
        st.error(f"**{kind}**{where}: {tr(f'queue_{code}')}")
        return
    text = error_text(error, lang())
    body = f"**{kind}**{where}: {esc(text, limit=2_000)}"
    detail = error.get("detail")
    if isinstance(detail, str) and detail and detail != text:
        body += f"\n\n{tr('error_python_said')}: {esc(detail, limit=2_000)}"
    st.error(body)


def ensure_shell() -> None:
    """Run a page inside app.py's navigation even when a deep link (/graph) reached Streamlit first.

    Streamlit treats a `pages/` folder as the old auto-discovered multipage layout until `st.navigation`
    has run once in the process; a first visit straight to /graph would then run the page without the
    app shell (sidebar, page config). Switch the process to explicit navigation and rerun: app.py then
    routes the same URL to this page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def css_string(text: str) -> str:
    """`text` as a quoted CSS string: every character but ASCII letters, digits and spaces as a CSS escape, so
    nothing in it can end the string, the rule or the <style> element."""
    body = "".join(c if (c.isascii() and c.isalnum()) or c == " " else f"\\{ord(c):x} " for c in text)
    return f'"{body}"'


def uploader_words(types: list[str]) -> None:
    """Streamlit's file uploader writes its own English ("Upload", "20MB per file • PT"): in another language, the
    page's CSS swaps them for the catalog's words. Call it before st.file_uploader; the texts are our own, never the
    user's, and go into CSS as escaped strings (css_string)."""
    if lang() == "en":
        return
    size = f"{st.get_option('server.maxUploadSize')}MB"
    button = css_string(tr("up_button"))
    limit = css_string(tr("up_limit", size=size, types=", ".join(t.upper() for t in types)))
    zone = '[data-testid="stFileUploaderDropzone"]'
    btn = f'{zone} [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p'
    note = f'{zone} [data-testid="stFileUploaderDropzoneInstructions"] span'
    st.html(
        f"<style>{btn} {{font-size: 0}} {btn}::after {{content: {button}; font-size: 0.875rem}} "
        f"{note} {{font-size: 0}} {note}::after {{content: {limit}; font-size: 0.875rem}}</style>"
    )
