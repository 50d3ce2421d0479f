"""The one way pages echo untrusted text (URL values, program text and output, error messages, file names).

Streamlit renders every st.markdown / st.write / st.caption / st.error / st.warning / st.info / st.success string
as Markdown (links, images, HTML-free but with `:color[...]` directives, `:emoji:` codes and $LaTeX$): a URL value
like `[login](https://evil.example/p)` would become a real link, `![x](https://evil.example/x.png)` an external
image. `esc` backslash-escapes every ASCII punctuation character (CommonMark allows that for each of them), which
also breaks bare-URL autolinks (`https\\:\\/\\/...`), emoji codes and directives, and turns newlines into spaces, so
the text shows exactly as typed, on one line.
"""

from __future__ import annotations

import re
import string
from typing import Any

from core.i18n import t

_PUNCT = set(string.punctuation)
MAX_ECHO_CHARS = 500  # an echoed value longer than this is cut (a 5000-digit URL value is not worth showing whole)


def esc(value: Any, limit: int = MAX_ECHO_CHARS) -> str:
    """`value` as Markdown that renders as its plain text (cut to `limit` characters)."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    out = []
    for ch in text:
        if ch in _PUNCT:
            out.append("\\" + ch)
        elif ch in "\r\n\t\v\f\u2028\u2029" or (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0):
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def md(key: str, lang: str, **fmt: Any) -> str:
    """The i18n string `key` (which may hold our own Markdown) with every string argument escaped."""
    return t(key, lang, **{k: (esc(v) if isinstance(v, str) else v) for k, v in fmt.items()})


def message(msg: Any, lang: str) -> str:
    """A core Message (its template is plain text; its arguments may come from a URL or a file) as safe Markdown."""
    return esc(msg.text(lang), limit=4 * MAX_ECHO_CHARS)


def code(value: Any, limit: int = MAX_ECHO_CHARS) -> str:
    """`value` as an inline code span (shown verbatim): fenced by more backticks than it holds in a row."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    text = "".join(" " if ch in "\r\n\t\v\f\u2028\u2029" or ord(ch) < 32 else ch for ch in text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"
