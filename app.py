"""Autograd Explorer: the app shell (navigation, device picker, language switch)."""

from __future__ import annotations

import streamlit as st

from core import sandbox
from core.i18n import LANGS, t

st.set_page_config(page_title="Autograd Explorer", page_icon=":material/function:", layout="wide")


@st.cache_resource(show_spinner=False)
def _devices() -> list[dict[str, str]]:
    """Devices a worker can see (the server process itself never touches CUDA)."""
    return sandbox.devices()


def _keep(setting: str) -> None:
    """Copy a sidebar widget's value into a plain session key (`lang`, `device`) that every page reads.

    Plain keys persist across reruns and pages; a keyed widget's own state in the entrypoint can be dropped
    by st.navigation reruns, which would flip the language back to English after a click in a page.
    """
    st.session_state[setting] = st.session_state[f"w_{setting}"]


lang = st.session_state.setdefault("lang", "en")
st.sidebar.radio(
    "Language / 语言",
    list(LANGS),
    index=list(LANGS).index(lang),
    format_func=LANGS.get,
    key="w_lang",
    on_change=_keep,
    args=("lang",),
    horizontal=True,
)
devices = _devices()
labels = {d["name"]: d["label"] for d in devices}
if st.session_state.get("device") not in labels:
    st.session_state["device"] = "cpu"
st.sidebar.selectbox(
    t("sidebar_device", lang),
    list(labels),
    index=list(labels).index(st.session_state["device"]),
    format_func=labels.get,
    key="w_device",
    on_change=_keep,
    args=("device",),
)
if len(devices) == 1:
    st.sidebar.caption(t("sidebar_no_gpu", lang))

PAGES = [  # (file, title key, icon, url path)
    ("pages/playground.py", "nav_playground", ":material/science:", "playground"),
    ("pages/lessons.py", "nav_lessons", ":material/school:", "lessons"),
    ("pages/graph.py", "nav_graph", ":material/account_tree:", "graph"),
    ("pages/training.py", "nav_training", ":material/monitoring:", "training"),
]
pages = [
    st.Page(path, title=t(title, lang), icon=icon, url_path=url, default=(url == "playground"))
    for path, title, icon, url in PAGES
]
st.navigation(pages).run()
