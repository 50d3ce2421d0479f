"""Finite-difference check, in float64, of every leaf's gradient at a program's first backward call."""

from __future__ import annotations

import ast
from typing import Any

import torch

from core.sandbox.errors import SandboxError
from core.sandbox.interpreter import Interpreter, StopProgram
from core.sandbox.session import program_context, resolve_device
from core.sandbox.validate import parse

EPS = 1e-6  # central-difference step in float64: error ~ EPS^2 * f''' + rounding ~ 1e-16 / EPS
ATOL, RTOL = 1e-5, 1e-4  # float64 central differences agree with autograd to far better than this on smooth ops
MAX_CHECKED_ELEMENTS = 64  # per program: each element costs two more runs of the program


class _Stop(StopProgram):
    """Raised at the first backward call: the program's work for the check is done."""

    def __init__(self, f: torch.Tensor) -> None:
        super().__init__("stop")
        self.f = f


def _leaf_tensors(name: str, value: Any) -> list[tuple[str, torch.Tensor]]:
    if isinstance(value, torch.Tensor):
        return [(name, value)] if value.is_leaf and value.requires_grad else []
    if isinstance(value, torch.nn.Module):
        return [(f"{name}.{p}", t) for p, t in value.named_parameters() if t.requires_grad]
    return []


def _run(tree: ast.Module, dev: torch.device, nudge: tuple[int, int, float] | None):
    """Run the program in float64 up to its first backward; returns (leaves, f) with f = sum(root * grad_output)."""
    leaves: list[tuple[str, torch.Tensor]] = []
    seen: set[int] = set()

    def on_assign(name: str, value: Any) -> None:
        for label, t in _leaf_tensors(name, value):
            if id(t) in seen:
                continue
            seen.add(id(t))
            if nudge is not None and nudge[0] == len(leaves):
                with torch.no_grad():
                    t.view(-1)[nudge[1]] += nudge[2]
            leaves.append((label, t))

    def on_backward(kind: str, roots: list[torch.Tensor], grad_outputs: list[Any], call: Any) -> Any:
        f = torch.zeros((), dtype=torch.float64, device=dev)
        for root, g in zip(roots, grad_outputs):
            if not root.requires_grad:
                continue
            term = root if g is None else root * g
            f = f + term.sum().to(torch.float64)
        raise _Stop(f)

    interp = Interpreter(on_backward=on_backward, on_assign=on_assign)
    try:
        with program_context(dev, torch.float64):
            interp.run(tree)  # the run that raises _Stop is the normal end
    except _Stop as stop:
        return leaves, stop.f
    raise SandboxError("runtime", "the program never calls .backward(), so there is no gradient to check")


def _checked_indices(sizes: list[int]) -> list[list[int]]:
    """Which flat elements of each leaf to check: all of them while the total fits, evenly spaced otherwise."""
    total = sum(sizes)
    if total <= MAX_CHECKED_ELEMENTS:
        return [list(range(n)) for n in sizes]
    out = []
    for n in sizes:
        k = max(1, round(MAX_CHECKED_ELEMENTS * n / total))
        out.append(sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)}))
    return out


def check_program(source: str, device: str = "cpu") -> dict[str, Any]:
    """{'ok', 'passed', 'leaves': [{'name', 'shape', 'checked', 'max_abs_error', 'max_rel_error', 'passed',
    'autograd': [...], 'numeric': [...], 'indices': [...]}], 'eps', 'atol', 'rtol'}."""
    try:
        tree = parse(source)
        dev = resolve_device(device)
        leaves, f = _run(tree, dev, None)
        if not f.requires_grad:
            raise SandboxError("runtime", "the backward root does not depend on any leaf that requires grad")
        tensors = [t for _, t in leaves]
        grads = torch.autograd.grad(f, tensors, allow_unused=True)
        report = []
        for (k, (name, t)), idx in zip(enumerate(leaves), _checked_indices([t.numel() for t in tensors])):
            g = grads[k]
            entry: dict[str, Any] = {"name": name, "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
            if g is None:
                entry.update(passed=True, unused=True, checked=0)
                report.append(entry)
                continue
            auto = g.reshape(-1).detach().to("cpu", torch.float64)
            numeric = []
            for i in idx:
                _, f_plus = _run(tree, dev, (k, i, EPS))
                _, f_minus = _run(tree, dev, (k, i, -EPS))
                numeric.append(((f_plus - f_minus) / (2 * EPS)).item())
            chosen = auto[idx]
            num = torch.tensor(numeric, dtype=torch.float64)
            abs_err = (chosen - num).abs()
            rel_err = abs_err / num.abs().clamp_min(1e-12)
            passed = bool(torch.all(abs_err <= ATOL + RTOL * num.abs()))
            entry.update(
                passed=passed, unused=False, checked=len(idx), of=t.numel(), indices=idx,
                autograd=chosen.tolist(), numeric=numeric,
                max_abs_error=abs_err.max().item(), max_rel_error=rel_err.max().item(),
                low_precision=t.dtype != torch.float64,
            )  # fmt: skip
            report.append(entry)
        return {"ok": True, "passed": all(e["passed"] for e in report), "leaves": report,
                "eps": EPS, "atol": ATOL, "rtol": RTOL}
    except SandboxError as e:
        return {"ok": False, "error": e.to_json()}
