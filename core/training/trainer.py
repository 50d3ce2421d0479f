"""The Trainer: advances in bounded chunks, records curves and norms, keeps snapshots so any step can be replayed."""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Sampler

from core.limits import (
    EVAL_CHUNK_ROWS,
    MAX_EVAL_TRAIN_ROWS,
    MAX_REPLAY_STEPS,
    MAX_SNAPSHOT_BYTES,
    MAX_SNAPSHOTS,
    MAX_TRAIN_STEPS,
    SNAPSHOT_STRIDE,
    TRAIN_THREADS,
)
from core.messages import Message
from core.training import datasets, devices, models, weights
from core.training.datasets import Data, collate_batch
from core.training.divergence import Divergence, diagnose
from core.training.presets import PRESETS, Preset


def _cloned(obj: Any) -> Any:
    """A copy of a (model or optimizer) state_dict whose tensors are cloned; far cheaper than copy.deepcopy."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _cloned(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_cloned(v) for v in obj]
    return obj


@contextmanager
def _guard(lock: threading.RLock) -> Iterator[None]:
    """Hold the trainer's lock and run torch on TRAIN_THREADS intra-op threads (a per-thread setting)."""
    with lock:
        before = torch.get_num_threads()
        torch.set_num_threads(TRAIN_THREADS)
        try:
            yield
        finally:
            torch.set_num_threads(before)


class EpochSampler(Sampler[int]):
    """Shuffles with a generator seeded from (seed, epoch), so the batch of any step can be recomputed later."""

    def __init__(self, n: int, seed: int, shuffle: bool) -> None:
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0
        self._cache: tuple[int, torch.Tensor] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def permutation(self, epoch: int) -> torch.Tensor:
        """The order of the rows in `epoch`."""
        if self._cache is None or self._cache[0] != epoch:
            if self.shuffle:
                g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
                self._cache = (epoch, torch.randperm(self.n, generator=g))
            else:
                self._cache = (epoch, torch.arange(self.n))
        return self._cache[1]

    def __iter__(self) -> Iterator[int]:
        return iter(self.permutation(self.epoch).tolist())

    def __len__(self) -> int:
        return self.n


@dataclass
class EvalRecord:
    """Scores of the model at one step (eval mode, no grad)."""

    step: int
    epoch: int
    test_loss: float | None
    accuracy: float | None = None
    per_class: list[float] | None = None
    confusion: list[list[int]] | None = None
    train_loss: float | None = None  # on up to MAX_EVAL_TRAIN_ROWS training rows, only when asked for (costly)
    train_accuracy: float | None = None
    weight_norms: list[float] | None = None  # per layer, in History.layers order


@dataclass
class History:
    """Per step: loss (the objective that was back-propagated), its data part, per-layer gradient norms.

    Per evaluation (`evals`): test scores and per-layer weight norms.
    """

    layers: list[str]
    loss: list[float] = field(default_factory=list)
    data_loss: list[float] = field(default_factory=list)
    grad_norms: list[list[float]] = field(default_factory=list)
    evals: list[EvalRecord] = field(default_factory=list)


@dataclass
class Advance:
    """What one `advance` call did."""

    steps: int
    seconds: float
    finished: bool
    diverged: bool


@dataclass
class Replay:
    """A replayed step: its loss (with graph) and the parameters as they were before that step."""

    step: int
    loss: torch.Tensor
    names: dict[str, torch.Tensor]
    inputs: torch.Tensor
    targets: torch.Tensor


def load_data(preset: Preset, values: Mapping[str, Any]) -> tuple[Data | None, Message | None]:
    """The preset's dataset for these settings (CIFAR-10 only from a folder)."""
    kind, seed = preset.data, int(values["seed"])
    if kind in ("linear", "linear_nn"):
        make = datasets.linear if kind == "linear" else datasets.linear_nn
        return make(values["n_points"], values["noise"], values["train_ratio"], seed), None
    if kind in datasets.SHAPES_2D:
        return datasets.points_2d(kind, values["n_points"], values["noise"], values["train_ratio"], seed), None
    if kind == "digits":
        return datasets.digits(values["train_ratio"], seed), None
    if kind == "cifar10":
        from core.training import cifar

        return cifar.load(values["folder"], values["max_train"])
    return None, Message("tr_err_preset", {"name": preset.name, "known": ", ".join(PRESETS)})


def build_model(preset: Preset, values: Mapping[str, Any], data: Data) -> nn.Module:
    """The preset's model, initialised from the settings' seed."""
    with models.seeded(int(values["seed"])):
        if preset.model == "line_ab":
            return models.LineAB()
        if preset.model == "linear_1x1":
            return models.linear_1x1()
        out = data.n_classes if data.task == "classification" else 1
        if preset.model == "cnn":
            return models.cnn(data.input_shape, values["channels"], values["batch_norm"], values["dropout"], out)
        return models.mlp(data.input_shape, values["hidden"], values["activation"], out)


def _regulariser(kind: str) -> Any:
    if kind == "l1":
        return lambda ps: sum(p.abs().sum() for p in ps)
    if kind == "l2":
        return lambda ps: sum(p.pow(2).sum() for p in ps)
    return None


class Trainer:
    """Trains one preset on one device; every public method holds `lock`, so a page and a download can share it."""

    def __init__(
        self,
        preset: Preset,
        values: Mapping[str, Any],
        data: Data,
        device: str | torch.device = "cpu",
        initial_state: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        self.preset, self.values, self.data = preset, dict(values), data
        self.device, self.device_note = devices.resolve(str(device))
        self.lock = threading.RLock()
        self.step_limit = min(int(self.values.get("steps", MAX_TRAIN_STEPS)), MAX_TRAIN_STEPS)
        n = len(data.train)
        bs = int(self.values.get("batch_size", 0))
        self.batch_size = n if bs <= 0 or bs >= n else bs
        self.full_batch = self.batch_size == n
        self.batches_per_epoch = math.ceil(n / self.batch_size)
        self.eval_every = int(self.values.get("eval_every", 10)) if self.full_batch else self.batches_per_epoch
        self._sampler = EpochSampler(n, int(self.values["seed"]), bool(self.values.get("shuffle", True)))
        self._loader = DataLoader(
            data.train,
            batch_size=self.batch_size,
            sampler=self._sampler,
            collate_fn=collate_batch,  # type: ignore[arg-type]  # batches come stacked
        )
        if self.full_batch:
            x, y = data.train.batch(torch.arange(n))
            self._full = (x.to(self.device), y.to(self.device))
        self._data_finite = all(
            bool(torch.isfinite(x).all()) for x, _ in data.train.chunks(EVAL_CHUNK_ROWS) if x.is_floating_point()
        )
        self._reg = _regulariser(self.values.get("reg", "none"))
        self._reg_rate = float(self.values.get("reg_rate", 0.0))
        self.reset(initial_state)

    # --- construction -----------------------------------------------------------------------------------------

    def _make_optimizer(self, params: Any) -> torch.optim.Optimizer:
        v = self.values
        if v["optimizer"] == "adam":
            return torch.optim.Adam(params, lr=v["lr"], weight_decay=v["weight_decay"])
        return torch.optim.SGD(params, lr=v["lr"], momentum=v["momentum"], weight_decay=v["weight_decay"])

    def reset(self, initial_state: Mapping[str, torch.Tensor] | None = None) -> None:
        """Back to step 0: fresh (or given) weights, optimizer, history and snapshots."""
        with _guard(self.lock):
            self.model = build_model(self.preset, self.values, self.data)
            if initial_state is not None:
                self.model.load_state_dict(initial_state)
            self.model.to(self.device).train()
            self._random = models.random_layers(self.model)  # dropout: each step's forward is seeded (replayable)
            self.optimizer = self._make_optimizer(self.model.parameters())
            groups = models.layer_groups(self.model)
            names = [n for n, _ in self.model.named_parameters()]
            self._params: list[torch.Tensor] = [p for _, p in self.model.named_parameters()]
            self._group_index = [[names.index(p) for p in members] for members in groups.values()]
            self._reg_params = [p for n, p in self.model.named_parameters() if not n.endswith("bias")]
            self.history = History(layers=list(groups))
            self.generation = getattr(self, "generation", 0) + 1  # tells caches that the run started over
            self.step = 0
            self.divergence: Divergence | None = None
            self.last_batch_indices: torch.Tensor | None = None
            self._iter: Iterator[Any] | None = None
            self._snapshots: dict[int, tuple[dict[str, torch.Tensor], dict[str, Any]]] = {}
            self._stride = SNAPSHOT_STRIDE
            per_snapshot = 3 * sum(p.numel() * p.element_size() for p in self._params) + 1
            self._max_snapshots = max(2, min(MAX_SNAPSHOTS, MAX_SNAPSHOT_BYTES // per_snapshot))
            self.evaluate()

    # --- one step -----------------------------------------------------------------------------------------------

    @property
    def epoch(self) -> int:
        """Completed passes over the training set."""
        return self.step // self.batches_per_epoch

    @contextmanager
    def _step_rng(self, step: int) -> Iterator[None]:
        """The random numbers of step `step`'s forward (dropout masks) drawn from a generator seeded by the
        step, so a replay of that step draws the same masks."""
        if not self._random:
            yield
            return
        cuda = [self.device.index or 0] if self.device.type == "cuda" else []
        with models.seeded(int(self.values["seed"]) * 1_000_003 + step + 1, cuda):
            yield

    def _objective(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, reg_params: Sequence[torch.Tensor], step: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(loss to back-propagate, its data part) on one batch, at step `step`."""
        with self._step_rng(step):
            out = model(x)
        data_loss = self._data_loss(out, y)
        if self._reg is None or self._reg_rate == 0.0:
            return data_loss, data_loss
        return data_loss + self._reg_rate * self._reg(reg_params), data_loss

    def _data_loss(self, out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        if self.data.task == "regression":
            return F.mse_loss(out, y, reduction=reduction)
        if self.values.get("loss") == "mse":
            err = (out.softmax(1) - F.one_hot(y, out.shape[1]).to(out.dtype)).pow(2).mean(1)
            return err.mean() if reduction == "mean" else err.sum()
        return F.cross_entropy(out, y, reduction=reduction)

    def batch_indices(self, step: int) -> torch.Tensor:
        """The training rows used at `step` (the same the DataLoader gave)."""
        if self.full_batch:
            return torch.arange(len(self.data.train))
        epoch, b = divmod(step, self.batches_per_epoch)
        return self._sampler.permutation(epoch)[b * self.batch_size : (b + 1) * self.batch_size]

    def _batch_at(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.full_batch:
            return self._full
        x, y = self.data.train.batch(self.batch_indices(step))
        return x.to(self.device), y.to(self.device)

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next batch, from the DataLoader (mini-batches) or the whole training set."""
        if self.full_batch:
            self.last_batch_indices = None
            return self._full
        if self._iter is None:
            epoch, b = divmod(self.step, self.batches_per_epoch)
            self._sampler.set_epoch(epoch)
            self._iter = iter(self._loader)
            for _ in range(b):  # resume mid-epoch (after a divergence): skip the batches already taken
                next(self._iter)
        x, y, idx = next(self._iter)
        self.last_batch_indices = idx
        if (self.step + 1) % self.batches_per_epoch == 0:
            self._iter = None
        return x.to(self.device), y.to(self.device)

    def _snapshot(self) -> None:
        """Keep params + optimizer state before this step when it is on the stride; thin out when over budget."""
        if self.step % self._stride:
            return
        self._snapshots[self.step] = (_cloned(self.model.state_dict()), _cloned(self.optimizer.state_dict()))
        while len(self._snapshots) > self._max_snapshots:
            self._stride *= 2
            self._snapshots = {s: v for s, v in self._snapshots.items() if s % self._stride == 0}

    def _per_layer(self, norms: list[float]) -> list[float]:
        """Per-parameter norms -> per-layer norms (weight and bias together)."""
        return [math.sqrt(sum(norms[i] ** 2 for i in g)) for g in self._group_index]

    def _train_step(self) -> bool:
        """One optimisation step; False (and nothing applied) when the loss or a gradient is not finite."""
        self._snapshot()
        x, y = self._next_batch()
        self.optimizer.zero_grad(set_to_none=True)
        loss, data_loss = self._objective(self.model, x, y, self._reg_params, self.step)
        loss.backward()
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self._params]
        stats = torch.stack([loss.detach(), data_loss.detach(), *torch._foreach_norm(grads)]).tolist()
        grad_norms = self._per_layer(stats[2:])
        if not (math.isfinite(stats[0]) and all(map(math.isfinite, grad_norms))):
            self.divergence = diagnose(
                self.step,
                stats[0],
                dict(zip(self.history.layers, grad_norms, strict=True)),
                self.history.loss,
                float(self.values["lr"]),
                self._data_finite,
            )
            self._iter = None  # the batch is not consumed: a resumed run re-reads it
            return False
        self.optimizer.step()
        h = self.history
        h.loss.append(stats[0])
        h.data_loss.append(stats[1])
        h.grad_norms.append(grad_norms)
        self.step += 1
        return True

    # --- public ---------------------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """The step limit is reached (or training diverged)."""
        return self.step >= self.step_limit or self.divergence is not None

    def set_step_limit(self, steps: int) -> None:
        """Change how many steps training runs for (the live `steps` setting)."""
        self.step_limit = max(1, min(int(steps), MAX_TRAIN_STEPS))
        self.values["steps"] = self.step_limit

    def advance(self, max_steps: int, max_seconds: float = math.inf) -> Advance:
        """Train up to `max_steps` steps, stopping early after `max_seconds`, at the step limit or on divergence."""
        with _guard(self.lock):
            start, done = time.perf_counter(), 0
            while done < max_steps and not self.finished:
                if not self._train_step():
                    break
                done += 1
                if self.step % self.eval_every == 0:
                    self.evaluate()
                if time.perf_counter() - start >= max_seconds:
                    break
            return Advance(done, time.perf_counter() - start, self.finished, self.divergence is not None)

    @torch.no_grad()
    def evaluate(self, train: bool = False) -> EvalRecord:
        """Score the model now (eval mode) on the test set, and with `train` on (part of) the training set too.

        Recorded once per step; the periodic evaluations during training score the test set only.
        """
        with _guard(self.lock):
            h = self.history
            if not (h.evals and h.evals[-1].step == self.step):
                rec = EvalRecord(self.step, self.epoch, None)
                rec.weight_norms = self._per_layer(torch.stack(torch._foreach_norm(self._params)).tolist())
                if self.data.test is not None:
                    test = self._score(self.data.test)
                    rec.test_loss = test["loss"]
                    rec.accuracy, rec.per_class, rec.confusion = (
                        test.get("accuracy"),
                        test.get("per_class"),
                        test.get("confusion"),
                    )
                h.evals.append(rec)
            rec = h.evals[-1]
            if train and rec.train_loss is None:
                scored = self._score(self.data.train, min(len(self.data.train), MAX_EVAL_TRAIN_ROWS))
                rec.train_loss, rec.train_accuracy = scored["loss"], scored.get("accuracy")
            return rec

    @contextmanager
    def _eval_mode(self) -> Iterator[None]:
        """model.eval() for the block, back to model.train() after (training never sees eval mode)."""
        self.model.eval()
        try:
            yield
        finally:
            self.model.train()

    def _score(self, ds: datasets.ArrayDataset, rows: int | None = None) -> dict[str, Any]:
        """Mean data loss (and accuracy, per-class accuracy, confusion matrix) in eval mode, in bounded chunks."""
        with self._eval_mode():
            return self._score_rows(ds, rows)

    def _score_rows(self, ds: datasets.ArrayDataset, rows: int | None) -> dict[str, Any]:
        total, n = 0.0, 0
        c = self.data.n_classes
        confusion = torch.zeros(c * c, dtype=torch.long) if c else None
        for x, y in ds.chunks(EVAL_CHUNK_ROWS):
            if rows is not None and n >= rows:
                break
            if rows is not None:
                x, y = x[: rows - n], y[: rows - n]
            x, y = x.to(self.device), y.to(self.device)
            out = self.model(x)
            total += float(self._data_loss(out, y, reduction="sum"))
            n += len(x)
            if confusion is not None:
                confusion += torch.bincount(y * c + out.argmax(1), minlength=c * c).cpu()
        result: dict[str, Any] = {"loss": total / max(n, 1)}  # regression targets are one number per row
        if confusion is not None:
            m = confusion.view(c, c)
            per_row = m.sum(1).clamp(min=1)
            result.update(
                accuracy=float(m.diag().sum()) / max(n, 1),
                per_class=(m.diag() / per_row).tolist(),
                confusion=m.tolist(),
            )
        return result

    def replay(
        self, k: int, around: Callable[[nn.Module, torch.Tensor, torch.Tensor], Any] | None = None
    ) -> Replay | Message:
        """Step `k` again from the nearest snapshot: its loss (with graph) on its batch, params as before step k.

        `around(model, x, y)`, when given, is a context manager that step k's forward runs in (a value recorder)."""
        with _guard(self.lock):
            if not 0 <= k < self.step:
                return Message("tr_replay_range", {"step": k, "last": self.step - 1})
            start = max(s for s in self._snapshots if s <= k)
            if k - start > MAX_REPLAY_STEPS:
                return Message("tr_replay_far", {"step": k, "n": k - start, "max": MAX_REPLAY_STEPS})
            model = copy.deepcopy(self.model).train()
            state, opt_state = self._snapshots[start]
            model.load_state_dict(state)
            opt = self._make_optimizer(model.parameters())
            opt.load_state_dict(_cloned(opt_state))
            reg_params = [p for n, p in model.named_parameters() if not n.endswith("bias")]
            for j in range(start, k):
                opt.zero_grad(set_to_none=True)
                loss, _ = self._objective(model, *self._batch_at(j), reg_params, j)
                loss.backward()
                opt.step()
            opt.zero_grad(set_to_none=True)
            x, y = self._batch_at(k)
            with around(model, x, y) if around is not None else nullcontext():
                loss, _ = self._objective(model, x, y, reg_params, k)
            return Replay(k, loss, dict(model.named_parameters()), x, y)

    @torch.no_grad()
    def predict_rows(self, rows: list[list[float]]) -> list[Any]:
        """Model outputs for input rows: a value each (regression) or class probabilities (classification)."""
        with _guard(self.lock):
            x = torch.tensor(rows, dtype=torch.float32, device=self.device).view(len(rows), *self.data.input_shape)
            with self._eval_mode():
                out = self.model(x)
            return (out.softmax(1) if self.data.task == "classification" else out[:, 0]).tolist()

    def predict(self, inputs: list[float]) -> Any:
        """Model output for one input row (see `predict_rows`)."""
        return self.predict_rows([inputs])[0]

    @torch.no_grad()
    def decision_grid(self, n: int) -> tuple[list[float], list[float], list[list[float]]]:
        """2-D sets: an n x n grid over the data and P(class 1) at each grid point (rows follow y)."""
        with _guard(self.lock):
            pts = self.data.train.x
            lo, hi = float(pts.min()) - 0.1, float(pts.max()) + 0.1
            axis = torch.linspace(lo, hi, n)
            gy, gx = torch.meshgrid(axis, axis, indexing="ij")
            grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).to(self.device)
            with self._eval_mode():
                p = self.model(grid).softmax(1)[:, 1].view(n, n).cpu()
            return axis.tolist(), axis.tolist(), p.tolist()

    def params(self) -> dict[str, float | list[Any]]:
        """Parameter values: a float for one-element parameters, nested lists otherwise."""
        with _guard(self.lock):
            return {k: (v.item() if v.numel() == 1 else v.tolist()) for k, v in self.model.named_parameters()}

    def export(self, fmt: str) -> bytes:
        """The current weights as safetensors or .pt bytes."""
        with _guard(self.lock):
            return weights.export(self.model, fmt)

    def load_weights(self, data: bytes, filename: str = "", session: str | None = None, on_wait: Any = None) -> Message:
        """Validate uploaded weights (parsed in a sandbox worker, not here); when they fit, restart training from
        them. Returns what happened."""
        state, problem = weights.read(data, self.model, filename, session=session, on_wait=on_wait)
        if problem is not None:
            return problem
        with _guard(self.lock):
            assert state is not None  # read() gives a state or a problem
            self.reset(state)
            return Message("tr_w_loaded", {"n": len(state)})


def create(
    preset_name: str, raw: Mapping[str, Any] | None = None, device: str = "cpu", data: Data | None = None
) -> tuple[Trainer | None, list[Message]]:
    """A Trainer for a preset and raw settings (text or typed), or None and the Messages saying why not.

    Bad setting values fall back to their defaults and are reported; `data` reuses an already loaded dataset.
    """
    preset = PRESETS.get(preset_name)
    if preset is None:
        return None, [Message("tr_err_preset", {"name": preset_name, "known": ", ".join(PRESETS)})]
    values, problems = preset.parse(raw or {})
    if data is None:
        data, problem = load_data(preset, values)
        if problem is not None:
            return None, [*problems, problem]
        assert data is not None  # load_data gives data or a problem
    trainer = Trainer(preset, values, data, device)
    notes = [trainer.device_note] if trainer.device_note is not None else []
    return trainer, [*problems, *notes]
