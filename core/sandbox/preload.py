"""Imported by the forkserver: runs one tiny program so every worker forks with torch's lazy imports done."""

from __future__ import annotations

import gc

from core.sandbox.session import execute

_WARM_UP = """
import numpy as np
from torch.utils.data import DataLoader, TensorDataset
a = torch.tensor([2., 4.], requires_grad=True)
b = nn.Linear(2, 1)
opt = torch.optim.SGD(b.parameters(), lr=0.1)  # the first optimizer imports torch._dynamo (seconds): done here
y = (torch.sigmoid(b(a * a)) - 1) ** 2
y.sum().backward()
opt.step()
for xb, in DataLoader(TensorDataset(torch.from_numpy(np.ones((4, 2), dtype=np.float32))), batch_size=2):
    z = F.cross_entropy(b(xb).repeat(1, 3), torch.tensor([0, 1]))
print(f"{y.sum().item():.3f}")
"""

try:
    execute(_WARM_UP, "cpu", with_graph=True)
except Exception:  # noqa: BLE001  a failed warm-up only costs the first request some time
    pass


GC_YOUNG = 10_000  # objects made (and not freed) between the cycle collector's youngest passes; Python's is 700


def settle() -> None:
    """Called once the forkserver is ready to fork: what is alive now (torch and its ~300k objects) lives as
    long as any worker, so the workers' cycle collector need never walk it. Frozen, a full collection in a
    worker spends no time on it (~0.2 s on this machine) and copies none of the pages it would touch (the
    copy-on-write that fork otherwise shares).

    A worker lives for one request, and what it makes lives as long (a parsed program, its graph, the answer):
    its youngest collections come every GC_YOUNG objects, not every 700: a Quickstart run makes one in five
    runs instead of three or four in each (~2 ms). Cycles a program makes wait at most that many objects to be freed."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])
