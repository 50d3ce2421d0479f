"""GPU paths (skipped without CUDA): programs on cuda give the CPU's numbers; the timing panel times both."""

from __future__ import annotations

import pytest
import torch

from core import sandbox
from core.examples import GRAPH, by_key

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


def test_devices_lists_cuda_by_name():
    names = [d["name"] for d in sandbox.devices()]
    assert names[0] == "cpu" and "cuda:0" in names


@pytest.mark.parametrize("key", ["seed004", "mlp", "linreg_step", "higher_order"])
def test_same_grads_on_gpu(key):
    code = by_key(GRAPH, key).code
    cpu = sandbox.run_program(code, device="cpu")
    gpu = sandbox.run_program(code, device="cuda:0")
    assert cpu["ok"] and gpu["ok"], gpu.get("error")
    for name, v in cpu["variables"].items():
        if v.get("type") != "tensor":
            continue
        g = gpu["variables"][name]
        assert g["device"].startswith("cuda")
        for field in ("value", "grad"):
            if v.get(field) is not None:
                torch.testing.assert_close(torch.tensor(g[field]), torch.tensor(v[field]), rtol=1e-4, atol=1e-5)
    assert [s["name"] for s in cpu["backward_steps"]] == [s["name"] for s in gpu["backward_steps"]]


def test_cuda_method_works_on_gpu():
    r = sandbox.run_program("x = torch.ones(2).cuda()\ny = x * 2", device="cpu")
    assert r["ok"] and r["variables"]["y"]["device"] == "cuda:0"


def test_timing_panel_times_both():
    r = sandbox.matmul_timing(512, "cuda:0")
    assert r["ok"] and r["gpu_ms"] > 0 and r["cpu_ms"] > 0 and r["gpu_name"]


@pytest.mark.parametrize("name", ["01_quickstart", "21_devices", "13_legendre_function"])
def test_tutorial_programs_run_on_the_gpu(name):
    from pathlib import Path

    src = (Path(__file__).parent / "corpus" / f"{name}.py").read_text()
    gpu = sandbox.run_program(src, device="cuda:0")
    assert gpu["ok"], gpu.get("error")
    devices = {v["device"] for v in gpu["variables"].values() if v.get("type") == "tensor"}
    assert any(d.startswith("cuda") for d in devices)
