"""The sandbox's messages in the user's language: every error carries a catalog key; Python's common messages are
translated by pattern (its own words kept as the detail); unknown names get "did you mean" from the table only."""

from __future__ import annotations

import re

import pytest

from core.i18n import has
from core.sandbox import table
from core.sandbox.errors import SandboxError, error_text
from core.sandbox.session import execute
from core.sandbox.validate import parse

CJK = re.compile(r"[\u4e00-\u9fff]")


def error(source: str) -> dict:
    r = execute(source, with_graph=False)
    assert r["ok"] is False, r
    return r["error"]


@pytest.mark.parametrize(
    ("source", "key", "zh_part"),
    [
        ("x = (1,", "sb_py_never_closed", "没有闭合"),
        ("x = [1, 2", "sb_py_never_closed", "'[' 没有闭合"),
        ("x = 1)", "sb_py_unmatched", "多余"),
        ("if x\n  y = 1", "sb_py_expected", "这里应有 ':'"),
        ("  x = 1", "sb_py_unexpected_indent", "意外的缩进"),
        ("if True:\nx = 1", "sb_py_expected_indent", "缩进"),
        ("s = 'abc", "sb_py_unterminated_string", "字符串没有结束引号"),
        ("x = 1，2", "sb_py_invalid_char", "中文标点"),
        ("def f(:\n    pass", "sb_py_invalid_syntax", "无效的语法"),
        ("f() = 1", "sb_py_cannot_assign_eq", "'=='"),
        ("print 'x'", "sb_py_print_parens", "缺少括号"),
        ("return 1", "sb_py_outside", "之外"),
    ],
)
def test_syntax_errors_in_chinese(source, key, zh_part):
    err = error(source)
    try:
        compile(source, "<p>", "exec")
    except SyntaxError as e:
        python_said = e.msg
    assert err["kind"] == "syntax" and err["key"] == key
    assert err["message"] == python_said == err["detail"]  # the English answer is Python's own words
    zh = error_text(err, "zh")
    assert zh_part in zh and CJK.search(zh), zh
    assert error_text(err, "en") == python_said


@pytest.mark.parametrize(
    ("source", "key", "zh_part"),
    [
        ("x = 1 / 0", "sb_py_zero_division", "除数为零"),
        ("x = [1, 2][5]", "sb_py_index_range", "下标超出范围"),
        ("x = torch.ones(3)[7]", "sb_py_index_bounds", "超出第 0 维的范围"),
        ("d = {}\nx = d['k']", "sb_py_key", "字典中没有键 'k'"),
        ("x = 1 + 'a'", "sb_py_operand", "不支持运算 +"),
        ("def f(a):\n    return a\nf()", "sb_py_missing_args", "缺少 1 个"),
        ("x = torch.ones(2, 3) @ torch.ones(2, 3)", "sb_py_mat_shapes", "无法相乘"),
        ("x = torch.ones(3) + torch.ones(4)", "sb_py_size_match", "必须与张量 b"),
        ("a, b = [1, 2, 3]", "sb_py_unpack_many", "太多"),
    ],
)
def test_runtime_errors_in_chinese(source, key, zh_part):
    err = error(source)
    assert err["kind"] == "runtime" and err["key"] == key, err
    assert err["message"] == err["detail"]  # Python's / torch's words, as before
    zh = error_text(err, "zh")
    assert zh_part in zh, zh


@pytest.mark.parametrize(
    ("source", "owner", "name", "want"),
    [
        ("x = torch.tensr([1.0])", "torch", "tensr", "tensor"),
        ("l = nn.Linaer(2, 2)", "torch.nn", "Linaer", "Linear"),
        ("y = F.rleu(torch.ones(2))", "torch.nn.functional", "rleu", "relu"),
        ("x = torch.ones(2, requires_grad=True)\nx.sum().backwrd()", "tensor", "backwrd", "backward"),
        ("from torch import tensr", "torch", "tensr", "tensor"),
    ],
)
def test_unknown_attribute_suggests_the_closest_allowed(source, owner, name, want):
    err = error(source)
    assert err["kind"] == "runtime"  # unknown, not a security refusal
    assert err["key"] == "sb_unknown_attr_hint" and err["args"]["owner"] == owner and err["args"]["name"] == name
    assert f"'{want}'" in err["args"]["hint"]
    assert "Did you mean" in err["message"] and "not available" not in err["message"]
    zh = error_text(err, "zh")
    assert "你是不是想写" in zh and f"'{want}'" in zh


def test_unknown_name_suggests_builtins_and_the_programs_own_names():
    err = error("prnt(1)")
    assert err["kind"] == "runtime" and err["key"] == "sb_unknown_name_hint" and err["args"]["hint"] == "'print'"
    assert err["message"] == "NameError: name 'prnt' is not defined. Did you mean 'print'?"
    err = error("learning_rate = 0.1\nw = 2.0 * learnig_rate")
    assert "'learning_rate'" in err["args"]["hint"]
    err = error("def f():\n    total = 1\n    return totl\nf()")
    assert "'total'" in err["args"]["hint"]  # a function's own local
    assert error_text(err, "zh").startswith("NameError：名字 'totl' 未定义")
    err = error("zzqqxx")
    assert err["key"] == "sb_unknown_name" and "Did you mean" not in err["message"]


def test_unknown_keyword_suggests_the_allowed_keyword():
    err = error("x = torch.zeros(2, dtpye=torch.float64)")
    assert err["kind"] == "runtime" and err["key"] == "sb_unknown_kwarg_hint"
    assert err["args"] == {"func": "torch.zeros", "name": "dtpye", "hint": "'dtype'"}
    assert "关键字参数 'dtpye'" in error_text(err, "zh")
    err = error("x = torch.zeros(2, out=None)")  # a real keyword the language leaves out: still refused
    assert err["kind"] == "refused" and err["key"] == "sb_kwarg_refused"


def test_real_but_excluded_names_stay_refusals():
    for source in (
        "torch.from_file",
        "x = torch.ones(2)\nx.untyped_storage()",
        "import os",
        "torch.utils.cpp_extension",
    ):
        err = error(source)
        assert err["kind"] == "refused" and has(err["key"]), (source, err)
        assert "Did you mean" not in err["message"]


# --- attacks: suggestions never reveal a name outside the table, and never carry markup ---------------------------


def _allowed_torch() -> set[str]:
    return set(table.TORCH.members) | {"save", "load"}


@pytest.mark.parametrize("probe", ["_C", "_dynamo", "from_fil", "_utils_internal", "__builtins__", "compile", "ops"])
def test_a_probe_never_gets_a_hidden_name_suggested(probe):
    err = error(f"y = torch.{probe}")
    hinted = re.findall(r"'([^']*)'", err.get("args", {}).get("hint", ""))
    assert all(h in _allowed_torch() and not h.startswith("_") for h in hinted), hinted
    for h in hinted:
        assert h in table.TORCH.members or h in ("save", "load")


def test_suggestions_for_hidden_guard_names_are_never_offered():
    """The guards live in the program's globals as __sb_*__; a near miss never names them."""
    err = error("y = sb_getattr")
    assert "__sb" not in err["message"] and "__sb" not in str(err.get("args"))
    err = error("y = __sb_getattr__")
    assert err["kind"] == "refused"


def test_suggestions_come_only_from_the_table():
    from core.sandbox import suggest

    assert suggest.close("tensr", table.TORCH.members) == ["tensor", "Tensor", "tensordot"]
    assert suggest.close("_secret", ["_secret2", "secret"]) == ["secret"]
    assert suggest.close("x" * 500, ["x" * 499]) == []


def test_echoed_user_text_is_escaped_on_the_page():
    """User text inside a message (a dict key, a name) is plain text: the page escapes the whole text (ui.text.esc)."""
    from ui.text import esc

    err = error("d = {}\nx = d['[x](https://evil.example)']")
    assert err["key"] == "sb_py_key"
    for lang in ("en", "zh"):
        shown = esc(error_text(err, lang))
        assert "](https" not in shown and "\\[x\\]" in shown and "https\\:" in shown


def test_an_error_without_a_key_falls_back_to_its_message():
    assert error_text({"kind": "runtime", "message": "boom", "line": 1}, "zh") == "boom"
    assert error_text({"kind": "runtime", "message": "boom", "key": "no_such_key", "args": {}}, "zh") == "boom"
    assert error_text({"kind": "runtime", "message": "boom", "key": "sb_unknown_name", "args": {}}, "zh") == "boom"


def test_static_refusals_carry_keys():
    for source, key in [
        ("import os", "sb_import"),
        ("x.__class__.__bases__", "sb_private_attr"),
        ("async def f():\n    pass", "sb_construct"),
        ("__x = 1", "sb_dunder_names"),
        ("class A(metaclass=type):\n    pass", "sb_class_keywords"),
    ]:
        with pytest.raises(SandboxError) as e:
            parse(source)
        assert e.value.key == key and CJK.search(e.value.text("zh")), (source, e.value.to_json())
