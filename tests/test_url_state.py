"""Each page's state in its URL (ui/state.py, core/links.py): links restore a screen exactly, hostile links get a
message, and work survives page changes (AppTest of the app shell)."""

from __future__ import annotations

import base64
import random
import zlib

import pytest
from streamlit.testing.v1 import AppTest

from core import links
from core.limits import MAX_SOURCE_CHARS
from tests.conftest import APPTEST_TIMEOUT, ROOT, open_page
from ui import state

PROGRAM = "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = (x * x).sum()\ny.backward()\n"


def _raw(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _deflate(data: bytes) -> str:
    pack = zlib.compressobj(9, zlib.DEFLATED, -15)
    return _raw(pack.compress(data) + pack.flush())


# --- the program codec ----------------------------------------------------------------------------------------------


def test_programs_round_trip_and_stay_url_safe():
    rng = random.Random(0)
    alphabet = "abcxyz019 ()[]{}.,:=+-*/#'\"\n\t_梯度张量αβγ🙂\u200b\\"
    for n in (0, 1, 7, 100, 3000):
        source = "".join(rng.choice(alphabet) for _ in range(n))
        value = links.encode_program(source)
        assert all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
        if n:
            assert links.decode_program(value) == source
    longest = (PROGRAM * 1000)[:MAX_SOURCE_CHARS]  # the editor's longest program still fits a link
    assert links.decode_program(links.encode_program(longest)) == longest


@pytest.mark.parametrize(
    "value, why",
    [
        ("", "url_why_program"),
        ("not base64!", "url_why_program"),
        ("%41%42", "url_why_program"),
        ("AAAA" * 10, "url_why_program"),  # not a deflate stream
        (_raw(b"\xff\xfe\x00"), "url_why_program"),
        (_deflate(b"x = 1")[:-3], "url_why_program"),  # cut short
        (_deflate(b"x = 1") + _raw(b"tail"), "url_why_program"),
        (_deflate(b"\xff\xfe not utf-8"), "url_why_program"),
        (_deflate(b"a" * (4 * MAX_SOURCE_CHARS + 1)), "url_why_long_program"),  # a deflate bomb stops at the bound
        (_deflate(b"a" * (MAX_SOURCE_CHARS + 1)), "url_why_long_program"),
        (_deflate(b"\x00" * 50_000_000), "url_why_long_program"),  # 50 MB of zeros in ~50 KB: refused unread
        ("A" * (links.MAX_PROGRAM_URL_CHARS + 1), "url_why_long_program"),
    ],
)
def test_hostile_program_values_are_refused_with_a_reason(value, why):
    with pytest.raises(links.LinkError) as e:
        links.decode_program(value)
    assert e.value.key == why


def test_a_bomb_never_inflates_past_the_bound(monkeypatch):
    """Whatever the ratio, decoding asks zlib for at most 4 bytes per allowed character."""
    asked = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, *a):
            self._d = real(*a)

        def decompress(self, data, max_length=0):
            asked.append(max_length)
            return self._d.decompress(data, max_length)

        def __getattr__(self, name):
            return getattr(self._d, name)

    monkeypatch.setattr(links.zlib, "decompressobj", Spy)
    with pytest.raises(links.LinkError):
        links.decode_program(_deflate(b"\x00" * 10_000_000))
    assert asked == [4 * MAX_SOURCE_CHARS]


# --- pages restore what a link says ---------------------------------------------------------------------------------


@pytest.mark.apptest
def test_graph_link_restores_program_step_node_and_budget():
    query = state.link("graph", code=PROGRAM)
    at = open_page("pages/graph.py", **query, step="1", node="n0", budget="40")
    assert not at.warning
    assert at.session_state["gx_code"] == PROGRAM
    assert at.session_state["gx_step"] == 1 and at.session_state["gx_node"] == "n0"
    assert at.session_state["gx_budget"] == 40
    assert at.session_state["gx_result"]["variables"]["x"]["grad"] == [2.0, 4.0, 6.0]
    # the URL the page writes back is the same link (what the share control shows)
    assert dict(at.query_params) == {**query, "step": "1", "node": "n0", "budget": "40"}


@pytest.mark.apptest
def test_graph_page_writes_its_state_and_leaves_defaults_out():
    at = open_page("pages/graph.py")
    assert "code" not in at.query_params  # the preset's own program is named by the preset alone
    steps = len(at.session_state["gx_result"]["backward_steps"])
    assert at.query_params["step"] == str(steps)
    at.button(key="gx_prev").click().run()
    assert at.query_params["step"] == str(steps - 1)
    at.text_area(key="gx_code").set_value(PROGRAM).run()
    assert links.decode_program(at.query_params["code"]) == PROGRAM


@pytest.mark.apptest
def test_playground_link_runs_on_arrival():
    at = open_page("pages/playground.py", **state.link("playground", code=PROGRAM))
    assert at.session_state["pg_code"] == PROGRAM
    assert at.session_state["pg_result"]["variables"]["x"]["grad"] == [2.0, 4.0, 6.0]


@pytest.mark.apptest
@pytest.mark.parametrize(
    "query",
    [
        {"code": "[login](https://evil.example)"},
        {"code": _deflate(b"\x00" * 5_000_000)},
        {"code": "A" * 20_000},
        {"node": "<script>alert(1)</script>"},
        {"expand": ",".join(["a"] * 500)},
        {"step": "²"},
        {"pass": "0"},
        {"preset": "../../etc/passwd"},
        {"device": "cuda:7"},
    ],
)
def test_hostile_graph_links_get_one_escaped_warning(query):
    at = open_page("pages/graph.py", **query)
    assert len(at.warning) >= 1
    text = at.warning[0].value
    assert "https://evil" not in text and "<script>" not in text
    assert at.session_state["gx_result"]["ok"]  # the page still shows its default program


@pytest.mark.apptest
def test_a_link_in_chinese_explains_in_chinese():
    at = open_page("pages/graph.py", lang="zh", code="garbage!")
    assert "分享链接" in at.warning[0].value


# --- work survives page changes -------------------------------------------------------------------------------------


@pytest.mark.apptest
def test_editor_step_and_node_survive_a_visit_to_two_pages_and_a_language_switch():
    at = open_page("app.py")
    at.switch_page("pages/graph.py").run()
    at.text_area(key="gx_code").set_value(PROGRAM).run()
    at.button(key="gx_prev").click().run()
    step, node = at.session_state["gx_step"], at.session_state["gx_node"]
    at.switch_page("pages/lessons.py").run()
    at.switch_page("pages/training.py").run()
    at.session_state["lang"] = "zh"
    at.switch_page("pages/graph.py").run()
    assert not at.exception
    assert at.text_area(key="gx_code").value == PROGRAM
    assert at.session_state["gx_step"] == step and at.slider(key="gx_step").value == step
    assert at.session_state["gx_node"] == node
    assert at.session_state["gx_result_for"][0] == PROGRAM  # the drawn graph is the editor's program


@pytest.mark.apptest
def test_training_preset_and_run_and_lesson_step_survive_page_changes():
    at = open_page("app.py")
    at.switch_page("pages/training.py").run()
    at.selectbox(key="tr_preset_pick").set_value("xor").run()
    at.button(key="tr_step").click().run()
    trainer = at.session_state["tr_trainer"]
    assert trainer.step == 1
    at.switch_page("pages/lessons.py").run()
    at.button(key="ls_next").click().run()
    at.switch_page("pages/graph.py").run()
    at.switch_page("pages/training.py").run()
    assert at.selectbox(key="tr_preset_pick").value == "xor"
    assert at.session_state["tr_trainer"] is trainer and trainer.step == 1
    at.switch_page("pages/lessons.py").run()
    assert at.session_state["ls_step"] == 1


@pytest.mark.apptest
def test_a_link_without_a_language_keeps_the_readers_own():
    at = open_page("pages/lessons.py", lang="zh", lesson="autograd", step="2")
    assert at.session_state["lang"] == "zh" and at.session_state["ls_step"] == 1
    at = AppTest.from_file(str(ROOT / "pages/lessons.py"), default_timeout=APPTEST_TIMEOUT)
    at.query_params.update({"lesson": "autograd", "step": "2", "lang": "zh"})
    at.run()
    assert at.session_state["lang"] == "zh" and at.title[0].value == "课程"  # a link that names one opens in it
