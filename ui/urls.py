"""Values from the page's URL (st.query_params): parsed strictly, never trusted, never an exception.

A link is typed by anyone: `?step=²` (a digit to str.isdigit, not to int), a 5000-digit number (over Python's
int-string limit), Markdown (`[login](https://evil.example)`), control characters. Each reader below returns a
valid value or None, and a bad value becomes one warning in the user's language, with the value escaped.
"""

from __future__ import annotations

import re

import streamlit as st

from core.i18n import t
from ui.common import lang
from ui.text import esc, md

MAX_URL_VALUE_CHARS = 200  # a URL value longer than this is no setting of ours
_INT = re.compile(r"[+-]?[0-9]{1,9}")  # ASCII digits only; nine of them are far beyond any range we accept


def raw(name: str) -> str | None:
    """The parameter's text (the last one when repeated), or None when absent or too long (then a warning)."""
    value = st.query_params.get(name)
    if value is None:
        return None
    if len(value) > MAX_URL_VALUE_CHARS:
        warn(name, value, md("url_why_long", lang()))
        return None
    return value


def warn(name: str, value: str, why: str) -> None:
    """One warning for a bad URL value: the name and the value are shown as plain text (`why` is safe Markdown)."""
    st.warning(t("url_bad_value", lang(), name=esc(f"{name}={value}", limit=80), why=why), icon=":material/link_off:")


def integer(name: str, low: int, high: int) -> int | None:
    """An ASCII whole number in [low, high], or None (absent, or a warning when malformed or out of range)."""
    value = raw(name)
    if value is None:
        return None
    text = value.strip()
    if _INT.fullmatch(text) and low <= int(text) <= high:
        return int(text)
    warn(name, value, md("url_why_number", lang(), low=low, high=high))
    return None


def choice(name: str, choices: list[str]) -> str | None:
    """One of `choices`, or None (absent, or a warning when it is none of them)."""
    value = raw(name)
    if value is None:
        return None
    if value in choices:
        return value
    warn(name, value, md("url_why_choice", lang(), choices=", ".join(choices)))
    return None
