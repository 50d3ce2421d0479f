"""Divergence: say in words why the loss or a gradient stopped being a finite number, and what to try instead."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from core.messages import Message
from core.numfmt import fmt_number

GROWTH = 10.0  # the loss is called "growing" when the last finite value is this many times its best value


@dataclass(frozen=True)
class Divergence:
    """Where training stopped (the step that was not taken), what was not finite, and the explanation."""

    step: int
    what: str  # "loss" | "grad"
    layer: str | None
    value: float
    message: Message
    suggested_lr: float | None


def suggest_lr(lr: float, losses: Sequence[float]) -> float:
    """A learning rate that should not overshoot, rounded down to one significant digit.

    Near a minimum, gradient descent multiplies the loss by (1 - lr * c)^2 per step, c being the curvature.
    A growth ratio r between the last two losses gives c ~ (1 + sqrt(r)) / lr, and lr = 1 / c lands on the
    minimum in one step. Without a usable ratio, a tenth of `lr`.
    """
    target = lr / 10
    if len(losses) >= 2 and losses[-2] > 0 and losses[-1] > losses[-2]:
        target = min(lr / 2, lr / (1 + math.sqrt(losses[-1] / losses[-2])))
    exponent = math.floor(math.log10(target))
    return round(math.floor(target / 10**exponent) * 10**exponent, max(0, -exponent))


def _kind(value: float) -> str:
    return "NaN" if math.isnan(value) else "Inf"


def diagnose(
    step: int, loss: float, layer_grad_norms: dict[str, float], losses: Sequence[float], lr: float, data_finite: bool
) -> Divergence:
    """Explain a non-finite loss (or gradient) met at `step`, given the finite losses recorded before it."""
    bad_layer = next((name for name, n in layer_grad_norms.items() if not math.isfinite(n)), None)
    grad = layer_grad_norms[bad_layer] if bad_layer is not None else math.nan
    what, value = ("loss", loss) if not math.isfinite(loss) else ("grad", grad)
    where = {"step": step, "kind": _kind(value), "layer": bad_layer or ""}
    if not data_finite:
        return Divergence(step, what, bad_layer, value, Message("tr_div_data", where), None)
    if not losses:
        return Divergence(step, what, bad_layer, value, Message("tr_div_initial", where), None)
    best, last = min(losses), losses[-1]
    suggestion = suggest_lr(lr, losses)
    recent = losses[-50:]
    args = {
        **where,
        "lr": f"{lr:g}",  # a setting as the user typed it (50, not 50.0)
        "suggest": f"{suggestion:g}",
        "best": fmt_number(best, "float32", digits=3),
        "last": fmt_number(last, "float32", digits=3),
        "n": len(recent),
    }
    if what == "loss" or last > GROWTH * best:
        return Divergence(step, what, bad_layer, value, Message("tr_div_lr", args), suggestion)
    return Divergence(step, what, bad_layer, value, Message("tr_div_grad", args), suggestion)
