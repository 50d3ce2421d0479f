"""core/numfmt.py against torch: every text reads back as the same number in its dtype, in the fewest digits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.numfmt import fmt_cells, fmt_number, fmt_tensor, round_to

DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16}


def _json(t: torch.Tensor):
    """What the worker sends: tolist() of the tensor (float64 Python floats)."""
    return t.tolist()


def test_the_issue_examples():
    assert fmt_number(_json(torch.tensor(3.14159)), "float32") == "3.14159"  # not 3.141590118408203
    tiny = _json(torch.tensor(1.4e-45))
    assert tiny != 0 and fmt_number(tiny, "float32") == "1e-45"  # never 000000
    assert float(fmt_number(tiny, "float32")) != 0
    assert fmt_tensor(_json(torch.tensor([2.0, 4.0])), "float32", [2]) == "[2.0, 4.0]"  # a float keeps its point
    assert fmt_tensor(_json(torch.tensor([1.9538192749023438])), "float32", [1]) == "[1.9538193]"
    assert fmt_tensor(_json(torch.tensor([True, False])), "bool", [2]) == "[True, False]"
    assert fmt_cells(_json(torch.tensor([[True], [False]])), "bool") == [["True"], ["False"]]


def test_kinds():
    assert fmt_number(7, "int64") == "7" and fmt_number(-3) == "-3"
    assert fmt_number(7.0) == "7.0" and fmt_number(0.1) == "0.1" and fmt_number(0.1 + 0.2) == "0.30000000000000004"
    assert fmt_number("nan", "float32") == "nan" and fmt_number("-inf") == "-inf" and fmt_number(math.inf) == "inf"
    assert fmt_number(-0.0) == "-0.0"
    assert fmt_number(_json(torch.tensor(3.4028234663852886e38)), "float32") == "3.4028235e+38"
    assert fmt_number(1e20, "float64") == "1e+20" and fmt_number(2.5e-7, "float64") == "2.5e-07"
    assert fmt_number(65504.0, "float16") == "65504.0"
    assert fmt_number([1.5, -2.0], "complex64") == "1.5-2.0j" and fmt_number([0.0, 1.0], "complex128") == "0.0+1.0j"
    assert fmt_number(np.float32(0.1)) == "0.10000000149011612"  # a numpy float32 given as float64 is exact
    assert fmt_number(0.123456, "float64", digits=3) == "0.123"
    assert fmt_tensor(_json(torch.ones(2, 2)), "float32", [2, 2]) == "[[1.0, 1.0],\n [1.0, 1.0]]"
    assert fmt_tensor(5.0, "float32", []) == "5.0"


@pytest.mark.parametrize("name", list(DTYPES))
def test_random_values_read_back_the_same_in_their_dtype(name):
    g = torch.Generator().manual_seed(12)
    dt = DTYPES[name]
    parts = [
        torch.randn(400, generator=g, dtype=torch.float64),
        torch.randn(200, generator=g, dtype=torch.float64) * 1e-6,
        torch.randn(200, generator=g, dtype=torch.float64) * 1e6,
        torch.rand(100, generator=g, dtype=torch.float64) * 1e30 if name != "float16" else torch.rand(100) * 6e4,
        torch.tensor([0.0, -0.0, 1.0, -1.0, 0.5, 1 / 3]),
    ]
    x = torch.cat(parts).to(dt)
    info = torch.finfo(dt)
    x = torch.cat([x, torch.tensor([info.tiny, info.max, info.min, info.eps, info.smallest_normal], dtype=dt)])
    if name != "bfloat16":  # bfloat16's subnormals: covered by the float32 case's bit pattern
        x = torch.cat([x, torch.tensor([info.tiny / 4], dtype=dt)])
    for value, as_json in zip(x, _json(x)):
        text = fmt_number(as_json, name)
        back = torch.tensor(float(text), dtype=torch.float64).to(dt)
        assert back.item() == value.item() or (math.isnan(back.item()) and math.isnan(value.item())), (text, value)
        assert "." in text or "e" in text or text in ("nan", "inf", "-inf"), text
        if name == "float64":
            assert text == repr(as_json)


@pytest.mark.parametrize("name", ["float32", "float16", "bfloat16"])
def test_fewest_digits(name):
    """One digit fewer would not read back: the text is the shortest (for non-integers)."""
    g = torch.Generator().manual_seed(3)
    x = (torch.randn(300, generator=g) * 10).to(DTYPES[name])
    for as_json in _json(x):
        text = fmt_number(as_json, name)
        if float(text).is_integer():
            continue
        mantissa = text.split("e")[0].replace("-", "").replace(".", "").lstrip("0")
        p = len(mantissa)
        if p > 1:
            shorter = float(f"{as_json:.{p - 2}e}")
            assert round_to(shorter, name) != as_json, (text, shorter)


def test_round_to_matches_torch():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2000, generator=g, dtype=torch.float64) * 100
    for name in ("float32", "float16", "bfloat16"):
        want = x.to(DTYPES[name]).to(torch.float64).tolist()
        assert [round_to(v, name) for v in x.tolist()] == want, name
