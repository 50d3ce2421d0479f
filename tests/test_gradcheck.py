"""The float64 finite-difference check of every leaf, and the process state it leaves behind."""

from __future__ import annotations

import torch

from core.sandbox.gradcheck import check_program
from tests.seed_programs import SEED_004


def test_seed004_passes_and_reports_autograd_numbers():
    r = check_program(SEED_004)
    assert r["ok"] and r["passed"]
    by_name = {e["name"]: e for e in r["leaves"]}
    assert by_name["a"]["autograd"] == [36.0, 144.0] and by_name["b"]["autograd"] == [-14.0, -10.0]
    assert all(e["max_abs_error"] < 1e-6 for e in r["leaves"])


def test_module_parameters_are_checked():
    src = "x = torch.randn(5, 3)\nm = nn.Linear(3, 2)\nloss = (torch.tanh(m(x)) ** 2).mean()\nloss.backward()"
    r = check_program(src)
    assert r["ok"] and r["passed"]
    assert {e["name"] for e in r["leaves"]} == {"m.weight", "m.bias"}


def test_a_kink_disagrees_with_finite_differences():
    # relu at 0: autograd takes the left slope 0, the central difference sees (relu(e) - relu(-e)) / 2e = 0.5
    r = check_program("x = torch.tensor([0.0, 1.0], requires_grad=True)\ny = torch.relu(x).sum()\ny.backward()")
    assert r["ok"] and not r["passed"]
    leaf = r["leaves"][0]
    assert leaf["autograd"] == [0.0, 1.0]
    assert abs(leaf["numeric"][0] - 0.5) < 1e-6 and abs(leaf["numeric"][1] - 1.0) < 1e-6


def test_no_backward_is_a_clear_error_and_state_is_restored():
    r = check_program("torch.set_grad_enabled(False)\nx = torch.ones(2)")
    assert not r["ok"] and "backward" in r["error"]["message"]
    assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32
