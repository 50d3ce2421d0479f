"""Presentation mode: one switch kept in the URL (`?present=1`, through ui/state's table), large type and the graph
filling the screen."""

from __future__ import annotations

import streamlit as st

KEY = "gx_present"  # the mode, as ui/state.PAGES["graph"] keeps it in the URL


def presenting() -> bool:
    """Whether the page is in presentation mode."""
    return bool(st.session_state.get(KEY))


def _keep() -> None:
    st.session_state[KEY] = st.session_state["w_present"]


def toggle(label: str, help_text: str) -> bool:
    """The switch; its state follows the kept mode. Returns whether presentation mode is on."""
    st.session_state["w_present"] = presenting()
    st.toggle(
        label,
        key="w_present",
        help=help_text,
        on_change=lambda: st.session_state.update({KEY: st.session_state["w_present"]}),
    )
    return presenting()


PRESENT_CSS = """<style>
html { font-size: 20px; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 1.2rem; max-width: 100%; }
.ae-graph { max-height: calc(100vh - 200px) !important; }
</style>"""


def style() -> None:
    """Large type, no sidebar, the graph as tall as the screen allows (only in presentation mode)."""
    st.html(PRESENT_CSS)
