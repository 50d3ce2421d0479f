"""The fast paths of issue 9 give the answers of the slow ones: rolling recording equals the second run, the
wire's JSON codec equals the standard library's reading, cached compiled code and shared module plans change
nothing a program computes or is charged."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from core.sandbox import compiler, session
from core.sandbox.validate import parse
from core.sandbox.wire import decode_json, encode_json

CORPUS = Path(__file__).resolve().parent / "corpus"

LONG_LOOPS = {
    "quickstart": (CORPUS / "01_quickstart.py").read_text(),
    "sgd on a layer, in-place updates": (
        "torch.manual_seed(1)\nnet = nn.Linear(6, 3)\nopt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
        "x = torch.randn(20, 6)\ny = torch.randn(20, 3)\n"
        "for i in range(14):\n    opt.zero_grad()\n    loss = ((net(x) - y) ** 2).mean()\n    loss.backward()\n"
        "    opt.step()\nprint(loss.item())"
    ),
    "manual update under no_grad": (
        "w = torch.tensor([1.0, -2.0], requires_grad=True)\nfor i in range(11):\n"
        "    loss = (w.exp() * i).sum()\n    loss.backward()\n    with torch.no_grad():\n"
        "        w -= 0.01 * w.grad\n        w.grad.zero_()"
    ),
}


def _without_stats(r: dict) -> dict:
    return {k: v for k, v in r.items() if k != "stats"}


@pytest.mark.parametrize("name", list(LONG_LOOPS))
def test_rolling_records_the_same_last_pass_as_a_second_run(name: str, monkeypatch) -> None:
    src = LONG_LOOPS[name]
    monkeypatch.setattr(session, "ROLLING_BELOW", math.inf)
    rolled = session.execute(src, "cpu", with_graph=True)
    monkeypatch.setattr(session, "ROLLING_BELOW", -math.inf)
    rerun = session.execute(src, "cpu", with_graph=True)
    assert rolled["ok"] and rerun["ok"], (rolled.get("error"), rerun.get("error"))
    assert rolled["stats"]["recording"] == "rolling" and rerun["stats"]["recording"] == "second run"
    assert _without_stats(rolled) == _without_stats(rerun)
    assert [p["index"] for p in rolled["backward_passes"] if p["recorded"]] == [len(rolled["backward_passes"]) - 1]


def test_a_short_program_records_every_pass_as_it_runs() -> None:
    r = session.execute("w = torch.ones(2, requires_grad=True)\nfor i in range(3):\n    (w * i).sum().backward()")
    assert r["stats"]["recording"] == "as it ran" and all(p["recorded"] for p in r["backward_passes"])


def test_the_recording_choice_follows_the_cost_of_an_iteration() -> None:
    """Recording a pass of two tiny ops costs more than the ops: a second run. A pass behind a 400x400 matmul
    per iteration costs little beside it: rolling."""
    tiny = "w = torch.ones(3, requires_grad=True)\nfor i in range(30):\n    (w * 2).sum().backward()"
    assert session.execute(tiny, "cpu", with_graph=True)["stats"]["recording"] == "second run"
    heavy = (
        "w = torch.rand(400, 400, requires_grad=True)\nx = torch.rand(400, 400)\nfor i in range(12):\n"
        "    y = x\n    for k in range(6):\n        y = y @ x\n    (y @ w).mean().backward()"
    )
    assert session.execute(heavy, "cpu", with_graph=True)["stats"]["recording"] == "rolling"


# --- the wire's JSON ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"ok": True, "x": [0.1, 1e-7, -0.0, 3.4028234663852886e38, 5e-324, 2**53 + 1, -(2**63), 2**64 - 1]},
        {"nested": [[[1.5, "nan", "inf"]]], "text": "中文 ∇ ✓", "none": None, "t": True},
        {"1": {"deep": [{"a": []}] * 3}},
    ],
)
def test_the_codec_reads_back_what_the_standard_library_reads(value) -> None:
    data = encode_json(value)
    assert decode_json(data) == json.loads(data) == json.loads(json.dumps(value))


def test_the_codec_keeps_what_orjson_cannot_write() -> None:
    """A lone surrogate a program printed and an integer past 64 bits are sent as text, never dropped."""
    big = 3**200
    back = decode_json(encode_json({"stdout": "a\ud800b", "n": big, "rows": [(1, "\udfff")], 7: -big}))
    assert back == {"stdout": "a\\ud800b", "n": str(big), "rows": [[1, "\\udfff"]], "7": str(-big)}


def test_the_codec_refuses_what_is_not_json() -> None:
    with pytest.raises(TypeError):
        encode_json({"t": torch.ones(1)})
    loop: list = []
    loop.append(loop)
    with pytest.raises(TypeError):
        encode_json(loop)
    with pytest.raises(ValueError):
        decode_json(b'{"a": NaN}')


def test_an_answer_is_measured_in_the_bytes_it_is_sent_as() -> None:
    """CJK text is three bytes a character on the wire: the size bound counts bytes."""
    r = session.execute("for i in range(3000):\n    print('梯度' * 5)", "cpu", with_graph=False)
    assert len(encode_json(r)) <= session.MAX_ANSWER_BYTES
    assert session._json_size({"s": "梯度"}) == len('{"s":"梯度"}'.encode())


# --- compiled code and plans -------------------------------------------------------------------------------


def test_compiled_code_is_reused_only_for_the_same_validated_tree() -> None:
    a = parse("x = 1 + 2")
    b = parse("x = 1 + 2")  # the same text, another tree: compiled again, never guessed equal
    code = compiler.compile_program(a)
    assert compiler.compile_program(a) is code
    assert compiler.compile_program(b) is not code
    assert compiler.compile_program(a, assign_hook=True) is not code


def test_a_second_run_reuses_the_parse_of_the_same_text_only() -> None:
    session._parse_once("y = 3")
    tree = session._PARSED[0][1]
    assert session._parse_once("y = 3") is tree
    assert session._parse_once("y = 4") is not tree


def test_equal_layers_share_a_plan_yet_each_call_is_charged() -> None:
    src = "x = torch.rand(500, 500)\nfor i in range(N):\n    y = nn.Linear(500, 500)(x)"
    one, ten = (session.execute(src.replace("N", n), "cpu", with_graph=False) for n in ("1", "10"))
    assert one["ok"] and ten["ok"]
    assert ten["stats"]["gflop"] - one["stats"]["gflop"] >= 9 * 2 * 500**3 / 1e9  # nine more 500^3 matmuls


def test_a_layer_given_bigger_weights_is_planned_again() -> None:
    """The plan of a built-in layer is keyed by its weights' shapes: swapping in a bigger weight after a first
    call is priced anew (a cached plan of the small layer would let it through)."""
    src = (
        "m = nn.Linear(10, 10)\nx = torch.rand(3000, 10)\ny = m(x)\n"
        "m.weight = nn.Parameter(torch.rand(3000, 10))\nm.bias = nn.Parameter(torch.rand(3000))\n"
        "for i in range(200):\n    y = m(x)"
    )
    small = session.execute(src.replace("range(200)", "range(1)"), "cpu", with_graph=False)
    assert small["ok"], small.get("error")
    assert small["stats"]["gflop"] > 0.18  # 3000 x 3000 x 10 multiply-adds, not the 10 x 10 layer's
    r = session.execute(src.replace("range(200)", "range(1000)"), "cpu", with_graph=False)
    assert not r["ok"] and r["error"]["key"] == "sb_flops" and r["error"]["line"] == 7
