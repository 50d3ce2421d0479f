"""AppTest of the Training Studio page: play, step, pause, reset, charts, replayed graph, URL settings, language."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

pytestmark = pytest.mark.apptest


def _page(lang: str | None = None, **query: str) -> AppTest:
    return open_page("pages/training.py", lang=lang, **query)


def _step(at: AppTest) -> int:
    value = next(m.value for m in at.metric if m.label == "Step")
    return int(value.split("/")[0])


def _plotly_titles(at: AppTest) -> list[str]:
    return [e.proto.spec for e in at.get("plotly_chart")]


def _step_graph(at: AppTest) -> str:
    """The drawn step graph: server-side SVG (Graphviz installed) or the browser's DOT, as text."""
    svg = [m.value for m in at.markdown if 'data-graph="training"' in m.value]
    return svg[0] if svg else at.get("graphviz_chart")[0].proto.spec


def test_play_step_pause_reset():
    at = _page()
    assert _step(at) == 0
    assert [b.label for b in at.button] == ["Play", "Pause", "Step", "Reset"]
    at.button(key="tr_step").click().run()
    assert _step(at) == 1
    at.button(key="tr_play").click().run()  # one bounded chunk per fragment run
    assert at.session_state.tr_playing and _step(at) > 1
    assert at.button(key="tr_play").disabled and not at.button(key="tr_pause").disabled
    played = _step(at)
    at.button(key="tr_pause").click().run()
    assert not at.session_state.tr_playing and _step(at) == played
    assert any('"Loss"' in spec for spec in _plotly_titles(at))  # the loss chart
    assert _step_graph(at), "the last step's graph is drawn while paused"
    assert any("replayed" in c.value for c in at.caption)
    at.button(key="tr_reset").click().run()
    assert _step(at) == 0 and not at.exception


def test_step_inspector_and_digits_charts():
    at = _page(preset="digits", steps="50")
    assert at.selectbox(key="tr_preset_pick").value == "digits"
    at.button(key="tr_play").click().run()
    assert _step(at) > 0
    at.button(key="tr_pause").click().run()
    specs = " ".join(_plotly_titles(at))
    assert "Confusion matrix" in specs and "Accuracy per class" in specs and "Gradient norm per layer" in specs
    at.number_input(key="tr_inspect_k").set_value(0).run()
    assert any("Step 0 replayed" in c.value for c in at.caption)
    assert "fc1.weight" in _step_graph(at) and "x batch" in _step_graph(at)


def test_cnn_step_graph_with_the_explorers_stepper_and_inspector():
    at = _page(preset="digits_cnn", steps="20")
    at.button(key="tr_step").click().run()
    svg = _step_graph(at)
    for op in ("convolution", "relu", "max_pool2d_with_indices", "native_batch_norm", "conv.weight", "bn.bias"):
        assert op in svg, op
    total = at.slider(key="tr_gstep").value
    assert total == 16  # the whole backward pass, as the Graph Explorer opens it
    at.button(key="tr_gstep_prev").click().run()
    assert at.slider(key="tr_gstep").value == total - 1
    at.slider(key="tr_gstep").set_value(1).run()
    assert any("Step 1 of 16" in m.value and "NllLossBackward0" in m.value for m in at.markdown)
    conv = next(o for o in at.selectbox(key="tr_node").options if "· conv (ConvolutionBackward0)" in o)
    at.selectbox(key="tr_node").set_value(conv.split(" · ")[0]).run()
    assert not at.exception
    saved = " ".join(m.value for m in at.markdown)
    assert "padding" in saved and "ConvolutionBackward0" in saved
    x_batch = next(o for o in at.selectbox(key="tr_node").options if "x batch" in o)
    at.selectbox(key="tr_node").set_value(x_batch.split(" · ")[0]).run()
    assert any("A batch of training data" in i.value for i in at.info)
    at.session_state["lang"] = "zh"  # the same view in Chinese (AppTest formats widget values in English: last run)
    at.run()
    assert not at.exception
    assert any("第 1 / 16 步" in m.value for m in at.markdown)
    assert any("一批训练数据" in i.value for i in at.info)
    assert "前向值" in " ".join(c.value for c in at.caption)


def test_url_settings_and_divergence_message():
    at = _page(preset="linear", lr="50", noise="oops")
    assert at.number_input(key="tr_w_linear_lr").value == 50.0
    assert any("noise" in w.value for w in at.warning)  # a bad URL value is reported, its default kept
    at.button(key="tr_play").click().run()
    assert not at.session_state.tr_playing
    assert at.error and "too high" in at.error[0].value
    assert at.button(key="tr_play").disabled


def test_chinese_labels():
    at = _page(lang="zh")
    assert at.title[0].value == "训练工作室"
    assert [b.label for b in at.button] == ["播放", "暂停", "单步", "重置"]


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="tr_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def test_hostile_uploads_get_a_message_not_a_crash():
    import io

    import torch

    from tests.test_uploads import _bomb

    def pt(obj):
        buf = io.BytesIO()
        torch.save(obj, buf)
        return buf.getvalue()

    at = _page(preset="linear")
    meta = pt({"a": torch.zeros(1, device="meta"), "b": torch.zeros(1, device="meta")})
    _upload(at, "meta.pt", meta)
    assert at.error and "not a plain tensor" in at.error[0].value
    _upload(at, "[login](https://evil.example/p).pt", bytes(range(256)) * 10)
    assert at.error and "not a weights file" in at.error[0].value and "weights_only" not in at.error[0].value
    assert "](" not in at.error[0].value.replace("\\](", "")
    _upload(at, "bomb.pt", _bomb(64 * 1024**2))
    assert at.error and "unpacked" in at.error[0].value
    _upload(at, "good.pt", pt({"a": torch.tensor([2.0]), "b": torch.tensor([1.0])}))
    assert at.success and "loaded 2 tensors" in at.success[0].value
