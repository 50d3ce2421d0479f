"""Training data: the seeds' regressions, TF-Playground 2-D sets, sklearn's 8x8 digits, as indexed torch Datasets."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch.utils.data import Dataset

Transform = Callable[[torch.Tensor], torch.Tensor]


class ArrayDataset(Dataset):
    """Inputs and targets held as tensors; an item is (x, y, index) so a batch knows where it came from.

    `transform` turns stored inputs into model inputs (e.g. uint8 images -> normalised floats), batch-wise.
    `__getitems__` lets a DataLoader fetch a whole batch with one indexing op instead of one per sample.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, transform: Transform | None = None) -> None:
        if len(x) != len(y):
            raise ValueError(f"{len(x)} inputs but {len(y)} targets")
        self.x, self.y, self.transform = x, y, transform

    def __len__(self) -> int:
        return len(self.x)

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        return self.transform(x) if self.transform is not None else x

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        return self._inputs(self.x[i : i + 1])[0], self.y[i], i

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        return self._inputs(self.x[idx]), self.y[idx], idx

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Model inputs and targets at `idx`."""
        return self._inputs(self.x[idx]), self.y[idx]

    def chunks(self, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The whole set as (inputs, targets) pieces of at most `size` rows (bounded memory for evaluation)."""
        return [(self._inputs(self.x[i : i + size]), self.y[i : i + size]) for i in range(0, len(self), size)]


def collate_batch(batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """The DataLoader's collate_fn: `__getitems__` already returns one stacked batch."""
    return batch


@dataclass
class Data:
    """A train/test split plus what the trainer and the page need to know about it."""

    task: str  # "regression" | "classification"
    train: ArrayDataset
    test: ArrayDataset | None
    n_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train._inputs(self.train.x[:1]).shape[1:])


def _split(x: torch.Tensor, y: torch.Tensor, train_ratio: float, g: torch.Generator) -> tuple[ArrayDataset, ...]:
    """Shuffle once, then the first `train_ratio` of the rows train and the rest test."""
    perm = torch.randperm(len(x), generator=g)
    n_train = min(len(x) - 1, max(1, round(train_ratio * len(x))))
    tr, te = perm[:n_train], perm[n_train:]
    return ArrayDataset(x[tr], y[tr]), ArrayDataset(x[te], y[te])


def linear(n_points: int, noise: float, train_ratio: float, seed: int) -> Data:
    """Seed 000: y = 1 + 2x + noise, x uniform in [0, 1), fitted by y = a + b x."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_points, 1, generator=g)
    y = 1 + 2 * x + noise * torch.randn(n_points, 1, generator=g)
    train, test = _split(x, y, train_ratio, g)
    return Data("regression", train, test, description="y = 1 + 2x + noise")


def linear_nn(n_points: int, noise: float, train_ratio: float, seed: int) -> Data:
    """Seed 001: y = 5x + 1.75 + noise, x uniform in [0, 5), so that the prediction at x = 4.0 is about 21.75.

    The seed reports a prediction of 21.75 at x = 4.0 without showing its data; this line makes that number
    the true value there, so the fitted nn.Linear(1, 1) can be checked against it.
    """
    g = torch.Generator().manual_seed(seed)
    x = 5 * torch.rand(n_points, 1, generator=g)
    y = 5 * x + 1.75 + noise * torch.randn(n_points, 1, generator=g)
    train, test = _split(x, y, train_ratio, g)
    return Data("regression", train, test, description="y = 5x + 1.75 + noise")


# --- TF-Playground style 2-D classification, points in about [-1, 1]^2, labels 0/1 -------------


def _uniform(n: int, low: float, high: float, g: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=g)


def _circle(n: int, noise: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Inner disc (r < 0.5) against an outer ring (0.7 < r < 1); noise jitters the point the label is read at."""
    half = n // 2
    r = torch.cat([_uniform(half, 0, 0.5, g), _uniform(n - half, 0.7, 1.0, g)])
    t = _uniform(n, 0, 2 * math.pi, g)
    pts = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
    jitter = _uniform(2 * n, -1, 1, g).view(n, 2) * noise
    label = ((pts + jitter).norm(dim=1) < 0.6).long()
    return pts, label


def _xor(n: int, noise: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Quadrants: class 1 where x1 * x2 > 0; points kept a little away from the axes."""
    pts = _uniform(2 * n, -1, 1, g).view(n, 2)
    pts = pts + 0.06 * torch.sign(pts)
    jitter = _uniform(2 * n, -1, 1, g).view(n, 2) * noise
    noisy = pts + jitter
    label = (noisy[:, 0] * noisy[:, 1] > 0).long()
    return pts, label


def _gauss(n: int, noise: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two Gaussian blobs at (0.4, 0.4) and (-0.4, -0.4); noise widens them."""
    half = n // 2
    std = 0.1 + 0.7 * noise
    label = torch.cat([torch.ones(half, dtype=torch.long), torch.zeros(n - half, dtype=torch.long)])
    centre = torch.where(label[:, None] == 1, torch.tensor([0.4, 0.4]), torch.tensor([-0.4, -0.4]))
    return centre + std * torch.randn(n, 2, generator=g), label


def _spiral(n: int, noise: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaved spirals of 1.75 turns, as in TF Playground."""
    half = n // 2
    pts, labels = [], []
    for label, delta in ((1, 0.0), (0, math.pi)):
        m = half if label == 1 else n - half
        i = torch.arange(m, dtype=torch.float32)
        r = i / m
        t = 1.75 * i / m * 2 * math.pi + delta
        xy = torch.stack([r * torch.sin(t), r * torch.cos(t)], 1)
        pts.append(xy + _uniform(2 * m, -1, 1, g).view(m, 2) * noise * 0.2)
        labels.append(torch.full((m,), label, dtype=torch.long))
    return torch.cat(pts), torch.cat(labels)


SHAPES_2D: dict[str, Callable[[int, float, torch.Generator], tuple[torch.Tensor, torch.Tensor]]] = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
}


def points_2d(shape: str, n_points: int, noise: float, train_ratio: float, seed: int) -> Data:
    """A 2-D two-class set (circle, xor, gauss, spiral) split into train and test."""
    g = torch.Generator().manual_seed(seed)
    x, y = SHAPES_2D[shape](n_points, noise, g)
    train, test = _split(x, y, train_ratio, g)
    return Data("classification", train, test, n_classes=2, class_names=["0", "1"], description=shape)


def digits(train_ratio: float, seed: int) -> Data:
    """scikit-learn's bundled 8x8 digits (1797 images, no download), pixels scaled to [0, 1], shape (1, 8, 8)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(bunch.target, dtype=torch.long)
    train, test = _split(x, y, train_ratio, torch.Generator().manual_seed(seed))
    return Data(
        "classification",
        train,
        test,
        n_classes=10,
        class_names=[str(i) for i in range(10)],
        description="sklearn digits 8x8",
    )
