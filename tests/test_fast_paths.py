"""The fast paths of issue 9 give the answers of the slow ones: rolling recording equals the second run, the
wire's JSON codec equals the standard library's reading, cached compiled code and shared module plans change
nothing a program computes or is charged."""

from __future__ import annotations

import ast
import copy
import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from core.sandbox import compiler, guard, session
from core.sandbox.validate import parse
from core.sandbox.wire import decode_answer, decode_json, encode_answer, encode_json

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
    "epochs of shuffled batches, enumerated": (
        "from torch.utils.data import DataLoader, TensorDataset\nnet = nn.Linear(3, 1)\n"
        "opt = torch.optim.SGD(net.parameters(), lr=0.05)\n"
        "loader = DataLoader(TensorDataset(torch.randn(24, 3), torch.randn(24, 1)), batch_size=5, shuffle=True)\n"
        "for epoch in range(3):\n    for i, (xb, yb) in enumerate(loader):\n"
        "        loss = nn.functional.mse_loss(net(xb), yb)\n        opt.zero_grad()\n        loss.backward()\n"
        "        opt.step()"
    ),
    "zip of batch lists, split by random_split": (
        "from torch.utils.data import DataLoader, TensorDataset, random_split\n"
        "data = TensorDataset(torch.randn(40, 2), torch.randn(40))\n"
        "train, test = random_split(data, [30, 10])\nw = torch.zeros(2, requires_grad=True)\n"
        "xs = [x for x, _ in DataLoader(train, batch_size=2)]\nys = [y for _, y in DataLoader(train, batch_size=2)]\n"
        "for xb, yb in zip(xs, ys):\n    loss = ((xb @ w - yb) ** 2).mean()\n    loss.backward()\n"
        "    with torch.no_grad():\n        w -= 0.1 * w.grad\n        w.grad = None"
    ),
    "one more pass after the loop": (
        "w = torch.tensor([0.5, -1.0], requires_grad=True)\nfor step in range(12):\n"
        "    loss = (w ** 3).sum()\n    loss.backward()\n    with torch.no_grad():\n        w -= 0.1 * w.grad\n"
        "        w.grad = None\nfinal = (w.sin() * 2).sum()\nfinal.backward()\nprint(w.grad)"
    ),
}


def _without_stats(r: dict) -> dict:
    return {k: v for k, v in r.items() if k != "stats"}


def _as_second_run_sees_it(r: dict, rerun: dict) -> dict:
    """`r` without the forward values of nodes the second run has none for. A second run records the values
    of the last pass's iteration only; recording as it runs keeps those of the iteration before it as well: a
    tensor named in that iteration and drawn beside the last graph (a loss before one more pass) shows its
    value. Every value both have must be equal."""
    out = copy.deepcopy(_without_stats(r))
    for node, again in zip(out["graph"]["nodes"], rerun["graph"]["nodes"], strict=True):
        if again.get("value") is None and "value_note" in again and node.get("value") is not None:
            for key in ("value", "summary", "value_note"):
                node.pop(key, None)
                if key in again:
                    node[key] = again[key]
    return out


# how the last pass gets recorded: (ROLLING_BELOW, FORESIGHTS) that force each way
WAYS = {"rolling": (math.inf, 0), "foreseen": (-math.inf, session.FORESIGHTS), "second run": (-math.inf, 0)}


def _run_as(way: str, src: str, monkeypatch) -> dict:
    below, foresights = WAYS[way]
    monkeypatch.setattr(session, "ROLLING_BELOW", below)
    monkeypatch.setattr(session, "FORESIGHTS", foresights)
    r = session.execute(src, "cpu", with_graph=True)
    assert r["ok"], r.get("error")
    return r


@pytest.mark.parametrize("name", list(LONG_LOOPS))
def test_every_way_of_recording_the_last_pass_gives_the_second_runs_answer(name: str, monkeypatch) -> None:
    src = LONG_LOOPS[name]
    answers = {way: _run_as(way, src, monkeypatch) for way in WAYS}
    assert {way: r["stats"]["recording"] for way, r in answers.items()} == {way: way for way in WAYS}
    rerun = answers["second run"]
    assert _as_second_run_sees_it(answers["rolling"], rerun) == _without_stats(rerun)
    assert _as_second_run_sees_it(answers["foreseen"], rerun) == _without_stats(rerun)
    r = answers["foreseen"]
    assert [p["index"] for p in r["backward_passes"] if p["recorded"]] == [len(r["backward_passes"]) - 1]
    assert "first_run_ms" not in r["stats"] and "first_run_ms" in answers["second run"]["stats"]


def test_rolling_that_costs_more_than_chosen_gives_way_to_a_second_run(monkeypatch) -> None:
    """A choice misled by a busy moment is reviewed: rolling that costs more than its share stops, and the
    second run records the last pass, with the very same answer."""
    src = LONG_LOOPS["manual update under no_grad"].replace("range(16)", "range(40)")
    rerun = _run_as("second run", src, monkeypatch)

    def always_roll(self) -> None:
        self._chosen = self.rolling = True
        self._paid = [0.0, 0.0, 0]

    monkeypatch.setattr(session.BackwardLog, "_choose", always_roll)
    monkeypatch.setattr(session, "ROLLING_BELOW", 0.0)  # any recording cost is too much at review
    reviewed = session.execute(src, "cpu", with_graph=True)
    assert reviewed["stats"]["recording"] == "second run"
    assert _without_stats(reviewed) == _without_stats(rerun)
    monkeypatch.setattr(session, "FORESIGHTS", 3)  # after the review, the loop's end is still foreseen
    foreseen = session.execute(src, "cpu", with_graph=True)
    assert foreseen["stats"]["recording"] == "foreseen"
    assert _without_stats(foreseen) == _without_stats(rerun)


def test_a_program_that_ends_while_the_choice_is_made_gets_a_second_run(monkeypatch) -> None:
    monkeypatch.setattr(session, "ROLLING_BELOW", math.inf)
    n = session.FULL_PASSES + session.LIGHT_PASSES  # its last pass is the last one timed: none rolled yet
    src = f"w = torch.ones(2, requires_grad=True)\ni = 0\nwhile i < {n}:\n    (w * i).sum().backward()\n    i += 1"
    r = session.execute(src)
    assert r["stats"]["recording"] == "second run"
    assert [p["index"] for p in r["backward_passes"] if p["recorded"]] == [n - 1]
    foreseen = session.execute(src.replace(f"i = 0\nwhile i < {n}:", f"for i in range({n}):").replace("    i += 1", ""))
    assert foreseen["stats"]["recording"] == "foreseen"  # a for loop's last pass is foreseen, even there
    assert foreseen["backward_steps"] == r["backward_steps"] and foreseen["graph"] == r["graph"]


@pytest.mark.parametrize(
    ("src", "to_the_end"),
    [
        ("for i in range(3):\n    x = i", True),
        ("def f(n):\n    for i in range(n):\n        y = i\n    return y\nfor k in range(2):\n    f(k)", True),
        ("for i in range(3):\n    g = lambda v: v\n    def h(v):\n        return v", True),
        ("for i in range(3):\n    if i:\n        break", True),  # nothing in it can run a backward pass
        ("for x in loader:\n    print(f'{x.shape}', torch.zeros(2))\n    break", True),
        ("for x in data:\n    x.sum().backward()\n    break", False),
        ("for x in data:\n    torch.autograd.grad(x, w)\n    break", False),
        ("for x in data:\n    for s in range(2):\n        step(x)\n    break", False),
        ("for i in range(3):\n    model(i)\n    continue", False),
        ("for i in range(3):\n    for j in range(2):\n        continue\n    train()", True),
        ("try:\n    x = 1\nexcept ValueError:\n    pass", True),
        ("try:\n    train()\nexcept ValueError:\n    pass", False),
        ("def f():\n    for i in range(3):\n        if i:\n            return i", False),
        ("def f():\n    while True:\n        return 1", False),
    ],
)
def test_loops_that_run_to_their_end(src: str, to_the_end: bool) -> None:
    from core.sandbox.loops import run_to_their_end

    assert run_to_their_end(parse(src)) is to_the_end


def test_a_backward_inside_an_if_that_skips_the_last_iteration_gets_a_second_run(monkeypatch) -> None:
    """Foresight from the first pass records only a pass that runs on every loop's last item: when the last
    pass runs earlier (a backward every 7th step), a second run records it, with the very same answer."""
    src = (
        "w = torch.tensor([1.0, 2.0], requires_grad=True)\nfor i in range(40):\n    loss = (w * w * i).sum()\n"
        "    if i % 3 == 1:\n        loss.backward()\n        with torch.no_grad():\n            w -= 0.01 * w.grad\n"
        "            w.grad = None"
    )
    r = _run_as("foreseen", src, monkeypatch)
    assert r["stats"]["recording"] == "second run"
    assert [p["index"] for p in r["backward_passes"] if p["recorded"]] == [12]
    assert _without_stats(r) == _without_stats(_run_as("second run", src, monkeypatch))
    # fewer passes in all than are recorded as they run: the second run records them all
    few = src.replace("i % 3 == 1", "i % 7 == 0")
    r = _run_as("foreseen", few, monkeypatch)
    assert r["stats"]["recording"] == "as it ran" and "first_run_ms" in r["stats"]
    assert [p["index"] for p in r["backward_passes"] if p["recorded"]] == [0, 1, 2, 3, 4, 5]
    assert _without_stats(r) == _without_stats(_run_as("second run", few, monkeypatch))


def test_two_training_loops_one_after_the_other_get_the_second_ones_last_pass(monkeypatch) -> None:
    src = (
        "a = torch.tensor([1.0], requires_grad=True)\nb = torch.tensor([3.0], requires_grad=True)\n"
        "for i in range(10):\n    (a * a).sum().backward()\nfor j in range(12):\n    (b.exp() * j).sum().backward()"
    )
    r = _run_as("foreseen", src, monkeypatch)
    assert r["stats"]["recording"] == "foreseen" and "first_run_ms" not in r["stats"]
    assert [p["index"] for p in r["backward_passes"] if p["recorded"]] == [21]
    assert _without_stats(r) == _without_stats(_run_as("second run", src, monkeypatch))


def test_loops_a_hundred_deep_leave_the_watch_blind_and_the_answer_right(monkeypatch) -> None:
    """A recursion with a loop at every level keeps more loops running than the watch keeps track of: it
    stops counting (no pass is foreseen), and the last pass is still recorded, by a second run."""
    src = (
        "w = torch.tensor([0.5], requires_grad=True)\ndef down(n):\n    for i in range(1):\n        if n:\n"
        "            down(n - 1)\n        else:\n            for k in range(12):\n"
        "                (w * k).sum().backward()\ndown(100)\nprint(w.grad)"
    )
    r = _run_as("foreseen", src, monkeypatch)
    assert r["stdout"] == "tensor([66.])\n" and r["stats"]["recording"] == "second run"
    assert _without_stats(r) == _without_stats(_run_as("second run", src, monkeypatch))


def test_a_loop_left_early_is_not_foreseen_and_gets_a_second_run(monkeypatch) -> None:
    src = (
        "w = torch.tensor([3.0], requires_grad=True)\nfor step in range(500):\n    loss = (w ** 2).sum()\n"
        "    loss.backward()\n    with torch.no_grad():\n        w -= 0.2 * w.grad\n        w.grad = None\n"
        "    if loss.item() < 1e-3:\n        break\nprint(step)"
    )
    r = _run_as("foreseen", src, monkeypatch)  # foresight allowed, never right: the range still had items
    assert r["stats"]["recording"] == "second run"
    assert _without_stats(r) == _without_stats(_run_as("second run", src, monkeypatch))


USER_DATA = """
from torch.utils.data import DataLoader, Dataset


class Noisy(Dataset):
    def __len__(self):
        print("len")
        return 12

    def __getitem__(self, i):
        return torch.full((3,), float(i)), torch.tensor(float(i))


class Steps:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        print("steps len")
        return self.n

    def __iter__(self):
        print("steps iter")
        return iter(range(self.n))


w = torch.zeros(3, requires_grad=True)
for epoch in Steps(2):
    for xb, yb in DataLoader(Noisy(), batch_size=2):
        loss = ((xb @ w - yb) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.001 * w.grad
            w.grad = None
print(w)
"""


def test_counting_loops_never_runs_the_programs_own_code(monkeypatch) -> None:
    """A dataset or iterable class of the program's is not counted (its __len__ could print, or change state):
    the output is plain PyTorch's, and the last pass is recorded another way."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile("import torch\n" + USER_DATA, "<plain>", "exec"), {"__name__": "__main__"})  # noqa: S102
    r = _run_as("foreseen", USER_DATA, monkeypatch)
    assert r["stdout"] == out.getvalue()  # the len() calls PyTorch itself makes, no more
    assert r["stats"]["recording"] == "second run"


def test_the_watch_counts_what_is_left_of_running_loops_only() -> None:
    from torch.utils.data import DataLoader, TensorDataset

    from core.sandbox.loops import KEEP, LoopWatch

    watch = LoopWatch()
    seen = []
    for _outer in (it := iter(range(2)), watch.started(it))[0]:
        loader = enumerate(DataLoader(TensorDataset(torch.ones(5, 1)), batch_size=2))
        watch.started(loader)
        for _ in loader:
            seen.append(watch.left())
        del loader
    del it
    assert seen == [1 + 2, 1 + 1, 1 + 0, 0 + 2, 0 + 1, 0 + 0]
    assert watch.left() == 0  # both loops ended: nothing runs
    gen = (x for x in [1, 2])
    watch.started(gen)
    assert watch.left() is None  # a generator's count is unknown
    del gen
    watch.started(iter([1]))  # a loop left at once (nothing holds its iterator): dropped
    assert watch.left() == 0
    watch.tick_of_while()
    assert watch.left() is None  # a while loop runs
    watch.pass_starts()
    assert watch.left() is None  # ... in the iteration before this pass
    watch.pass_starts()
    assert watch.left() == 0
    deep = [iter([1, 2]) for _ in range(KEEP + 1)]  # more loops at once than it keeps track of
    for d in deep:
        watch.started(d)
    assert watch.blind and watch.left() is None


def test_a_short_program_records_every_pass_as_it_runs() -> None:
    r = session.execute("w = torch.ones(2, requires_grad=True)\nfor i in range(3):\n    (w * i).sum().backward()")
    assert r["stats"]["recording"] == "as it ran" and all(p["recorded"] for p in r["backward_passes"])


def test_a_loop_of_heavy_iterations_records_its_passes_as_they_run() -> None:
    """A pass behind seven 400x400 matmuls an iteration costs little beside them: rolling, not a second run.
    (Which way a loop of tiny ops goes is the timing's call: both ways give the same answer, tested above.)"""
    heavy = (
        "w = torch.rand(400, 400, requires_grad=True)\nx = torch.rand(400, 400)\ni = 0\nwhile i < 12:\n"
        "    y = x\n    for k in range(6):\n        y = y @ x\n    (y @ w).mean().backward()\n    i += 1"
    )  # a while loop: its end is not foreseen
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


@pytest.mark.parametrize("name", ["quickstart", "one more pass after the loop"])
def test_the_worker_sends_the_bytes_the_size_bound_measured(name: str, monkeypatch) -> None:
    """execute_encoded's bytes (written once, while the answer's size was bounded) are the answer's JSON."""
    data = session.execute_encoded(LONG_LOOPS[name], "cpu", True)
    again = session.execute(LONG_LOOPS[name], "cpu", True)
    assert _without_stats(decode_answer(data)) == _without_stats(decode_json(encode_json(again)))
    if name != "quickstart":
        return
    assert len(data) < 0.7 * len(encode_json(again))  # a gradient met in several places is sent once
    monkeypatch.setattr(session, "MAX_ANSWER_BYTES", len(data) // 3)  # bounded: trimmed, shared lists still once
    small = session.execute_encoded(LONG_LOOPS[name], "cpu", True)
    assert len(small) <= len(data) // 3 < decode_answer(small)["stats"]["trimmed_from_bytes"]


def test_a_tensor_met_in_several_places_is_sent_once_and_read_back_in_each_place() -> None:
    """The same Packed in several places (a gradient that is a node's, a step's output, the next step's input)
    is one spec over one run of bytes, read back as one list object in each place."""
    from core import tensorjson

    t = torch.tensor([[1.5, -0.0], [2.0, float("nan")]] * 8)
    with tensorjson.shared():
        row = tensorjson.values(t)
        other = tensorjson.values(t.clone())  # equal numbers, another tensor: sent as they are
        assert tensorjson.values(t) is row
    answer = {"graph": {"nodes": [{"grad": row}, {"value": other}]}, "steps": [{"incoming": [None, row]}], "x": row}
    data = encode_answer(answer)
    n = int.from_bytes(data[:8], "big")
    assert len(data) == 8 + n + 2 * t.numel() * 4  # two tensors' bytes: row once
    assert decode_json(data[8 : 8 + n])["x"] == {"$n": ["<f4", [16, 2], 0]}
    back = decode_answer(data)
    listed = tensorjson.values(t)
    assert back == {"graph": {"nodes": [{"grad": listed}, {"value": listed}]}, "steps": [{"incoming": [None, listed]}],
                    "x": listed}  # fmt: skip
    assert back["x"] is back["graph"]["nodes"][0]["grad"] is back["steps"][0]["incoming"][1]
    assert back["x"] is not back["graph"]["nodes"][1]["value"]
    assert encode_answer({"a": [1, 2]}) == encode_json({"a": [1, 2]})  # nothing packed: the JSON alone


def test_repeats_cannot_inflate_an_answer() -> None:
    """One big packed tensor pointed at from everywhere would be gigabytes as lists written out: refused."""
    blob = torch.arange(4096, dtype=torch.float64).numpy().tobytes()
    spec = b'{"$n": ["<f8", [4096], 0]}'
    with pytest.raises(ValueError, match="many times its size"):
        decode_answer(_frame(b'{"rows": [' + b",".join([spec] * 5000) + b"]}", blob))
    back = decode_answer(_frame(b'{"a": ' + spec + b', "b": ' + spec + b"}", blob))
    assert back["a"] is back["b"] and len(back["a"]) == 4096


def _packed_answer(tensors: dict[str, torch.Tensor]) -> tuple[bytes, dict]:
    """The answer {name: values(t)} as the wire sends it from within shared(), and as values() lists it."""
    from core import tensorjson

    with tensorjson.shared():
        answer = {k: tensorjson.values(t) for k, t in tensors.items()}
    return encode_answer(answer), {k: tensorjson.values(t) for k, t in tensors.items()}


_ODD = torch.tensor([1.5, -0.0, float("nan"), float("inf"), -float("inf"), 1e-45, 3.4028235e38, -2.5] * 3)
PACKED_CASES = {
    "float32": torch.randn(5, 7, generator=torch.Generator().manual_seed(0)),
    "float64 to the last bit": torch.randn(33, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) / 3,
    "float32 NaN, infinities, subnormal, -0": _ODD,
    "float64 NaN and infinities": _ODD.double().reshape(4, 6),
    "float16": torch.linspace(-3, 3, 20).half(),
    "bfloat16": torch.linspace(-3, 3, 20).bfloat16().reshape(2, 10),
    "complex64": torch.randn(3, 6, dtype=torch.complex64, generator=torch.Generator().manual_seed(2)),
    "conjugated complex": torch.randn(20, dtype=torch.complex64, generator=torch.Generator().manual_seed(3)).conj(),
    "the imaginary part of a conjugate": torch.randn(20, dtype=torch.complex64).conj().imag,  # a negative view
    "int64 beyond 2**53": torch.arange(20) * (2**60 // 7) - 2**62,
    "int32": torch.arange(-10, 10, dtype=torch.int32),
    "int16": torch.arange(-10, 10, dtype=torch.int16).reshape(5, 4),
    "int8": torch.arange(-128, 127, 13, dtype=torch.int8),
    "uint8": torch.arange(0, 256, 9, dtype=torch.uint8),
    "bool": torch.arange(20) % 3 == 0,
    "a transposed view": torch.arange(24.0).reshape(4, 6).t(),
    "a strided slice": torch.arange(100.0)[::3],
    "an expanded row": torch.arange(4.0).expand(5, 4),
    "requires grad": torch.ones(4, 4, requires_grad=True) * 2,
    "four dimensions": torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5),
    "just under the packing size": torch.arange(15.0),
    "an empty tensor": torch.ones(0, 5),
    "a scalar": torch.tensor(3.25),
}


@pytest.mark.parametrize("name", list(PACKED_CASES))
def test_numbers_sent_as_bytes_read_back_as_the_list_values_makes(name: str) -> None:
    """tensorjson.values within shared() packs a tensor's bytes; decode_answer reads back what values() lists
    outside it, number for number (a float read back is the same double, NaN and infinities the same strings)."""
    data, listed = _packed_answer({"t": PACKED_CASES[name]})
    back = decode_answer(data)
    assert json.dumps(back, sort_keys=True) == json.dumps(listed, sort_keys=True)
    assert back == listed  # and the text above tells -0.0 from 0.0
    assert data[:1] == (b"\x00" if PACKED_CASES[name].numel() >= 16 else b"{")  # small ones stay text


def test_a_tensor_met_twice_is_packed_once_and_shared() -> None:
    t = torch.randn(64, 64)
    data, listed = _packed_answer({"a": t, "b": t, "c": t[0]})
    back = decode_answer(data)
    assert back == listed and back["a"] is back["b"]
    assert len(data) < 2 * 64 * 64 * 4 + 1000  # one copy of the bytes, and the row
    text = encode_json(listed)
    assert len(data) < len(text) / 3  # 4 bytes a float32, where its text is ~19


def _frame(text: bytes, blob: bytes) -> bytes:
    return len(text).to_bytes(8, "big") + text + blob


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00",  # a frame cut short
        _frame(b'{"a": 1}', b"")[:-3],  # JSON longer than its frame
        _frame(b'{"a": {"$n": ["<f4", [16], 0]}}', b"\x00" * 60),  # bytes beyond the blob
        _frame(b'{"a": {"$n": ["<f4", [16], 8]}}', b"\x00" * 64),  # bytes beyond the blob from an offset
        _frame(b'{"a": {"$n": ["<f4", [16], -4]}}', b"\x00" * 64),  # a negative offset
        _frame(b'{"a": {"$n": ["O", [16], 0]}}', b"\x00" * 64),  # Python objects, never
        _frame(b'{"a": {"$n": [">f4", [16], 0]}}', b"\x00" * 64),  # only what the wire writes
        _frame(b'{"a": {"$n": [["<f4"], [16], 0]}}', b"\x00" * 64),  # not a code
        _frame(b'{"a": {"$n": ["<f4", [-4, -4], 0]}}', b"\x00" * 64),  # sizes that multiply to 16
        _frame(b'{"a": {"$n": ["<f4", [0, 16], 0]}}', b"\x00" * 64),  # no numbers: never packed
        _frame(b'{"a": {"$n": ["<f4", [4], 0]}}', b"\x00" * 64),  # fewer than PACK_FROM: never packed
        _frame(b'{"a": {"$n": ["<f4", [16.0], 0]}}', b"\x00" * 64),  # not a size
        _frame(b'{"a": {"$n": ["<f4", [16]]}}', b"\x00" * 64),  # no offset
        _frame(b'{"a": {"$n": ["<f4", [16], 0]}}', b"\x00" * 64)[:8] + b'{"a": {"$n": "x"}}',  # not a spec
        _frame(b'{"a": {"$n": ["<f4", [' + b",".join([b"1"] * 65) + b"], 0]}}", b"\x00" * 64),  # too many dims
        # the same bytes a thousand times: repeats are charged by the bytes they repeat
        _frame(b'{"a": [' + b",".join([b'{"$n": ["<f8", [64], 0]}'] * 1000) + b"]}", b"\x00" * 512),
        # one offset read as two dtypes or shapes
        _frame(b'{"a": {"$n": ["<f4", [16], 0]}, "b": {"$n": ["<i4", [16], 0]}}', b"\x00" * 64),
        _frame(b'{"a": {"$n": ["<f4", [16], 0]}, "b": {"$n": ["<f4", [4, 4], 0]}}', b"\x00" * 64),
        # overlapping runs of bytes: each byte is made into a number once at most
        _frame(b'{"a": {"$n": ["<f4", [16], 0]}, "b": {"$n": ["<f4", [16], 4]}}', b"\x00" * 68),
    ],
)
def test_a_hostile_frame_is_refused(data: bytes) -> None:
    """A worker that ran untrusted code writes its answer's frame: what it says is checked against its bytes
    before any list is made, and no byte becomes two lists."""
    with pytest.raises(ValueError):
        decode_answer(data)


def test_a_frame_packed_by_hand_reads_as_the_wire_writes_it() -> None:
    """The checks above refuse only what is wrong: the same frames, made right, are read."""
    blob = torch.arange(16, dtype=torch.float32).numpy().tobytes() + bytes([0, 1, 2, 255] * 4)
    data = _frame(b'{"a": {"$n": ["<f4", [4, 4], 0]}, "b": [{"$n": ["|b1", [16], 64]}, null]}', blob)
    back = decode_answer(data)
    assert back["a"] == torch.arange(16.0).reshape(4, 4).tolist()
    assert back["b"] == [[False, True, True, True] * 4, None]  # any byte but 0 is true, as bool() reads it
    doubles = torch.arange(16, dtype=torch.float64).numpy().tobytes()
    twice = _frame(b'{"a": {"$n": ["<f8", [16], 0]}, "b": [{"$n": ["<f8", [16], 0]}]}', doubles)
    back = decode_answer(twice)
    assert back["a"] is back["b"][0] and back["a"] == list(map(float, range(16)))


def test_the_quickstarts_answer_sends_its_numbers_as_bytes() -> None:
    data = session.execute_encoded(LONG_LOOPS["quickstart"], "cpu", True)
    back = decode_answer(data)
    assert data[:1] == b"\x00" and len(data) < len(encode_json(back)) / 2.5
    assert back == session.execute(LONG_LOOPS["quickstart"], "cpu", True) | {"stats": back["stats"]}


def test_an_answer_is_measured_in_the_bytes_it_is_sent_as() -> None:
    """CJK text is three bytes a character on the wire: the size bound counts bytes."""
    r = session.execute("for i in range(3000):\n    print('梯度' * 5)", "cpu", with_graph=False)
    assert len(encode_json(r)) <= session.MAX_ANSWER_BYTES
    assert len(session._encoded({"s": "梯度"})) == len('{"s":"梯度"}'.encode())


# --- compiled code and plans -------------------------------------------------------------------------------


def test_compiled_code_is_reused_only_for_the_same_validated_tree() -> None:
    a = parse("x = 1 + 2")
    b = parse("x = 1 + 2")  # the same text, another tree: compiled again, never guessed equal
    code = compiler.compile_program(a)
    assert compiler.compile_program(a) is code
    assert compiler.compile_program(b) is not code
    assert compiler.compile_program(a, assign_hook=True) is not code


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.py")), ids=lambda p: p.stem)
def test_the_rewrite_of_a_parse_again_is_the_rewrite_of_a_copy(path: Path) -> None:
    """rewrite() parses the checked text again instead of copying the checked tree: the same guarded program,
    and the checked tree itself is left as it was."""
    tree = parse(path.read_text())
    before = ast.dump(tree, include_attributes=True)
    again = compiler.rewrite(tree)
    del tree.sb_source
    copied = compiler.rewrite(tree)
    assert ast.dump(again, include_attributes=True) == ast.dump(copied, include_attributes=True)
    assert ast.dump(tree, include_attributes=True) == before


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.py")), ids=lambda p: p.stem)
def test_the_guarded_trees_positions_are_the_standard_librarys(path: Path) -> None:
    """compiler.fix_locations gives every node the position ast.fix_missing_locations gives it."""

    def guarded() -> ast.Module:
        tree = ast.parse(path.read_text())
        tree.body = compiler._Rewriter(True)._body(tree.body)
        return tree

    ours = guarded()
    compiler.fix_locations(ours)
    theirs = ast.fix_missing_locations(guarded())
    assert ast.dump(ours, include_attributes=True) == ast.dump(theirs, include_attributes=True)


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


_LOSSES = [
    nn.MSELoss(), nn.MSELoss(reduction="sum"), nn.MSELoss(reduction="none"), nn.L1Loss(), nn.SmoothL1Loss(beta=0.5),
    nn.SmoothL1Loss(beta=0.0), nn.HuberLoss(delta=2.0), nn.BCELoss(), nn.BCEWithLogitsLoss(reduction="none"),
    nn.BCEWithLogitsLoss(pos_weight=torch.ones(3)), nn.CrossEntropyLoss(), nn.CrossEntropyLoss(reduction="none"),
    nn.CrossEntropyLoss(label_smoothing=0.1), nn.CrossEntropyLoss(weight=torch.ones(3)),
    nn.CrossEntropyLoss(ignore_index=1, reduction="sum"), nn.NLLLoss(), nn.NLLLoss(reduction="none"),
]  # fmt: skip
_LOSS_ARGS = {
    "same shape": lambda: (torch.rand(4, 3), torch.rand(4, 3)),
    "a batch of one": lambda: (torch.rand(1, 3), torch.rand(1, 3)),
    "vectors": lambda: (torch.rand(3), torch.rand(3)),
    "float64": lambda: (torch.rand(4, 3, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64)),
    "classes": lambda: (torch.randn(4, 3), torch.tensor([0, 2, 1, 1])),
    "a class off the end": lambda: (torch.randn(4, 3), torch.tensor([0, 2, 1, 7])),
    "probabilities as target": lambda: (torch.randn(4, 3), torch.rand(4, 3)),
    "images of classes": lambda: (torch.randn(2, 3, 4), torch.zeros(2, 4, dtype=torch.long)),
    "broadcast": lambda: (torch.rand(4, 3), torch.rand(3)),
    "int target": lambda: (torch.rand(4, 3), torch.ones(4, 3, dtype=torch.long)),
    "too few rows": lambda: (torch.randn(4, 3), torch.tensor([0, 1])),
    "nothing": lambda: (torch.rand(0, 3), torch.rand(0, 3)),
}


@pytest.mark.parametrize("loss", _LOSSES, ids=lambda m: repr(m)[:40])
@pytest.mark.parametrize("case", list(_LOSS_ARGS))
def test_a_loss_priced_from_its_shapes_costs_what_a_meta_run_counts(loss: nn.Module, case: str) -> None:
    """A loss call priced from its shapes costs what its meta run counts; what a meta run cannot plan (torch
    refuses the shapes) is never priced from the shapes either. (A class index off the end is data: neither
    can see it; the real run raises torch's own error.)"""
    import warnings

    from core.sandbox.interpreter import _meta_twin

    args = _LOSS_ARGS[case]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # broadcasting targets warn
        planned = guard.Budget(torch.device("cpu"))._meta("layer", lambda *m: _meta_twin(loss).forward(*m), args, {},
                                                          False)  # fmt: skip
    cost = guard.layer_cost(loss, args)
    if cost is not None:
        assert cost == planned, (loss, case)
    if planned is None:
        assert cost is None
    classes = type(loss) in (nn.CrossEntropyLoss, nn.NLLLoss)
    if (case == "classes" if classes else case in ("same shape", "float64")) and getattr(loss, "weight", None) is None \
            and getattr(loss, "pos_weight", None) is None:  # fmt: skip
        assert cost is not None, (loss, case)  # the tutorials' losses need no meta run


@pytest.mark.parametrize(
    ("a", "b"),
    [(torch.rand(5, 3), 0.5), (2, torch.rand(4)), (torch.rand(6), torch.rand(6)), (torch.rand(2, 3), torch.tensor(1.0)),
     (torch.tensor(1.0), torch.rand(3, 2)), (torch.rand(3, 1), torch.rand(1, 4)), (torch.rand(3), [1.0, 2.0, 3.0])],
    ids=["number", "number-first", "same-shape", "0-d", "0-d-first", "broadcast", "list"],
)  # fmt: skip
def test_a_comparison_is_charged_what_its_meta_plan_counts(a, b) -> None:
    """A comparison whose result has an operand's size is counted without a plan, at what the plan counts;
    one that broadcasts (or meets a list) is left to the plan."""
    from core.sandbox.guards import _sized_operand

    x = _sized_operand(a, b)
    planned = guard.Budget(torch.device("cpu"))._meta(("cmp", 0), lambda p, q: p == q, (a, b), {}, False)
    if x is None:
        assert planned is not None and (isinstance(b, list) or planned[1] > max(a.numel(), b.numel()))
    else:
        assert planned is not None and planned[1] == x.numel() * guard.ELEMENTWISE_COST


def test_moving_a_tensor_where_it_is_returns_it_and_costs_nothing() -> None:
    r = session.execute(
        "x = torch.rand(3000, 100)\ny = x.to('cpu')\nz = x.to(torch.float32)\nw = x.to(torch.device('cpu'))\n"
        "v = x.to(torch.float64)\nsame = [y is x, z is x, w is x, v is x]",
        "cpu",
        False,
    )
    assert r["ok"], r.get("error")
    assert r["variables"]["same"]["repr"] == "[True, True, True, False]" and r["variables"]["v"]["dtype"] == "float64"
    assert r["stats"]["ops"] == 5


def test_a_swapped_weight_is_priced_by_its_own_shape() -> None:
    layer = nn.Linear(5, 3)
    layer.weight = nn.Parameter(torch.rand(3000, 5))
    assert guard.layer_cost(layer, (torch.rand(7, 5),)) is None  # the bias no longer fits: planned on meta
    layer.bias = nn.Parameter(torch.rand(3000))
    nbytes, flops = guard.layer_cost(layer, (torch.rand(7, 5),))
    assert nbytes == 7 * 3000 * 4 and flops >= 2 * 7 * 5 * 3000


# --- summaries of big tensors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.rand(256, 1, 28, 28),
        lambda: torch.randn(3, 100_003, dtype=torch.float64) ** 3,
        lambda: torch.randn(50_000) * 1e-3 + 1e4,
        lambda: torch.arange(100_000, dtype=torch.int64),
        lambda: torch.rand(20_000) > 0.3,
    ],
    ids=["images", "heavy tails", "far from zero", "integers", "booleans"],
)
def test_a_summary_is_within_a_rounding_of_the_exact_mean_and_std(make) -> None:
    """Mean and std in float64, two passes: within a few units of the last digit of the exact values (fsum)."""
    from core.tensorjson import summary

    t = make()
    vals = t.double().reshape(-1).tolist()
    mean = math.fsum(vals) / len(vals)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
    got = summary(t)
    assert got["mean"] == pytest.approx(mean, rel=1e-14, abs=1e-300)
    assert got["std"] == pytest.approx(std, rel=1e-14)
    assert (got["min"], got["max"]) == (float(t.min()), float(t.max()))


def test_a_summary_of_odd_values() -> None:
    from core.tensorjson import summary

    assert summary(torch.tensor([2.5])) == {"min": 2.5, "max": 2.5, "mean": 2.5, "std": 0.0}
    assert summary(torch.empty(0)) == {"min": None, "max": None, "mean": None, "std": None}
    assert summary(torch.tensor([1.0, float("inf")]))["mean"] == "inf"
    assert summary(torch.tensor([1.0, float("nan")]))["std"] == "nan"
    assert summary(torch.tensor([3 + 4j, 0j]))["max"] == 5.0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.int64])
def test_a_summary_works_in_a_copy_of_its_own(dtype: torch.dtype) -> None:
    """The deviations are taken in place, in the summary's own float64 copy: a float64 tensor of the program's
    (which .to(float64) would hand back itself) is left as it was, and the numbers are the out-of-place ones."""
    from core.tensorjson import summary

    t = (torch.arange(5000, dtype=torch.float64).sin() * 7).to(dtype)
    before = t.clone()
    got = summary(t)
    assert torch.equal(t, before)
    x = before.double()
    mean = x.sum() / x.numel()
    d = x - mean
    assert got["mean"] == mean.item() and got["std"] == torch.sqrt((d * d).sum() / (x.numel() - 1)).item()


def test_a_leafs_gradient_held_once_stays_what_each_pass_sent() -> None:
    """A leaf's incoming gradient that the step before holds is held as that same tensor (sent once), and
    neither a later pass's accumulation into .grad nor the engine changes what each pass recorded."""
    src = (
        "w = torch.tensor([1.0, 2.0], requires_grad=True)\n(w * 3).sum().backward()\n(w.exp() * 5).sum().backward()\n"
        "x = torch.tensor([0.5], requires_grad=True)\n(x * x).sum().backward()"
    )
    r = session.execute(src, "cpu", True)
    assert r["ok"], r.get("error")
    leaf = [s for s in r["backward_steps"] if s["grad_fn"] == "AccumulateGrad"]
    w = torch.tensor([1.0, 2.0])
    assert [s["incoming"][0] for s in leaf] == [[3.0, 3.0], (w.exp() * 5).tolist(), [1.0]]
    assert r["variables"]["w"]["grad"] == (3 + w.exp() * 5).tolist() and r["variables"]["x"]["grad"] == [1.0]
    mul = next(s for s in r["backward_steps"] if s["pass"] == 0 and s["grad_fn"] == "MulBackward0")
    assert mul["outgoing"][0] == [3.0, 3.0]


def _allclose_agreement(expected: torch.Tensor, engine: torch.Tensor) -> tuple[bool, float]:
    """backward.agreement as it was: allclose, and the largest finite difference."""
    from core.backward import _tolerance

    e, g = expected.double(), engine.double()
    rtol = _tolerance(engine)
    scale = max(1.0, float(g.abs().nan_to_num(0.0, 0.0, 0.0).max()))
    ok = torch.allclose(e, g, rtol=rtol, atol=rtol * scale, equal_nan=True)
    return bool(ok), float((e - g).abs().nan_to_num(0.0, 0.0, 0.0).max())


@pytest.mark.parametrize("seed", range(40))
def test_the_agreement_check_decides_as_allclose_does(seed: int) -> None:
    from core.backward import agreement

    gen = torch.Generator().manual_seed(seed)
    dtype = (torch.float32, torch.float64, torch.float16)[seed % 3]
    shape = ((3,), (4, 5), (64, 7))[seed % 3 if seed < 30 else 1]
    engine = (torch.randn(shape, generator=gen) * 10 ** (seed % 5 - 2)).to(dtype)
    # off by about the tolerance: some agree, some do not, some sit on the boundary
    off = torch.randn(shape, generator=gen, dtype=torch.float64) * (1e-9, 1e-4, 1e-2)[seed % 3] * (seed % 4) / 2
    expected = engine.double() * (1 + off)
    if seed >= 20:  # NaN and infinities, in one or both
        flat_e, flat_g = expected.view(-1), engine.view(-1)
        k = seed % 4
        flat_g[0] = (float("nan"), float("inf"), -float("inf"), float("nan"))[k]
        flat_e[0] = (float("nan"), float("inf"), float("inf"), 1.0)[k]
    assert agreement(expected, engine) == _allclose_agreement(expected, engine)
    assert agreement(engine.double(), engine) == (True, 0.0)


_FACTORY_CALLS = {  # call: whether it is plain (priced without a meta run)
    "rand(3, 4)": (torch.rand, (3, 4), {}, True),
    "rand((3, 4))": (torch.rand, ((3, 4),), {}, True),
    "rand([2, 3, 4])": (torch.rand, ([2, 3, 4],), {}, True),
    "rand(Size)": (torch.rand, (torch.Size([5]),), {}, True),
    "rand(())": (torch.rand, ((),), {}, True),
    "rand()": (torch.rand, (), {}, False),
    "rand(0, 7)": (torch.rand, (0, 7), {}, True),
    "rand float64": (torch.rand, (3,), {"dtype": torch.float64}, True),
    "rand int64": (torch.rand, (3,), {"dtype": torch.int64}, False),
    "rand complex64": (torch.rand, (3,), {"dtype": torch.complex64}, True),
    "rand float16, requires_grad": (torch.rand, (3,), {"dtype": torch.float16, "requires_grad": True}, True),
    "randn generator": (torch.randn, (2, 2), {"generator": torch.Generator()}, True),
    "randn device": (torch.randn, (2, 2), {"device": "cpu"}, True),
    "randn(-1, 2)": (torch.randn, (-1, 2), {}, False),
    "randn(2.0, 2)": (torch.randn, (2.0, 2), {}, False),
    "randn(True, 2)": (torch.randn, (True, 2), {}, False),
    "randn out": (torch.randn, (2, 2), {"out": torch.empty(4)}, False),
    "randn layout": (torch.randn, (2, 2), {"layout": torch.strided}, False),
    "zeros bool": (torch.zeros, (4, 5), {"dtype": torch.bool}, True),
    "zeros int8": (torch.zeros, (4,), {"dtype": torch.int8}, True),
    "ones beyond the element limit": (torch.ones, (10_000_001,), {}, False),
    "ones overflowing": (torch.ones, (2**62, 2**62), {}, False),
    "ones of 40 dimensions": (torch.ones, (1,) * 40, {}, False),
    "empty uint8": (torch.empty, (3, 3), {"dtype": torch.uint8}, True),
    "empty dtype as text": (torch.empty, ((3, 3),), {"dtype": "float"}, False),
    "randint(10, (5,))": (torch.randint, (10, (5,)), {}, True),
    "randint(0, 10, (256,))": (torch.randint, (0, 10, (256,)), {}, True),
    "randint(-5, 5, [2, 3])": (torch.randint, (-5, 5, [2, 3]), {}, True),
    "randint(5, 5)": (torch.randint, (5, 5, (2,)), {}, False),
    "randint float32": (torch.randint, (0, 10, (3,)), {"dtype": torch.float32}, True),
    "randint uint8 beyond": (torch.randint, (0, 300, (3,)), {"dtype": torch.uint8}, False),
    "randint uint8": (torch.randint, (0, 256, (3,)), {"dtype": torch.uint8}, True),
    "randint float32 beyond": (torch.randint, (0, 2**30, (3,)), {"dtype": torch.float32}, False),
    "randint bool": (torch.randint, (0, 2, (3,)), {"dtype": torch.bool}, False),
    "randint size not a tuple": (torch.randint, (0, 10, 3), {}, False),
    "randint size=": (torch.randint, (0, 10), {"size": (3,)}, False),
    "randint(0.5, 10)": (torch.randint, (0.5, 10, (3,)), {}, False),
    "randint int16": (torch.randint, (0, 10, (3,)), {"dtype": torch.int16, "generator": torch.Generator()}, True),
    "arange": (torch.arange, (10,), {}, False),
    "full": (torch.full, ((2, 2), 3.0), {}, False),
}  # fmt: skip


@pytest.mark.parametrize("case", list(_FACTORY_CALLS))
def test_a_factory_priced_from_its_sizes_costs_what_a_meta_run_counts(case: str) -> None:
    """torch.rand(3, 4) and its kin cost what their meta run counts; whatever a meta run cannot plan, or stops
    (too many numbers, too many dimensions), is never priced from the sizes (nor some it plans that torch
    refuses when it runs: rand of integers, randint beyond its dtype)."""
    fn, args, kwargs, plain = _FACTORY_CALLS[case]
    try:
        planned = guard.Budget(torch.device("cpu"))._meta(fn, fn, args, kwargs, False)
    except session.SandboxError:
        planned = None
    cost = guard.factory_cost(fn, args, kwargs)
    assert (cost is not None) == plain
    if cost is not None:
        assert cost == planned


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.py")), ids=lambda p: p.stem)
@pytest.mark.parametrize("hook", [False, True])
def test_the_rewriters_own_walk_is_the_node_transformers(path: Path, hook: bool, monkeypatch) -> None:
    """_Rewriter.visit / generic_visit walk as ast.NodeTransformer's do: the same guarded tree."""
    tree = parse(path.read_text())
    ours = ast.dump(compiler.rewrite(tree, hook), include_attributes=True)
    monkeypatch.setattr(compiler._Rewriter, "visit", ast.NodeTransformer.visit)
    monkeypatch.setattr(compiler._Rewriter, "generic_visit", ast.NodeTransformer.generic_visit)
    assert ours == ast.dump(compiler.rewrite(tree, hook), include_attributes=True)


def test_the_forkservers_heap_is_frozen_for_its_workers() -> None:
    """preload.settle (the forkserver, before its first fork): torch's objects frozen, out of the workers' cycle
    collections, and the youngest collection every GC_YOUNG objects."""
    import subprocess
    import sys

    code = (
        "import gc, core.sandbox.preload as p\n"
        "before = gc.get_freeze_count()\np.settle()\n"
        "print(before, gc.get_freeze_count() > 100_000, gc.get_threshold()[0] == p.GC_YOUNG)"
    )
    root = Path(__file__).resolve().parents[1]
    run = [sys.executable, "-c", code]
    out = subprocess.run(run, cwd=root, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["0", "True", "True"]
