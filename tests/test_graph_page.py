"""AppTest of the Graph Explorer page: preset, stepper to the end, inspector, pitfall message, gradient check."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

pytestmark = pytest.mark.apptest


def _page() -> AppTest:
    return open_page("pages/graph.py")


def _html(at: AppTest) -> str:
    return "".join(m.value for m in at.markdown if 'class="ae-graph"' in m.value)


def test_seed004_graph_shows_grads_and_steps():
    at = _page()  # the first preset is seed 004 and runs on load
    html = _html(at)
    assert "36" in html and "144" in html and "-14" in html
    slider = at.slider(key="gx_step")
    n = slider.value
    assert n == 6  # sub, pow, b, mul, pow, a
    at.slider(key="gx_step").set_value(0).run()
    assert at.slider(key="gx_step").value == 0
    assert any("Before backward" in i.value for i in at.info)
    for k in range(1, n + 1):
        at.button(key="gx_next").click().run()
        assert at.slider(key="gx_step").value == k
    assert not at.exception
    assert any("Step 6 of 6" in m.value for m in at.markdown)
    assert at.button(key="gx_next").disabled
    at.button(key="gx_prev").click().run()
    assert at.slider(key="gx_step").value == n - 1


def test_inspector_shows_saved_tensors():
    at = _page()
    at.selectbox(key="gx_node").set_value("n5").run()
    text = " ".join(m.value for m in at.markdown)
    assert "exponent" in text


def test_pitfall_explained():
    at = _page()
    at.selectbox(key="gx_preset").set_value("pitfall_twice").run()
    assert at.error and "second time" in at.error[0].value
    assert at.warning and "retain_graph=True" in at.warning[0].value


def test_gradient_check_passes_on_mlp():
    at = _page()
    at.selectbox(key="gx_preset").set_value("mlp").run()
    at.button(key="gx_check_run").click().run()
    assert at.success, [e.value for e in at.error]


def test_no_grad_and_detach_drawn_as_cuts():
    at = _page()
    at.selectbox(key="gx_preset").set_value("pitfall_cut").run()
    html = _html(at)
    assert "✂ no_grad" in html and "✂ detach" in html
    assert "constant, no grad" in html


def test_a_training_loop_shows_its_last_pass_and_opens_an_earlier_one():
    loop = (
        "w = torch.tensor([1.0, 2.0], requires_grad=True)\nfor i in range(20):\n"
        "    loss = ((w * (i + 1)) ** 2).sum()\n    loss.backward()\n    with torch.no_grad():\n"
        "        w -= 0.001 * w.grad\n    w.grad = None"
    )
    at = _page()
    at.text_area(key="gx_code").set_value(loop)
    at.button(key="gx_run").click().run()
    assert not at.exception
    passes = at.session_state["gx_result"]["backward_passes"]
    assert len(passes) == 20 and passes[-1]["recorded"] and not passes[10]["recorded"]
    at.number_input(key="gx_pass").set_value(11).run()
    at.button(key="gx_pass_open").click().run()
    assert not at.exception
    passes = at.session_state["gx_result"]["backward_passes"]
    assert passes[10]["recorded"] and passes[10]["count"] > 0
    steps = at.session_state["gx_result"]["backward_steps"]
    assert {s["pass"] for s in steps} == {10}


def test_leaf_changed_after_forward_shows_both_values():
    at = _page()
    at.selectbox(key="gx_preset").set_value("linreg_step").run()
    assert "a (changed later)" in _html(at) and "value at forward" in _html(at)
    a = next(n["id"] for n in at.session_state["gx_result"]["graph"]["nodes"] if n["name"] == "a")
    at.selectbox(key="gx_node").set_value(a).run()
    titles = [c.value for c in at.caption]
    assert "Value at forward" in titles and "Now (changed later)" in titles
    assert any("changed in place after the forward pass" in w.value for w in at.warning)


def test_create_graph_nodes_are_explained():
    at = _page()
    at.session_state["gx_code"] = (
        "x = torch.tensor(2.0, requires_grad=True)\ny = x**3\ng, = torch.autograd.grad(y, x, create_graph=True)\n"
        "g.backward()\n"
    )
    at.button(key="gx_run").click().run()
    assert "made by backward" in _html(at)
    made = next(n["id"] for n in at.session_state["gx_result"]["graph"]["nodes"] if n.get("by_backward"))
    at.selectbox(key="gx_node").set_value(made).run()
    assert any("create_graph=True" in i.value for i in at.info)
