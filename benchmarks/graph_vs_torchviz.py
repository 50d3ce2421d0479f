"""Graph build + DOT source: core.graph (carrying values, grads, saved) against torchviz.make_dot, same run."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: the repo's core/

from core import graph, render  # noqa: E402
from core.backward import BackwardRecorder  # noqa: E402

warnings.filterwarnings("ignore")  # torchviz imports distutils.LooseVersion


class CaptureValues(TorchFunctionMode):
    """Forward values per autograd node, as the sandbox's tracer records them."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[Any, torch.Tensor] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor) and t.grad_fn is not None and t.output_nr == 0:
                self.values.setdefault(t.grad_fn, t.detach().clone())
        return out


Case = tuple[torch.Tensor, dict[str, torch.Tensor], dict[Any, torch.Tensor]]  # root, names, forward values


def mlp(layers: int, width: int = 32) -> Case:
    torch.manual_seed(0)
    mods: list[torch.nn.Module] = []
    for _ in range(layers):
        mods += [torch.nn.Linear(width, width), torch.nn.ReLU()]
    model = torch.nn.Sequential(*mods)
    with CaptureValues() as cap:
        loss = model(torch.randn(16, width)).pow(2).mean()
    return loss, dict(model.named_parameters()), cap.values


def chain(n: int) -> Case:
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y, {"x": x}, {}


def paired_medians(fns: list[Callable[[], Any]], repeats: int) -> list[float]:
    """Median seconds of each function, run alternately so both see the same machine load."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) for ts in times]


def run_case(title: str, made: Case, repeats: int) -> str:
    """One table row: build + DOT times for ours and torchviz, the budgeted drawing and its dot layout."""
    from torchviz import make_dot

    root, params, values = made
    rec = BackwardRecorder(root)
    root.backward(torch.ones_like(root), retain_graph=True)
    rec.remove()

    def ours() -> str:
        return graph.build(root, names=params, values=values, grads=rec.grads, saved=rec.saved).to_dot()

    try:
        t_ours, t_tv = paired_medians([ours, lambda: make_dot(root, params=params).source], repeats)
        tv, ratio = f"{t_tv * 1e3:.2f}", f"{t_ours / t_tv:.2f}x"
    except RecursionError:
        (t_ours,) = paired_medians([ours], repeats)
        tv, ratio = "fails", "-"
    g = graph.build(root, names=params, values=values, grads=rec.grads, saved=rec.saved)
    dot = g.to_dot()
    t0 = time.perf_counter()
    svg = render.to_svg(dot)
    svg_ms = f"{(time.perf_counter() - t0) * 1e3:.0f}" if svg is not None else "no dot"
    drawn = dot.count("label=<")
    return f"{title:<16}{len(g):>8}{t_ours * 1e3:>10.2f}{tv:>13}{ratio:>8}{drawn:>7}{svg_ms:>14}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=31)
    args = ap.parse_args()
    cases = [
        ("MLP 10 layers", lambda: mlp(10), args.repeats),
        ("MLP 100 layers", lambda: mlp(100), args.repeats),
        ("chain 300 ops", lambda: chain(300), args.repeats),
        ("chain 10k ops", lambda: chain(10_000), 3),
        ("chain 100k ops", lambda: chain(100_000), 3),
    ]
    print(f"torch {torch.__version__}; median of {args.repeats} alternating repeats; DOT source only (no layout)")
    head = f"{'model':<16}{'nodes':>8}{'ours ms':>10}{'torchviz ms':>13}{'ratio':>8}{'drawn':>7}{'dot -Tsvg ms':>14}"
    print(head)
    print("-" * len(head))
    for title, make, repeats in cases:
        print(run_case(title, make(), repeats))
    print("goal: ratio <= 0.5x on the MLPs and the 300-op chain; dot -Tsvg under 1000 ms")


if __name__ == "__main__":
    main()
