"""Every example of the playground and every preset of the Graph Explorer (core/examples.py) runs on CPU.

Through `core.sandbox.session.execute`, as a worker runs them, with the graph when the page draws one. The
pitfall presets are meant to fail: each must fail as a runtime error that core/pitfalls.py explains; the devices
example's `.cuda()` fails with a clear message on a CPU-only machine.
"""

from __future__ import annotations

import pytest
import torch

from core.examples import GRAPH, PLAYGROUND, Example
from core.pitfalls import explain
from core.sandbox.session import execute

CUDA_LINE = "y = x.cuda()           # fails with a clear message on a CPU-only server"
FAILS_ON_PURPOSE = {"pitfall_twice", "pitfall_inplace"}  # the error is the lesson
ROWS = [("playground", e, False) for e in PLAYGROUND] + [("graph", e, True) for e in GRAPH]


@pytest.mark.parametrize(("page", "example", "with_graph"), ROWS, ids=[f"{p}-{e.key}" for p, e, _ in ROWS])
def test_example_runs_on_cpu(page: str, example: Example, with_graph: bool) -> None:
    result = execute(example.code, device="cpu", with_graph=with_graph)
    if example.key == "device" and not torch.cuda.is_available():  # .cuda() on a CPU-only server: a clear message
        assert not result["ok"] and "no GPU" in result["error"]["message"], result
        assert result["error"]["line"] == example.code.splitlines().index(CUDA_LINE) + 1
        return
    if example.key in FAILS_ON_PURPOSE:
        assert not result["ok"] and result["error"]["kind"] == "runtime", result
        assert explain(result["error"]["message"]) is not None, result["error"]["message"]
        return
    assert result["ok"], result.get("error")
    assert result["variables"], "an example leaves something to look at"
    if with_graph and any(v.get("requires_grad") for v in result["variables"].values()):
        assert result["graph"]["nodes"], "a preset with gradients draws a graph"


def test_keys_are_unique_and_titled() -> None:
    for examples in (PLAYGROUND, GRAPH):
        assert len({e.key for e in examples}) == len(examples)
        assert all(e.en and e.zh and e.code for e in examples)
    assert FAILS_ON_PURPOSE <= {e.key for e in GRAPH}
