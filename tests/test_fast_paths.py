"""The fast paths of issue 9 give the answers of the slow ones: rolling recording equals the second run, the
wire's JSON codec equals the standard library's reading, cached compiled code and shared module plans change
nothing a program computes or is charged."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from core.sandbox import compiler, guard, session
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
        "w = torch.tensor([1.0, -2.0], requires_grad=True)\nfor i in range(16):\n"
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


def test_rolling_that_costs_more_than_chosen_gives_way_to_a_second_run(monkeypatch) -> None:
    """A choice misled by a busy moment is reviewed: rolling that costs more than its share stops, and the
    second run records the last pass, with the very same answer."""
    src = LONG_LOOPS["manual update under no_grad"].replace("range(16)", "range(40)")
    monkeypatch.setattr(session, "ROLLING_BELOW", -math.inf)
    rerun = session.execute(src, "cpu", with_graph=True)

    def always_roll(self) -> None:
        self.rolling = True
        self._paid = [0.0, 0.0, 0]

    monkeypatch.setattr(session.BackwardLog, "_choose", always_roll)
    monkeypatch.setattr(session, "ROLLING_BELOW", 0.0)  # any recording cost is too much at review
    reviewed = session.execute(src, "cpu", with_graph=True)
    assert reviewed["stats"]["recording"] == "second run"
    assert _without_stats(reviewed) == _without_stats(rerun)


def test_a_program_that_ends_while_the_choice_is_made_gets_a_second_run(monkeypatch) -> None:
    monkeypatch.setattr(session, "ROLLING_BELOW", math.inf)
    n = session.FULL_PASSES + session.LIGHT_PASSES  # its last pass is the last one timed: none rolled yet
    r = session.execute(f"w = torch.ones(2, requires_grad=True)\nfor i in range({n}):\n    (w * i).sum().backward()")
    assert r["stats"]["recording"] == "second run"
    assert [p["index"] for p in r["backward_passes"] if p["recorded"]] == [n - 1]


def test_a_short_program_records_every_pass_as_it_runs() -> None:
    r = session.execute("w = torch.ones(2, requires_grad=True)\nfor i in range(3):\n    (w * i).sum().backward()")
    assert r["stats"]["recording"] == "as it ran" and all(p["recorded"] for p in r["backward_passes"])


def test_a_loop_of_heavy_iterations_records_its_passes_as_they_run() -> None:
    """A pass behind seven 400x400 matmuls an iteration costs little beside them: rolling, not a second run.
    (Which way a loop of tiny ops goes is the timing's call: both ways give the same answer, tested above.)"""
    heavy = (
        "w = torch.rand(400, 400, requires_grad=True)\nx = torch.rand(400, 400)\nfor i in range(12):\n"
        "    y = x\n    for k in range(6):\n        y = y @ x\n    (y @ w).mean().backward()"
    )
    r = session.execute(heavy, "cpu", with_graph=True)
    assert r["stats"]["recording"] == "rolling" and "first_run_ms" not in r["stats"]


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


_LAYERS = [
    *(cls() for cls in sorted(guard._ELEMENTWISE_LAYERS, key=lambda c: c.__name__) if cls not in (nn.Softmax,
      nn.LogSoftmax)),  # fmt: skip
    nn.Softmax(dim=-1), nn.LogSoftmax(dim=0), nn.ReLU(inplace=True), nn.Dropout(0.3), nn.Dropout(0.0),
    nn.Flatten(), nn.Flatten(0), nn.Linear(5, 3), nn.Linear(5, 7, bias=False), nn.Linear(5, 2).double(),
]  # fmt: skip


@pytest.mark.parametrize("layer", _LAYERS, ids=lambda m: repr(m)[:40])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)], ids=str)
def test_a_layer_priced_from_its_shapes_costs_what_a_meta_run_counts(layer: nn.Module, shape: tuple) -> None:
    from core.sandbox.interpreter import _meta_twin

    x = torch.rand(shape, dtype=next(layer.parameters()).dtype if list(layer.parameters()) else torch.float32)
    for training in (True, False):
        layer.train(training)
        cost = guard.layer_cost(layer, (x,))
        planned = guard.Budget(torch.device("cpu"))._meta("layer", lambda m: _meta_twin(layer).forward(m), (x,), {},
                                                           False)  # fmt: skip
        if cost is not None:
            assert cost == planned, (layer, shape, training)
        else:  # what torch refuses, and the shapes left to a meta run: a Linear on a batch of batches, a vector
            assert planned is None or isinstance(layer, nn.Linear) and len(shape) != 2


def test_a_swapped_weight_is_priced_by_its_own_shape() -> None:
    layer = nn.Linear(5, 3)
    layer.weight = nn.Parameter(torch.rand(3000, 5))
    assert guard.layer_cost(layer, (torch.rand(7, 5),)) is None  # the bias no longer fits: planned on meta
    layer.bias = nn.Parameter(torch.rand(3000))
    nbytes, flops = guard.layer_cost(layer, (torch.rand(7, 5),))
    assert nbytes == 7 * 3000 * 4 and flops >= 2 * 7 * 5 * 3000
