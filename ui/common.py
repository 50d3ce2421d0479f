"""Session-wide settings (language, device) and the shared error box, for every page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.i18n import t


def lang() -> str:
    """The UI language picked in the sidebar ('en' or 'zh')."""
    return st.session_state.get("lang", "en")


def device() -> str:
    """The device picked in the sidebar ('cpu', 'cuda:0', ...)."""
    return st.session_state.get("device", "cpu")


def tr(key: str, **fmt: object) -> str:
    """`t(key)` in the current language."""
    return t(key, lang(), **fmt)


def show_error(error: dict[str, Any]) -> None:
    """The error box for a sandbox error object {kind, message, line}."""
    kind = tr(f"error_kind_{error.get('kind', 'runtime')}")
    where = f" ({tr('error_line', line=error['line'])})" if error.get("line") else ""
    st.error(f"**{kind}**{where}: {error.get('message', '')}")


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
