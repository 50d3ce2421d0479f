"""AppTest: the playground shows sandbox errors in the user's language and numbers in their dtype's look."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

pytestmark = pytest.mark.apptest


def _run(at: AppTest, source: str) -> AppTest:
    at.text_area(key="pg_code").set_value(source)
    at.button(key="pg_run").click().run()
    assert not at.exception
    return at


def test_syntax_error_in_chinese_keeps_pythons_words():
    at = _run(open_page("pages/playground.py", lang="zh"), "x = (1,\ny = 2")
    box = at.error[0].value
    assert "语法错误" in box and "第 1 行" in box and "没有闭合" in box
    assert "Python 原文" in box and "was never closed" in box


def test_syntax_error_in_english_is_pythons_message():
    at = _run(open_page("pages/playground.py", lang="en"), "x = (1,\ny = 2")
    box = at.error[0].value
    assert "Syntax error" in box and "was never closed" in box and "Python's own words" not in box


def test_typo_suggests_in_both_languages():
    at = _run(open_page("pages/playground.py", lang="zh"), "x = torch.tensr([1.0])")
    box = at.error[0].value
    assert "运行时错误" in box and "你是不是想写" in box and "tensor" in box and "不允许" not in box
    at = _run(open_page("pages/playground.py", lang="en"), "x = torch.tensr([1.0])")
    assert "Did you mean" in at.error[0].value


def test_values_in_their_dtype_look_with_translated_headers():
    at = _run(
        open_page("pages/playground.py", lang="zh"),
        "p = torch.tensor(3.14159)\nv = torch.tensor([2.0, 4.0])\nm = torch.tensor([True, False])\n"
        "t = torch.tensor([1.4e-45, 1.0])\nq = torch.tensor([[True], [False]])",
    )
    assert any("3.14159" in md.value and "3.141590118" not in md.value for md in at.markdown)
    frames = [df.value for df in at.dataframe]
    cols = [list(f.columns) for f in frames]
    assert ["下标", "值"] in cols
    by_values = {tuple(f["值"]) for f in frames if "值" in f.columns}
    assert ("2.0", "4.0") in by_values and ("True", "False") in by_values and ("1e-45", "1.0") in by_values
    two_d = [f for f in frames if list(f.columns) == ["下标", "0"]]  # q: the row index, then column 0
    assert any(list(f["0"]) == ["True", "False"] for f in two_d)  # 2-D bools read like 1-D ones: text
