"""`python -m core train` and `python -m core presets`: train a preset headless and print one result."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from core.i18n import t
from core.limits import MAX_TRAIN_STEPS
from core.numfmt import fmt_number, fmt_tensor
from core.tensorjson import finite_or_str
from core.training.models import n_parameters
from core.training.presets import PRESETS
from core.training.trainer import Trainer, create

CIFAR_ENV = "AUTOGRAD_CIFAR10_DIR"  # the CLI's folder for the cifar10 preset (the page asks for it instead)
MAX_PARAMS_SHOWN = 16  # `params` is printed for models this small (the seeds' a, b and nn.Linear(1, 1))


def _jsonable(obj: Any) -> Any:
    """JSON has no NaN/Inf: non-finite floats become 'nan', 'inf', '-inf', as core.tensorjson writes them."""
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return finite_or_str(obj)


def _fail(fmt: str, kind: str, message: str) -> int:
    if fmt == "json":
        print(json.dumps({"ok": False, "error": {"kind": kind, "message": message}}))
    else:
        print(f"error ({kind}): {message}", file=sys.stderr)
    return 2


def summary(trainer: Trainer) -> dict[str, Any]:
    """The result object of a training run (the `train --format json` contract in DESIGN.md)."""
    ev = trainer.evaluate(train=True)
    out: dict[str, Any] = {
        "ok": True,
        "preset": trainer.preset.name,
        "steps": trainer.step,
        "epochs": trainer.epoch,
        "seed": trainer.values["seed"],
        "device": str(trainer.device),
        "train_loss": ev.train_loss,
        "last_step_loss": trainer.history.loss[-1] if trainer.history.loss else None,
    }
    if ev.test_loss is not None:
        out["test_loss"] = ev.test_loss
    if trainer.data.task == "classification":
        out["accuracy"] = ev.accuracy
        out["train_accuracy"] = ev.train_accuracy
        out["per_class_accuracy"] = ev.per_class
    if n_parameters(trainer.model) <= MAX_PARAMS_SHOWN:
        out["params"] = trainer.params()
    if trainer.preset.predict_x is not None:
        out["predict_x"] = trainer.preset.predict_x
        out["prediction"] = trainer.predict([trainer.preset.predict_x])
    d = trainer.divergence
    out["diverged"] = (
        None
        if d is None
        else {"step": d.step, "what": d.what, "message": d.message.text("en"), "suggested_lr": d.suggested_lr}
    )
    return _jsonable(out)


def _text(result: dict[str, Any]) -> str:
    def num(v: Any) -> str:  # the Trainer's models, losses and parameters are float32
        return fmt_tensor(v, "float32") if isinstance(v, float | list) and not isinstance(v, bool) else str(v)

    lines = [
        f"preset {result['preset']}: {result['steps']} steps, {result['epochs']} epochs on {result['device']}",
        f"train loss {num(result['train_loss'])}"
        + (f", test loss {num(result['test_loss'])}" if "test_loss" in result else ""),
    ]
    if "accuracy" in result:
        lines.append(f"test accuracy {num(result['accuracy'])} (train {num(result['train_accuracy'])})")
    if "params" in result:
        lines.append("params: " + ", ".join(f"{k} = {num(v)}" for k, v in result["params"].items()))
    if "prediction" in result:
        lines.append(f"prediction at x = {fmt_number(result['predict_x'])}: {num(result['prediction'])}")
    if result["diverged"]:
        lines.append(f"diverged: {result['diverged']['message']}")
    return "\n".join(lines)


def train_command(preset: str, steps: int | None, seed: int, fmt: str, device: str = "cpu") -> int:
    """Train `preset` for `steps` (its default when None) and print the result as JSON or text; 2 on user error."""
    p = PRESETS.get(preset)
    if p is None:
        return _fail(fmt, "runtime", f"unknown preset {preset!r}; known presets: {', '.join(PRESETS)}")
    if steps is not None and not 1 <= steps <= MAX_TRAIN_STEPS:
        return _fail(fmt, "limit", f"--steps must be between 1 and {MAX_TRAIN_STEPS}, got {steps}")
    raw: dict[str, Any] = {"seed": seed}
    if steps is not None:
        raw["steps"] = steps
    if "folder" in p.names():
        raw["folder"] = os.environ.get(CIFAR_ENV, "")
    values, problems = p.parse(raw)
    if problems:
        return _fail(fmt, "runtime", "; ".join(m.text("en") for m in problems))
    trainer, notes = create(preset, values, device=device)
    if trainer is None:
        message = "; ".join(m.text("en") for m in notes)
        if p.data == "cifar10":
            message += f" (set {CIFAR_ENV} to the folder of the CIFAR-10 python batches)"
        return _fail(fmt, "runtime", message)
    trainer.advance(trainer.step_limit)
    result = summary(trainer)
    print(json.dumps(result) if fmt == "json" else _text(result))
    return 0


def presets_command() -> int:
    """Print each preset's name and one-line description."""
    width = max(map(len, PRESETS))
    for name, p in PRESETS.items():
        print(f"{name:<{width}}  {t(p.description_key, 'en')}")
    return 0
