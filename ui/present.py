"""Presentation mode: one switch kept in the URL (`?present=1`), large type and the graph filling the screen."""

from __future__ import annotations

import streamlit as st

PARAM = "present"


def presenting() -> bool:
    """Whether the page is in presentation mode (the URL's `present=1`)."""
    return st.query_params.get(PARAM) == "1"


def set_presenting(on: bool) -> None:
    """Write the mode into the URL (so a reload or a shared link keeps it)."""
    if on:
        st.query_params[PARAM] = "1"
    elif PARAM in st.query_params:
        del st.query_params[PARAM]


def toggle(label: str, help_text: str) -> bool:
    """The switch; its state follows the URL. Returns whether presentation mode is on."""
    st.session_state["w_present"] = presenting()
    st.toggle(label, key="w_present", help=help_text, on_change=lambda: set_presenting(st.session_state["w_present"]))
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
