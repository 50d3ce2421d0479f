"""Autograd Explorer: the app shell (navigation, device picker, language switch)."""

from __future__ import annotations

import streamlit as st

from core.i18n import LANGS, t
from ui import state
from ui.common import NAV, devices

st.set_page_config(page_title="Autograd Explorer", page_icon=":material/function:", layout="wide")


def _keep(setting: str) -> None:
    """Copy a sidebar widget's value into a plain session key (`lang`, `device`) that every page reads.

    Plain keys persist across reruns and pages; a keyed widget's own state in the entrypoint can be dropped
    by st.navigation reruns, which would flip the language back to English after a click in a page.
    """
    st.session_state[setting] = st.session_state[f"w_{setting}"]


lang = st.session_state.setdefault("lang", "en")
pages = {
    url: st.Page(path, title=t(title, lang), icon=icon, url_path=url, default=(i == 0))
    for i, (path, title, icon, url) in enumerate(NAV)
}
page = st.navigation(list(pages.values()))
name = next(url for url, p in pages.items() if p is page)
state.keep()  # the widgets of pages not on screen keep their state
if state.restore(name) and st.session_state["lang"] != lang:
    st.rerun()  # a link in the other language: the navigation's titles follow it too
st.session_state["w_lang"] = lang  # the sidebar pickers show the kept values, also when a link or a test set them
st.sidebar.radio(
    "Language / 语言",
    list(LANGS),
    format_func=LANGS.get,
    key="w_lang",
    on_change=_keep,
    args=("lang",),
    horizontal=True,
)
available = devices()
labels = {d["name"]: d["label"] for d in available}
if st.session_state.get("device") not in labels:
    st.session_state["device"] = "cpu"
st.session_state["w_device"] = st.session_state["device"]
st.sidebar.selectbox(
    t("sidebar_device", lang),
    list(labels),
    format_func=labels.get,
    key="w_device",
    on_change=_keep,
    args=("device",),
)
if len(available) == 1:
    st.sidebar.caption(t("sidebar_no_gpu", lang))

page.run()  # the page itself writes its state into the URL (state.save), so it does so in AppTest too
