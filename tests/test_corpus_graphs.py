"""Issue 8's end: the quickstart model and a custom autograd Function draw their graphs and step backward,
the Function's node showing the program's own backward() as its rule."""

from __future__ import annotations

from pathlib import Path

import torch

from core import render
from core.sandbox.session import execute

CORPUS = Path(__file__).resolve().parent / "corpus"


def _last_pass(r: dict) -> list[dict]:
    last = r["backward_passes"][-1]
    return r["backward_steps"][last["start"] : last["start"] + last["count"]]


def test_quickstart_draws_and_steps_its_last_backward_pass() -> None:
    r = execute((CORPUS / "01_quickstart.py").read_text(), "cpu", with_graph=True)
    assert r["ok"], r.get("error")
    steps = _last_pass(r)
    names = [s["grad_fn"] for s in steps]
    assert names[0] == "NllLossBackward0" and "AddmmBackward0" in names and names.count("AccumulateGrad") == 6
    ids = {n["id"] for n in r["graph"]["nodes"]}
    assert all(s["node"] in ids for s in steps), "every step points at a drawn node"
    svg = render.to_svg(render.to_dot(r["graph"]))
    assert svg is None or "<svg" in svg
    addmm = next(n for n in r["graph"]["nodes"] if n["grad_fn"] == "AddmmBackward0")
    assert addmm["value"] is not None or addmm.get("summary"), "a layer's output carries its forward value"


def test_custom_function_node_shows_the_programs_backward() -> None:
    src = (CORPUS / "13_legendre_function.py").read_text()
    r = execute(src, "cpu", with_graph=True)
    assert r["ok"], r.get("error")
    own = [s for s in _last_pass(r) if s["grad_fn"] == "LegendrePolynomial3Backward"]
    assert own and own[0]["rule"]["own"] and "def backward(ctx, grad_output)" in own[0]["rule"]["formula"]
    # the gradient the step sent is what PyTorch computes for 1.5 * (5 x^2 - 1) at the probe
    probe = torch.tensor(r["variables"]["probe"]["value"])
    assert own[0]["outgoing"][0] == (1.5 * (5 * probe**2 - 1)).tolist()


def test_a_loop_too_slow_to_run_twice_still_lists_its_passes(monkeypatch) -> None:
    """No second run for the graph: the passes are still listed (each can be opened with detail_pass)."""
    from core.sandbox import session

    monkeypatch.setattr(session, "WALL_TIMEOUT_S", 0.0)
    monkeypatch.setattr(session, "ROLLING_BELOW", float("-inf"))  # a second run, not rolling, records its last
    monkeypatch.setattr(session, "FORESIGHTS", 0)  # ... nor a foreseen last pass
    src = "w = torch.tensor([1.0], requires_grad=True)\nfor i in range(12):\n    (w * i).sum().backward()"
    r = session.execute(src, "cpu", with_graph=True)
    assert r["ok"] and "too slow" in r["backward_note"]
    assert [p["index"] for p in r["backward_passes"]] == list(range(12))
    assert not any(p["recorded"] for p in r["backward_passes"])
    one = session.execute(src, "cpu", with_graph=True, detail_pass=5)
    assert one["ok"] and [p["index"] for p in one["backward_passes"] if p["recorded"]] == [5]
