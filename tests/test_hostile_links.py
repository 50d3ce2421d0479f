"""Hostile links and echoed text (issue #13): URL values, program text and error messages show as plain text,
and any URL value on any page gives a clear message, never an exception page."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.text import code, esc

ROOT = Path(__file__).resolve().parents[1]
PAGES = {name: str(ROOT / "pages" / f"{name}.py") for name in ("playground", "lessons", "graph", "training")}
LINK = "[login](https://evil.example/p)"
IMAGE = "![x](https://evil.example/x.png)"
HOSTILE = [
    "²",
    "9" * 5000,
    "-1",
    "0",
    "1e999",
    "nan",
    "inf",
    "0x10",
    " 3 ",
    "",
    LINK,
    IMAGE,
    "<b>x</b>",
    ":red[big]",
    "$x^2$",
    "\x00\n# head",
    "٣",
    "1" * 300,
]


def _unescaped_punctuation(md: str) -> list[str]:
    """ASCII punctuation in `md` that is not backslash-escaped (what Markdown could read as syntax)."""
    out, i = [], 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md):
            i += 2
            continue
        if md[i] in string.punctuation:
            out.append(md[i])
        i += 1
    return out


@pytest.mark.parametrize(
    "value",
    [
        LINK,
        IMAGE,
        "https://evil.example/p",
        "<img src=x onerror=alert(1)>",
        ":red[x] :smile: $a$ *b* _c_ `d` # e | f ~g~",
        "line\n\n# title",
    ],
)
def test_esc_leaves_no_markdown_syntax(value: str) -> None:
    md = esc(value)
    assert _unescaped_punctuation(md) == []
    assert "\n" not in md
    assert md.replace("\\", "") == value.replace("\n", " ")  # the same text once the escapes are read


def test_code_span_cannot_be_closed_from_inside() -> None:
    span = code("a ``` b ` c")
    fence = span.split(" ", 1)[0]
    assert set(fence) == {"`"} and len(fence) == 4 and span.endswith(" " + fence)


def _page(name: str, lang: str = "en", **query: str) -> AppTest:
    at = AppTest.from_file(PAGES[name], default_timeout=90)
    at.session_state["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, (name, query, at.exception)
    return at


def _texts(at: AppTest) -> list[str]:
    return [
        e.value for kind in ("warning", "error", "info", "caption", "markdown", "success") for e in getattr(at, kind)
    ]


@pytest.mark.parametrize("param, value", [("lr", LINK), ("seed", IMAGE), ("noise", LINK), ("hidden", IMAGE)])
def test_training_url_markdown_is_shown_as_text(param: str, value: str) -> None:
    at = _page("training", preset="linear" if param != "hidden" else "circle", **{param: value})
    warnings = [w.value for w in at.warning]
    assert any(param in w for w in warnings), warnings
    for text in _texts(at):
        assert "](" not in text.replace("\\](", ""), text  # no link or image syntax anywhere on the page
        assert "https://evil" not in text


@pytest.mark.parametrize("step", ["²", "9" * 5000, "0", "-3", "99", "1.5", LINK])
def test_lessons_bad_step_gets_a_message(step: str) -> None:
    at = _page("lessons", lesson="autograd", step=step)
    assert at.session_state["ls_step"] == 0  # the lesson opens at its first step
    assert any("step" in w.value for w in at.warning), [w.value for w in at.warning]
    at_zh = _page("lessons", lang="zh", lesson="autograd", step=step)
    assert any("链接" in w.value for w in at_zh.warning)


def test_lessons_good_link_still_opens_its_step() -> None:
    at = _page("lessons", lesson="autograd", step="2")
    assert at.session_state["ls_step"] == 1 and not at.warning


@pytest.mark.parametrize("name", list(PAGES))
def test_every_url_value_on_every_page_is_survived(name: str) -> None:
    params = {
        "playground": ["example", "code"],
        "graph": ["preset", "code"],
        "lessons": ["lesson", "step"],
        "training": ["preset", "lr", "steps", "seed", "hidden", "batch", "noise", "momentum"],
    }[name]
    for i, value in enumerate(HOSTILE if name in ("lessons", "training") else HOSTILE[:6]):
        query = {p: value for p in params}
        if name == "lessons" and i % 2:
            query["lesson"] = "autograd"
        at = _page(name, **query)
        for text in _texts(at):
            assert "https://evil" not in text and "<b>" not in text


def test_program_error_messages_are_plain_text() -> None:
    at = AppTest.from_file(PAGES["playground"], default_timeout=90)
    at.run()
    at.text_area(key="pg_code").set_value(f'x = int("{LINK}")').run()
    at.button(key="pg_run").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and all(_unescaped_punctuation(e.split(":", 1)[1].replace("**", "")) == [] for e in errors)
    assert esc(LINK) in errors[0]
