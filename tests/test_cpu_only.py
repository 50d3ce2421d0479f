"""CPU-only server paths: clear messages instead of crashes when a GPU is asked for."""

from __future__ import annotations

import pytest
import torch

from core import sandbox

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")


def test_devices_is_cpu_only():
    assert sandbox.devices() == [{"name": "cpu", "label": "CPU"}]


def test_cuda_device_refused_clearly():
    r = sandbox.run_program("x = torch.ones(2)", device="cuda")
    assert not r["ok"] and r["error"]["kind"] == "runtime" and "no GPU" in r["error"]["message"]


def test_dot_cuda_explained():
    r = sandbox.run_program("x = torch.ones(2)\ny = x.cuda()")
    assert not r["ok"] and r["error"]["line"] == 2 and "no GPU" in r["error"]["message"]
    assert r["variables"]["x"]["value"] == [1.0, 1.0]  # what ran before the error is still shown


def test_timing_panel_reports_cpu_only():
    r = sandbox.matmul_timing(128, "cpu", repeats=2)
    assert r["ok"] and r["cpu_ms"] > 0 and r["gpu_ms"] is None
