"""AppTest of the Tensor Playground page: run a snippet, refused input, language switch."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

pytestmark = pytest.mark.apptest


def _page() -> AppTest:
    return open_page("pages/playground.py")


def test_run_snippet_shows_variables():
    at = _page()
    at.text_area(key="pg_code").set_value("a = torch.tensor([2., 4.], requires_grad=True)\nb = a * 3\nprint(b)")
    at.button(key="pg_run").click().run()
    assert not at.exception
    assert not at.error
    frames = [df.value for df in at.dataframe]
    names = set()
    for f in frames:
        names |= set(f.get("name", []))
    assert {"a", "b"} <= names
    assert any("tensor([ 6., 12.]" in c.value for c in at.code)


def test_refused_input_then_next_input_works():
    at = _page()
    at.text_area(key="pg_code").set_value("x = ().__class__.__bases__")
    at.button(key="pg_run").click().run()
    assert at.error and "_" in at.error[0].value
    at.text_area(key="pg_code").set_value("y = torch.ones(2) + 1")
    at.button(key="pg_run").click().run()
    assert not at.error
    assert any("y" in set(df.value.get("name", [])) for df in at.dataframe)


def test_example_picker_loads_code():
    at = _page()
    at.selectbox(key="pg_example").set_value("autograd").run()
    assert "E.backward" in at.text_area(key="pg_code").value
    at.button(key="pg_run").click().run()
    assert any("36., 144." in c.value for c in at.code)


def test_language_switch_changes_labels():
    at = _page()
    assert at.title[0].value == "Tensor Playground"
    at.session_state["lang"] = "zh"
    at.run()
    assert at.title[0].value == "张量游乐场"
    assert at.button(key="pg_run").label == "运行"
