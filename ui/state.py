"""Each page's state in its URL and across page changes, from one declarative table (like TF Playground's state.ts).

`PAGES` lists, per page, the properties a link carries: the URL parameter, the session_state key it mirrors and
how it is read. The app shell calls `restore(page)` before a page runs and `save(page)` after it:

- `save` writes the page's state into the URL (only what differs from the defaults), so the address bar is always
  a link to what is on screen, and Streamlit's pushState makes each new state a browser history entry;
- `restore` reads the URL when it is not the one this session last wrote for the page: a link opened in a fresh
  browser, a lesson's "open in" hand-off, or back/forward. Each value is parsed strictly (`ui.urls`, `core.links`);
  a bad one becomes one warning and is ignored. An arrival is recorded so that the page runs the program on it;
- `keep` stops Streamlit from dropping the widget state of pages that are not on screen (it deletes a widget's
  key when a run does not draw it), so the editor, step, node and settings survive a visit to another page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from core import lessons, links
from core.examples import GRAPH, PLAYGROUND, by_key
from core.i18n import LANGS, t
from core.limits import DEFAULT_NODE_BUDGET
from core.training.presets import PRESETS
from ui import urls
from ui.common import devices, lang
from ui.text import md

ss = st.session_state
WRITTEN = "_url_written"  # page -> the query this session last wrote (or applied) for it
ARRIVED = "_url_arrived"  # page -> True once restore() applied a URL, until the page takes it
MAX_NAMES = 50  # folded blocks a link may name as expanded
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class Prop:
    """One piece of a page's state in its URL.

    kind: "program" (editor text, compressed), "int" (in [low, high], shown + `base`), "choice" (one of
    `choices()`), "name" (an id), "names" (comma-separated ids), "flag" (1 or absent).
    `default(ss)`: the value left out of the URL.
    """

    param: str
    key: str
    kind: str
    low: int = 0
    high: int | Callable[[Any], int] = 0  # a callable reads the state restored so far (a lesson's step count)
    base: int = 0
    choices: Callable[[], Sequence[str]] | None = None
    default: Callable[[Any], Any] | None = None
    keep_when_absent: bool = False  # a link without it leaves the reader's own value (their language)


def lesson_catalog() -> lessons.Catalog:
    """The lesson files as they are now (re-read only when one was added, changed or removed)."""
    return lessons.catalog(presets=PRESETS)


def lesson_by_key(key: str) -> Any:
    """The lesson `key`, or the first one (what the Lessons page shows for an unknown key)."""
    found = lesson_catalog()
    return found.by_key(key) or (found.lessons[0] if found.lessons else None)


def _steps(key: str) -> int:
    lesson = lesson_by_key(key)
    return len(lesson.steps) if lesson is not None else 1


def _example_code(examples: list[Any], key: str, fallback: str) -> Callable[[Any], str]:
    def default(state: Any) -> str:
        ex = by_key(examples, state.get(key) or fallback)
        return ex.code if ex is not None else ""

    return default


LANG = Prop(
    "lang", "lang", "choice", choices=lambda: list(LANGS), default=lambda s: "en", keep_when_absent=True
)  # a class's language
DEVICE = Prop("device", "device", "choice", choices=lambda: [d["name"] for d in devices()], default=lambda s: "cpu")
PAGES: dict[str, tuple[Prop, ...]] = {
    "playground": (
        Prop(
            "example",
            "pg_example",
            "choice",
            choices=lambda: [e.key for e in PLAYGROUND],
            default=lambda s: PLAYGROUND[0].key,
        ),
        Prop("code", "pg_code", "program", default=_example_code(PLAYGROUND, "pg_example", PLAYGROUND[0].key)),
        DEVICE,
        LANG,
    ),
    "graph": (
        Prop("preset", "gx_preset", "choice", choices=lambda: [e.key for e in GRAPH], default=lambda s: GRAPH[0].key),
        Prop("code", "gx_code", "program", default=_example_code(GRAPH, "gx_preset", GRAPH[0].key)),
        DEVICE,
        Prop("pass", "gx_detail_pass", "int", 0, 10**6, base=1),
        Prop("step", "gx_step", "int", 0, 10**6),
        Prop("node", "gx_pick", "name"),
        Prop("budget", "gx_budget", "int", 10, 2000, default=lambda s: DEFAULT_NODE_BUDGET),
        Prop("expand", "gx_expand", "names"),
        Prop("present", "gx_present", "flag"),
        LANG,
    ),
    "lessons": (
        Prop("lesson", "ls_lesson", "choice", choices=lambda: [ls.key for ls in lesson_catalog().lessons]),
        Prop("step", "ls_step", "int", 0, lambda s: _steps(s.get("ls_lesson") or "") - 1, base=1),
        LANG,
    ),
}
# Widget keys kept across page changes besides the URL's (a prefix ends with "_"); never a button's or an uploader's.
KEEP: tuple[str, ...] = ("pg_timing_n", "tr_speed", "tr_inspect_k", "tr_w_", "ls_quiz_")


def keep() -> None:
    """Re-assign the kept widget keys to themselves, which tells Streamlit they are state to keep, not to clean up."""
    names = {p.key for props in PAGES.values() for p in props} | {k for k in KEEP if not k.endswith("_")}
    prefixes = tuple(k for k in KEEP if k.endswith("_"))
    for key in list(ss.keys()):
        if isinstance(key, str) and (key in names or key.startswith(prefixes)):
            ss[key] = ss[key]


# --- values <-> URL text --------------------------------------------------------------------------------------------


def _to_text(p: Prop, value: Any) -> str | None:
    if value is None:
        return None
    if p.kind == "program":
        return links.encode_program(value)
    if p.kind == "int":
        return str(int(value) + p.base)
    if p.kind == "names":
        return ",".join(value) or None
    if p.kind == "flag":
        return "1" if value else None
    return str(value)


def _from_text(p: Prop, text: str) -> tuple[bool, Any]:
    """(ok, value); a warning has been shown when not ok."""
    if p.kind == "program":
        try:
            return True, links.decode_program(text)
        except links.LinkError as e:
            urls.warn(p.param, text[:40], md(e.key, lang()))
            return False, None
    value: Any
    if p.kind == "int":
        high = p.high(ss) if callable(p.high) else p.high
        value = urls.integer(p.param, p.low + p.base, high + p.base)
        return value is not None, None if value is None else value - p.base
    if p.kind == "choice":
        value = urls.choice(p.param, list(p.choices() if p.choices else []))
        return value is not None, value
    if p.kind == "flag":
        value = urls.choice(p.param, ["0", "1"])
        return value is not None, value == "1"
    names = [n for n in (urls.raw(p.param) or "").split(",") if n]
    if len(names) > (1 if p.kind == "name" else MAX_NAMES) or not all(_NAME.fullmatch(n) for n in names):
        urls.warn(p.param, text, md("url_why_names", lang()))
        return False, None
    return True, (names[0] if names else None) if p.kind == "name" else names


def query(page: str) -> dict[str, str]:
    """The page's state as URL parameters (values equal to their default left out)."""
    out: dict[str, str] = {}
    for p in PAGES.get(page, ()):
        value = ss.get(p.key)
        if p.default is not None and value == p.default(ss):
            continue
        text = _to_text(p, value)
        if text is not None:
            out[p.param] = text
    return out


def link(page: str, **values: Any) -> dict[str, str]:
    """URL parameters that open `page` with these values (by parameter name), e.g. link("graph", code=src)."""
    props = {p.param: p for p in PAGES.get(page, ())}  # a page outside the table (training) reads plain text
    out = {}
    for name, value in values.items():
        text = _to_text(props[name], value) if name in props else str(value)
        if text is not None:
            out[name] = text
    return out


def share_url(page: str) -> str:
    """The full link to what the page shows now."""
    base = (st.context.url or "").split("?", 1)[0]
    q = query(page)
    return base + ("?" + urlencode(q) if q else "")


def share_slot() -> Any:
    """Where the "share" control goes; `save` fills it once the page has drawn (so its link has the final step)."""
    return st.empty()


def _share(page: str, slot: Any) -> None:
    """The "share" control: a popover with the link to this screen, ready to copy (st.code has a copy button)."""
    with slot.container(), st.popover(t("share", lang()), icon=":material/link:"):
        st.caption(t("share_help", lang()))
        st.code(share_url(page), language=None, wrap_lines=True)


# --- the shell's calls ----------------------------------------------------------------------------------------------


def restore(page: str) -> bool:
    """Apply the URL to the page's state when it is not what this session last wrote (see the module doc)."""
    props = PAGES.get(page)
    if not props:
        return False
    current = incoming(page, {p.param for p in props})
    if current is None:
        return False
    for p in props:
        if p.param not in current:
            if p.keep_when_absent:
                continue
            if p.default is not None:
                ss[p.key] = p.default(ss)
            else:
                ss.pop(p.key, None)
            continue
        ok, value = _from_text(p, current[p.param])
        if ok:
            ss[p.key] = value
    ss.setdefault(ARRIVED, {})[page] = True
    return True


def incoming(page: str, params: set[str]) -> dict[str, str] | None:
    """The URL's query when it is news for `page` (then recorded as read), else None: not what this session last
    wrote for the page, with no parameter of another page, and not the query the previous page left behind."""
    current = st.query_params.to_dict()
    written = ss.setdefault(WRITTEN, {})
    if not current or current == written.get(page) or set(current) - params:
        return None
    if any(current == q for other, q in written.items() if other != page):
        return None  # Streamlit may keep the previous page's query across a page change
    written[page] = current
    return current


def arrived(page: str) -> bool:
    """Whether the page's state has just come from a URL (true once: the page runs its program on arrival)."""
    return bool(ss.get(ARRIVED, {}).pop(page, False))


def save(page: str, slot: Any = None) -> None:
    """Write the page's state into the URL when it changed (a new browser history entry), and fill the page's
    share slot with the link."""
    if page in PAGES:
        write(page, query(page))
        if slot is not None:
            _share(page, slot)


def write(page: str, q: dict[str, str]) -> None:
    """Put `q` in the address bar as `page`'s state (a page outside the table, training, calls this itself)."""
    ss.setdefault(WRITTEN, {})[page] = q
    if st.query_params.to_dict() != q:
        st.query_params.from_dict(q)
