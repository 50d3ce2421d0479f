"""The one declarative table of training presets and their settings; it feeds the CLI, the page and the URL."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.limits import (
    MAX_BATCH_SIZE,
    MAX_CNN_CHANNELS,
    MAX_HIDDEN_LAYERS,
    MAX_LAYER_WIDTH,
    MAX_PATH_CHARS,
    MAX_TRAIN_POINTS,
    MAX_TRAIN_STEPS,
)
from core.messages import Message


@dataclass(frozen=True)
class Setting:
    """One knob: its name, type, default and allowed range or choices. `live` ones apply without a reset."""

    name: str
    type: str  # "int" | "float" | "bool" | "choice" | "layers" | "path"
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    live: bool = False
    step: float | None = None  # widget increment for floats

    @property
    def label_key(self) -> str:
        """The i18n key of the widget label."""
        return f"tr_set_{self.name}"

    def parse(self, raw: Any) -> Any:
        """A value from a widget, a URL or the CLI -> the typed value; a Message (raised) when out of range."""
        bad = Message("tr_err_value", {"name": self.name, "value": str(raw)[:40], "expect": self.expectation()})
        try:
            value = self._coerce(raw)
        except (TypeError, ValueError, OverflowError):
            raise SettingError(bad) from None
        if self.type in ("int", "float") and not (self.low <= value <= self.high):
            raise SettingError(bad)
        if self.type == "choice" and value not in self.choices:
            raise SettingError(bad)
        return value

    def _coerce(self, raw: Any) -> Any:
        if self.type == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(raw)
        if self.type == "float":
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError
            return value
        if self.type == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in ("true", "false", "1", "0"):
                raise ValueError
            return text in ("true", "1")
        if self.type == "layers":
            return parse_layers(raw)
        if self.type == "path":
            text = str(raw).strip()
            if len(text) > MAX_PATH_CHARS or "\x00" in text:
                raise ValueError
            return text
        return str(raw)

    def to_text(self, value: Any) -> str:
        """The value as the URL / CLI writes it (inverse of `parse`)."""
        if self.type == "layers":
            return ",".join(str(w) for w in value)
        if self.type == "bool":
            return "true" if value else "false"
        return str(value)

    def expectation(self) -> str:
        """What a valid value looks like, for error messages."""
        if self.type in ("int", "float"):
            return f"{self.type} in [{self.low:g}, {self.high:g}]"
        if self.type == "choice":
            return " | ".join(self.choices)
        if self.type == "layers":
            return f"widths like 16,16 (at most {MAX_HIDDEN_LAYERS} layers, each 1..{MAX_LAYER_WIDTH})"
        if self.type == "bool":
            return "true | false"
        return "a folder path"


class SettingError(ValueError):
    """A setting value that is out of range; carries the Message to show."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


def parse_layers(raw: Any) -> tuple[int, ...]:
    """'16, 16' or [16, 16] -> (16, 16); '' -> () (no hidden layer)."""
    if isinstance(raw, (list, tuple)):
        parts = [str(p) for p in raw]
    else:
        parts = [p for p in str(raw).replace(" ", "").split(",") if p]
    if len(parts) > MAX_HIDDEN_LAYERS:
        raise ValueError("too many layers")
    widths = tuple(int(p) for p in parts)
    if any(not 1 <= w <= MAX_LAYER_WIDTH for w in widths):
        raise ValueError("width out of range")
    return widths


# --- Setting builders: one line per setting in each preset row ---------------------------------------------


def seed(default: int = 0) -> Setting:
    return Setting("seed", "int", default, 0, 2**31 - 1)


def steps(default: int) -> Setting:
    return Setting("steps", "int", default, 1, MAX_TRAIN_STEPS, live=True)


def n_points(default: int) -> Setting:
    return Setting("n_points", "int", default, 10, MAX_TRAIN_POINTS)


def noise(default: float, high: float = 1.0) -> Setting:
    return Setting("noise", "float", default, 0.0, high, step=0.01)


def train_ratio(default: float) -> Setting:
    return Setting("train_ratio", "float", default, 0.1, 0.9, step=0.05)


def optimizer(default: str) -> Setting:
    return Setting("optimizer", "choice", default, choices=("sgd", "adam"))


def lr(default: float) -> Setting:
    return Setting("lr", "float", default, 1e-6, 100.0, step=0.001)


def momentum(default: float = 0.0) -> Setting:
    return Setting("momentum", "float", default, 0.0, 0.999, step=0.01)


def weight_decay(default: float = 0.0) -> Setting:
    return Setting("weight_decay", "float", default, 0.0, 1.0, step=0.0001)


def reg(default: str = "none") -> Setting:
    return Setting("reg", "choice", default, choices=("none", "l1", "l2"))


def reg_rate(default: float = 0.0) -> Setting:
    return Setting("reg_rate", "float", default, 0.0, 1.0, step=0.0001)


def batch_size(default: int) -> Setting:
    return Setting("batch_size", "int", default, 0, MAX_BATCH_SIZE)


def shuffle(default: bool = True) -> Setting:
    return Setting("shuffle", "bool", default)


def eval_every(default: int) -> Setting:
    return Setting("eval_every", "int", default, 1, 1_000)


def hidden(default: tuple[int, ...]) -> Setting:
    return Setting("hidden", "layers", default)


def activation(default: str) -> Setting:
    return Setting("activation", "choice", default, choices=("relu", "tanh", "sigmoid"))


def loss(default: str = "cross_entropy") -> Setting:
    return Setting("loss", "choice", default, choices=("cross_entropy", "mse"))


def channels(default: int) -> Setting:
    return Setting("channels", "int", default, 1, MAX_CNN_CHANNELS)


def batch_norm(default: bool) -> Setting:
    return Setting("batch_norm", "bool", default)


def dropout(default: float) -> Setting:
    return Setting("dropout", "float", default, 0.0, 0.9, step=0.05)


def folder(default: str = "") -> Setting:
    return Setting("folder", "path", default)


def max_train(default: int) -> Setting:
    return Setting("max_train", "int", default, 10, 50_000)


def _optim(name: str, rate: float, mom: float = 0.0) -> tuple[Setting, ...]:
    return (optimizer(name), lr(rate), momentum(mom), weight_decay(), reg(), reg_rate())


def _points(shape_steps: int, layers: tuple[int, ...], act: str, rate: float) -> tuple[Setting, ...]:
    return (
        seed(),
        steps(shape_steps),
        n_points(400),
        noise(0.1, 0.5),
        train_ratio(0.5),
        batch_size(0),
        shuffle(),
        eval_every(10),
        hidden(layers),
        activation(act),
        loss(),
        *_optim("adam", rate),
    )


@dataclass(frozen=True)
class Preset:
    """A dataset + model + training recipe, and the settings a user may change."""

    name: str
    task: str  # "regression" | "classification"
    data: str  # "linear" | "linear_nn" | "circle" | "xor" | "gauss" | "spiral" | "digits" | "cifar10"
    model: str  # "line_ab" | "linear_1x1" | "mlp" | "cnn"
    settings: tuple[Setting, ...]
    predict_x: float | None = None  # regressions: the x the CLI and the predict box ask about

    @property
    def description_key(self) -> str:
        """The i18n key of the one-line description."""
        return f"tr_preset_{self.name}"

    def setting(self, name: str) -> Setting:
        """The setting called `name` (KeyError when this preset has none)."""
        for s in self.settings:
            if s.name == name:
                return s
        raise KeyError(name)

    def names(self) -> list[str]:
        return [s.name for s in self.settings]

    def defaults(self) -> dict[str, Any]:
        """Every setting at its default."""
        return {s.name: s.default for s in self.settings}

    def parse(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[Message]]:
        """Defaults overridden by the known keys of `raw`; bad values keep their default and add a Message."""
        values, problems = self.defaults(), []
        for s in self.settings:
            if s.name in raw and raw[s.name] is not None:
                try:
                    values[s.name] = s.parse(raw[s.name])
                except SettingError as e:
                    problems.append(e.message)
        return values, problems

    def to_query(self, values: Mapping[str, Any]) -> dict[str, str]:
        """The settings that differ from their defaults, as URL text (plus the preset name)."""
        out = {"preset": self.name}
        for s in self.settings:
            if s.name in values and values[s.name] != s.default:
                out[s.name] = s.to_text(values[s.name])
        return out

    def fingerprint(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """What a trainer is built from: changing any non-live setting means a fresh trainer."""
        return (self.name, *((s.name, values.get(s.name)) for s in self.settings if not s.live))


_REGRESSION_COMMON = (n_points(100), train_ratio(0.8), eval_every(10), reg(), reg_rate())

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "linear",
            "regression",
            "linear",
            "line_ab",
            (
                seed(),
                steps(1000),
                noise(0.1),
                *_REGRESSION_COMMON,
                optimizer("sgd"),
                lr(0.1),
                momentum(0.0),
                weight_decay(),
            ),
            predict_x=4.0,
        ),
        Preset(
            "linear_nn",
            "regression",
            "linear_nn",
            "linear_1x1",
            (
                seed(),
                steps(300),
                noise(0.25),
                *_REGRESSION_COMMON,
                optimizer("sgd"),
                lr(0.011),
                momentum(0.89),
                weight_decay(),
            ),
            predict_x=4.0,
        ),
        Preset("circle", "classification", "circle", "mlp", _points(300, (8, 8), "tanh", 0.03)),
        Preset("xor", "classification", "xor", "mlp", _points(300, (8, 8), "tanh", 0.03)),
        Preset("gauss", "classification", "gauss", "mlp", _points(100, (4,), "tanh", 0.03)),
        Preset("spiral", "classification", "spiral", "mlp", _points(1500, (32, 32, 32), "tanh", 0.01)),
        Preset(
            "digits",
            "classification",
            "digits",
            "mlp",
            (
                seed(),
                steps(450),
                train_ratio(0.8),
                batch_size(32),
                shuffle(),
                hidden((64, 64)),
                activation("relu"),
                loss(),
                *_optim("sgd", 0.1, 0.9),
            ),
        ),
        Preset(
            "digits_cnn",
            "classification",
            "digits",
            "cnn",
            (
                seed(),
                steps(300),
                train_ratio(0.8),
                batch_size(32),
                shuffle(),
                channels(8),
                batch_norm(True),
                dropout(0.25),
                loss(),
                *_optim("sgd", 0.05, 0.9),
            ),
        ),
        Preset(
            "cifar10",
            "classification",
            "cifar10",
            "mlp",
            (
                folder(),
                seed(),
                steps(2000),
                max_train(10_000),
                batch_size(32),
                shuffle(),
                hidden((512, 512)),
                activation("relu"),
                loss(),
                *_optim("sgd", 0.01, 0.9),
            ),
        ),
    )
}


def get(name: str) -> Preset | None:
    """The preset called `name`, or None."""
    return PRESETS.get(name)
