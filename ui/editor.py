"""The program editor: Streamlit's text area (Ctrl+Enter runs, tests drive it) in a monospaced font, with line
numbers in a gutter and the line an error names marked. The gutter is a CSS background (an inline SVG data URI
drawn here, scrolling with the text): no script, no component, nothing fetched."""

from __future__ import annotations

import html
import urllib.parse
from typing import Any

import streamlit as st

FONT_PX = 14  # the editor's font size and line height, which the gutter's numbers are drawn to
LINE_PX = 21
PAD_PX = 8  # top padding of the text
GUTTER_PX = 44
MARK = "#d55e00"  # the error line (Okabe-Ito vermillion), also marked by a "▶" before its number


def gutter_svg(lines: int, error_line: int | None = None) -> str:
    """An SVG of the numbers 1..lines, one per LINE_PX, the error line on a tinted band with a marker."""
    height = PAD_PX * 2 + LINE_PX * lines
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{GUTTER_PX}" height="{height}">',
             f'<rect width="{GUTTER_PX - 6}" height="{height}" fill="#eceff3"/>']  # fmt: skip
    if error_line is not None and 1 <= error_line <= lines:
        top = PAD_PX + (error_line - 1) * LINE_PX
        parts.append(f'<rect y="{top}" width="10000" height="{LINE_PX}" fill="{MARK}" fill-opacity="0.18"/>')
        parts.append(f'<rect y="{top}" width="4" height="{LINE_PX}" fill="{MARK}"/>')
    for k in range(1, lines + 1):
        y = PAD_PX + (k - 1) * LINE_PX + round(LINE_PX * 0.72)
        err = k == error_line
        color = MARK if err else "#5b6472"
        weight = ' font-weight="bold"' if err else ""
        text = f"▶{k}" if err else str(k)
        parts.append(
            f'<text x="{GUTTER_PX - 12}" y="{y}" text-anchor="end" font-family="monospace" font-size="{FONT_PX - 2}"'
            f' fill="{color}"{weight}>{text}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def editor_css(key: str, text: str, error_line: int | None = None) -> str:
    """The style for the text area of widget `key`: monospace, no wrapping, the numbered gutter behind it."""
    lines = max(30, text.count("\n") + 20)
    uri = "data:image/svg+xml," + urllib.parse.quote(gutter_svg(lines, error_line))
    sel = f".st-key-{html.escape(key)} textarea"
    return (
        f"<style>{sel} {{ font-family: ui-monospace, 'DejaVu Sans Mono', 'Liberation Mono', monospace;"
        f" font-size: {FONT_PX}px; line-height: {LINE_PX}px; padding: {PAD_PX}px 8px {PAD_PX}px {GUTTER_PX + 4}px;"
        f" white-space: pre; overflow-wrap: normal; overflow-x: auto; tab-size: 4;"
        f' background-image: url("{uri}"); background-repeat: no-repeat; background-attachment: local;'
        f" background-position: 0 0; }}</style>"
    )


def code_area(label: str, key: str, error_line: int | None = None, **kwargs: Any) -> str:
    """st.text_area(label, key=key, **kwargs) drawn as a code editor; `error_line` (1-based) is marked."""
    value = st.text_area(label, key=key, **kwargs)
    st.html(editor_css(key, value or "", error_line))
    return value


def error_line(result: dict[str, Any] | None, same_program: bool = True) -> int | None:
    """The line a failed run's error names, while the editor still holds that program."""
    if not same_program or not result or result.get("ok"):
        return None
    line = (result.get("error") or {}).get("line")
    return line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None
