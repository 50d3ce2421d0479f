# Plain Python classes and closures next to tensors: a running-average meter, an early-stopping helper with
# a __repr__, a class attribute, a property, and a closure that counts calls.
import torch


class AverageMeter:
    def __init__(self, name):
        self.name = name
        self.reset()

    def reset(self):
        self.sum = 0.0
        self.count = 0

    def update(self, value, n=1):
        self.sum += value * n
        self.count += n

    @property
    def avg(self):
        return self.sum / self.count if self.count else 0.0

    def __repr__(self):
        return f"{self.name}: {self.avg:.4f} over {self.count}"


class EarlyStopping:
    patience_default = 2

    def __init__(self, patience=None):
        self.patience = patience if patience is not None else self.patience_default
        self.best = float("inf")
        self.bad_epochs = 0

    def step(self, loss):
        if loss < self.best:
            self.best = loss
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs > self.patience


def make_counter():
    calls = 0

    def counted(t):
        nonlocal calls
        calls += 1
        return t * 2, calls

    return counted


meter = AverageMeter("loss")
for v in torch.tensor([0.9, 0.7, 0.8, 0.4]).tolist():
    meter.update(v, n=2)
print(meter)
stopper = EarlyStopping()
history = [1.0, 0.8, 0.85, 0.9, 0.95, 0.7]
stopped_at = -1
for epoch, loss in enumerate(history):
    if stopper.step(loss):
        stopped_at = epoch
        break
print("stopped at epoch", stopped_at, "best", stopper.best, isinstance(stopper, EarlyStopping))
counter = make_counter()
doubled, n = counter(torch.ones(2))
doubled, n = counter(doubled)
print(doubled, n)
average = meter.avg
print(meter.name, EarlyStopping.patience_default, stopper.patience)
