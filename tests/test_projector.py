"""Projector-ready Graph Explorer, without a browser: parameter names and module folding against torch itself,
the bridge's events, presentation mode and the inspector in AppTest, the editor's gutter, log-axis ticks."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from core import render
from core.limits import FOLD_MODULES_ABOVE
from core.sandbox import session
from core.training.charts import log_ticks
from tests.conftest import ROOT, open_page
from ui.bridge import apply_event
from ui.editor import editor_css, error_line, gutter_svg

MLP20 = """import torch.nn as nn
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(20)])
        self.head = nn.Linear(8, 1)
    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.head(x)
model = MLP()
x = torch.randn(4, 8)
loss = model(x).pow(2).mean()
loss.backward()
"""

SEQUENTIAL = """import torch.nn as nn
model = nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
x = torch.randn(3, 2, 3)
out = model(x).sum()
out.backward()
"""

TORCH_NAMES = """
import json, torch, torch.nn as nn
torch.manual_seed(0)
{defs}
print(json.dumps({{n: [list(p.shape), p.grad.flatten().tolist()] for n, p in model.named_parameters()}}))
"""


def _torch_params(program: str) -> dict:
    """named_parameters() and their grads from plain PyTorch in a fresh process (the sandbox's seed is 0 too)."""
    src = "import torch\ntorch.manual_seed(0)\n" + program + TORCH_NAMES.format(defs="")
    out = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("program", [MLP20, SEQUENTIAL], ids=["mlp20", "sequential"])
def test_parameters_are_named_like_named_parameters(program):
    r = session.execute(program)
    assert r["ok"], r.get("error")
    truth = _torch_params(program)
    leaves = {n["label"]: n for n in r["graph"]["nodes"] if n["kind"] == "leaf"}
    assert set(leaves) == set(truth)  # every parameter named, no leaf0..leafN
    for name, (shape, grad) in truth.items():
        assert leaves[name]["shape"] == shape
        flat = leaves[name]["grad"]
        flat = [v for row in flat for v in (row if isinstance(row, list) else [row])]
        assert flat == pytest.approx(grad, rel=1e-6, abs=1e-7)  # the named box carries that parameter's .grad


def test_mlp20_folds_one_box_per_layer_and_opens():
    r = session.execute(MLP20)
    jsonschema.validate(r, json.loads((ROOT / "docs" / "result.schema.json").read_text()))
    g = r["graph"]
    assert len(g["nodes"]) > FOLD_MODULES_ABOVE
    names = {m["name"] for m in g["modules"].values()}
    assert {f"layers.{i}" for i in range(20)} | {"head", "model"} <= names
    plan = render.fit(g)
    boxes = {b.name: b for b in plan.modules.values()}
    assert set(boxes) == {f"layers.{i}" for i in range(20)} | {"head"}
    for i in range(20):  # each Linear call: addmm, t, weight, bias
        members = [n for n in g["nodes"] if n["id"] in boxes[f"layers.{i}"].members]
        assert sorted(n["label"] or n["name"] for n in members) == sorted(
            ["addmm", "t", f"layers.{i}.weight", f"layers.{i}.bias"]
        )
    relus = [n for n in g["nodes"] if n["name"] == "relu"]
    assert len(relus) == 20 and all(n["id"] in plan.ids for n in relus)  # F-style ops stay drawn
    dot = render.to_dot(g)
    assert "layers.7.weight" not in dot and "<B>layers.7</B>" in dot and "bias, weight" in dot
    bid = next(b.id for b in plan.modules.values() if b.name == "layers.7")
    opened = render.fit(g, expand=[bid])
    assert bid in opened.opened and bid not in opened.modules  # still listed (as opened), so it stays
    assert "layers.7.weight" in render.to_dot(g, expand=[bid])
    svg = render.to_svg(dot)
    if svg is not None:  # one box per layer: a 720p column shows it, far from the 8505x5610 px of every node
        width = float(svg.split('width="', 1)[1].split("pt", 1)[0])
        assert width < 900


def test_small_graphs_are_drawn_in_full():
    r = session.execute("import torch.nn as nn\nfc = nn.Linear(2, 1)\ny = fc(torch.ones(3, 2)).sum()\ny.backward()")
    assert {n["label"] for n in r["graph"]["nodes"] if n["kind"] == "leaf"} == {"weight", "bias"}
    assert not render.fit(r["graph"]).modules


def test_current_and_done_have_a_second_cue():
    r = session.execute("a = torch.tensor([2., 4.], requires_grad=True)\nE = (3*a**3).sum()\nE.backward()")
    g = r["graph"]
    dot = render.to_dot(g, step=g["nodes"][1]["id"], done=[g["nodes"][0]["id"]])
    lines = {ln.split('"')[1]: ln for ln in dot.splitlines() if ln.startswith('    "')}
    assert "▶" in lines[g["nodes"][1]["id"]] and "peripheries=2" in lines[g["nodes"][1]["id"]]
    assert "✓" in lines[g["nodes"][0]["id"]] and "dashed" in lines[g["nodes"][0]["id"]]
    assert render.PALETTE["step"][1] != render.PALETTE["done"][1]


def test_apply_event():
    state: dict = {"gx_step": 3}
    ids = {"n0", "n1"}
    assert apply_event({"kind": "step", "delta": 1}, state, 4, "gx_step", "ex", "pick", ids) == "step"
    assert state["gx_step"] == 4
    apply_event({"kind": "step", "delta": 1, "auto": True}, state, 4, "gx_step", "ex", "pick", ids)
    assert state["gx_step"] == 4 and state["gx_playing"] is False  # auto-play stops at the end
    for _ in range(6):
        apply_event({"kind": "step", "delta": -1}, state, 4, "gx_step", "ex", "pick", ids)
    assert state["gx_step"] == 0
    assert apply_event({"kind": "pick", "id": "n1"}, state, 4, "gx_step", "ex", "pick", ids) == "pick"
    assert state["pick"] == "n1"
    assert apply_event({"kind": "pick", "id": "mod:m3"}, state, 4, "gx_step", "ex", "pick", ids) == "expand"
    assert state["ex"] == ["mod:m3"]
    assert apply_event({"kind": "pick", "id": "mod:m3"}, state, 4, "gx_step", "ex", "pick", ids) == "fold"
    assert state["ex"] == []
    assert apply_event({"kind": "pick", "id": "<script>"}, state, 4, "gx_step", "ex", "pick", ids) is None
    assert apply_event({"kind": "step", "delta": 7}, state, 4, "gx_step", "ex", "pick", ids) is None
    assert apply_event("junk", state, 4, "gx_step", "ex", "pick", ids) is None


def test_log_ticks_are_written_in_full():
    t = log_ticks([0.013, 0.9])
    assert t["ticktext"] == ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"]
    assert log_ticks([1e-6, 3])["ticktext"][0] == "1e-06"
    assert log_ticks([]) == {}


def test_editor_gutter():
    svg = gutter_svg(5, 3)
    assert ">1<" in svg and ">▶3<" in svg and ">5<" in svg
    assert "monospace" in editor_css("pg_code", "a\nb")
    assert error_line({"ok": False, "error": {"line": 2}}) == 2
    assert error_line({"ok": False, "error": {"line": 2}}, same_program=False) is None
    assert error_line({"ok": True}) is None


# --- AppTest ---------------------------------------------------------------------------------------------


@pytest.mark.apptest
def test_inspector_follows_the_step_and_a_new_program():
    at = open_page("pages/graph.py")
    last = at.selectbox(key="gx_node").value
    at.button(key="gx_prev").click().run()
    steps = at.session_state["gx_result"]["backward_steps"]
    assert at.selectbox(key="gx_node").value == steps[-2]["node"] != last
    at.text_area(key="gx_code").set_value("x = torch.ones(2, requires_grad=True)\ny = (x * 5).sum()\ny.backward()")
    at.run()
    steps = at.session_state["gx_result"]["backward_steps"]
    value = at.selectbox(key="gx_node").value
    assert value == steps[-1]["node"]  # the panel and the picker agree on the new program's node
    node = next(n for n in at.session_state["gx_result"]["graph"]["nodes"] if n["id"] == value)
    assert any((node.get("label") or node["name"]) in m.value for m in at.markdown)


@pytest.mark.apptest
def test_presentation_mode_from_the_url_hides_the_editor():
    at = open_page("pages/graph.py", present="1")
    assert at.toggle(key="w_present").value is True
    assert at.expander and at.expander[0].label in ("Program and settings", "程序与设置")
    assert not at.expander[0].proto.expanded
    assert [w.key for w in at.expander[0].text_area] == ["gx_code"]  # the editor is inside the closed box
    at.toggle(key="w_present").set_value(False).run()
    assert "present" not in at.query_params


@pytest.mark.apptest
def test_mlp20_module_boxes_listed_and_stay_open_while_stepping():
    at = open_page("pages/graph.py")
    at.text_area(key="gx_code").set_value(MLP20).run()
    ms = at.multiselect(key="gx_expand")
    assert any("layers.7 · Linear" in o for o in ms.options)
    plan = render.fit(at.session_state["gx_result"]["graph"])
    bid = next(b.id for b in plan.modules.values() if b.name == "layers.7")
    at.multiselect(key="gx_expand").select(bid).run()
    for _ in range(3):
        at.button(key="gx_prev").click().run()
    assert bid in at.multiselect(key="gx_expand").value
    html = "".join(m.value for m in at.markdown if 'class="ae-graph' in m.value)
    assert "layers.7.weight" in html
    labels = at.selectbox(key="gx_node").options
    assert any("head.weight" in o for o in labels) and not any("leaf0" in o for o in labels)
