"""Models: seed 000's (a, b) line, seed 001's nn.Linear(1, 1), an MLP builder (seed 003's net), a small CNN."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}

# nn.Linear draws its initial weights from the process-wide generator, which every Streamlit session shares:
# building a model holds this lock and a forked, seeded generator, so one session's seed never leaks into another.
_INIT_LOCK = threading.Lock()


@contextmanager
def seeded(seed: int, devices: Sequence[int] = ()) -> Iterator[None]:
    """Run the block with the global torch generator (and those of the given CUDA devices) seeded to `seed`,
    restoring them afterwards."""
    with _INIT_LOCK, torch.random.fork_rng(devices=list(devices)):
        torch.manual_seed(seed)
        yield


class LineAB(nn.Module):
    """Seed 000's model: two raw parameters drawn with torch.randn(1), prediction a + b * x."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.randn(1))
        self.b = nn.Parameter(torch.randn(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a + self.b * x


def linear_1x1() -> nn.Sequential:
    """Seed 001's model: one nn.Linear(1, 1), named `linear` so its weights read `linear.weight`, `linear.bias`."""
    return nn.Sequential(OrderedDict(linear=nn.Linear(1, 1)))


def mlp(input_shape: Sequence[int], hidden: Sequence[int], activation: str, output_dim: int) -> nn.Sequential:
    """Flatten (when inputs are not flat), then Linear + activation per hidden width, then Linear to `output_dim`.

    With relu and widths (512, 512) on 3x32x32 images this is seed 003's CIFAR-10 network.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if len(input_shape) != 1:
        layers["flatten"] = nn.Flatten()
    width = math.prod(input_shape)
    for i, h in enumerate(hidden, start=1):
        layers[f"fc{i}"] = nn.Linear(width, h)
        layers[f"act{i}"] = ACTIVATIONS[activation]()
        width = h
    layers["out"] = nn.Linear(width, output_dim)
    return nn.Sequential(layers)


def cnn(input_shape: Sequence[int], channels: int, batch_norm: bool, dropout: float, output_dim: int) -> nn.Sequential:
    """conv2d (3x3, padding 1) -> relu -> max_pool2d (2) -> [batch_norm] -> dropout -> flatten -> linear.

    On the 8x8 digits: (N, 1, 8, 8) -> (N, channels, 8, 8) -> (N, channels, 4, 4) -> 10 logits."""
    c_in, h, w = input_shape
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        conv=nn.Conv2d(c_in, channels, 3, padding=1), act=nn.ReLU(), pool=nn.MaxPool2d(2)
    )
    if batch_norm:
        layers["bn"] = nn.BatchNorm2d(channels)
    layers["drop"] = nn.Dropout(dropout)
    layers["flatten"] = nn.Flatten()
    layers["out"] = nn.Linear(channels * (h // 2) * (w // 2), output_dim)
    return nn.Sequential(layers)


def random_layers(model: nn.Module) -> bool:
    """Whether a forward pass in training mode draws random numbers (dropout): then each step is seeded."""
    return any(isinstance(m, nn.Dropout) and m.p > 0 for m in model.modules())


def layer_groups(model: nn.Module) -> dict[str, list[str]]:
    """Parameter names grouped per layer ('fc1' -> ['fc1.weight', 'fc1.bias']; 'a' -> ['a'])."""
    groups: dict[str, list[str]] = {}
    for name, _ in model.named_parameters():
        groups.setdefault(name.rsplit(".", 1)[0] if "." in name else name, []).append(name)
    return groups


def n_parameters(model: nn.Module) -> int:
    """Number of scalar parameters."""
    return sum(p.numel() for p in model.parameters())
